'use strict';
// Loads DIVOC's signing stack from node_modules with every network fetch disabled.
//
// Versions this module checks: certificate-signer-library 2.0.5, which pulls
// jsonld-signatures 6.0.0, jsonld 2.0.2 and rdf-canonize 1.2.0. Each package is
// resolved from the package that depends on it, so the jsonld instance used here is
// the one jsonld-signatures 6.0.0 canonizes with.

const { createRequire } = require('module');

const EXPECTED_VERSIONS = {
  'certificate-signer-library': '2.0.5',
  'jsonld-signatures': '6.0.0',
  jsonld: '2.0.2',
  'rdf-canonize': '1.2.0',
  'vaccination-context': '1.1.0',
  'security-context': '4.0.0',
};

// DIVOC certificate_signer's default DID and key id, and the controller id of its
// docker-compose setup. The key id and the controller id are not part of the signed data.
const DEFAULT_DID = 'did:india';
const PUBKEY_ID = 'https://example.com/i/india';
const CONTROLLER_ID = 'https://cowin.gov.in/';

class OfflineLoaderError extends Error {
  constructor(url) {
    super(`no offline copy of the document at "${url}"; this harness never fetches from the network`);
    this.name = 'OfflineLoaderError';
  }
}

function rejectNetworkFetch() {
  return async url => {
    throw new OfflineLoaderError(url);
  };
}

function checkVersion(requireFrom, name) {
  const { version } = requireFrom(`${name}/package.json`);
  if (version !== EXPECTED_VERSIONS[name]) {
    throw new Error(`${name} ${version} is installed but ${EXPECTED_VERSIONS[name]} is expected; run \`npm ci\` with the committed package-lock.json`);
  }
  return version;
}

// Builds the map from context URL to the documents DIVOC ships in its npm packages.
function buildContextMap(requireFrom) {
  const { contexts: securityContexts } = requireFrom('security-context');
  const { vaccinationContext, vaccinationContextV2 } = requireFrom('vaccination-context');
  const credentialsV1 = requireFrom('certificate-signer-library/credentials.json');
  return {
    'https://www.w3.org/2018/credentials/v1': credentialsV1,
    // certificate-signer-library's signer.js maps this URL to the same document.
    'https://www.w3.org/2018/credentials#': credentialsV1,
    'https://w3id.org/security/v1': securityContexts.get('https://w3id.org/security/v1'),
    'https://w3id.org/security/v2': securityContexts.get('https://w3id.org/security/v2'),
    'https://cowin.gov.in/credentials/vaccination/v1': vaccinationContext,
    'https://cowin.gov.in/credentials/vaccination/v2': vaccinationContextV2,
    'https://divoc.dev/credentials/vaccination/v1': vaccinationContext,
  };
}

/**
 * Loads the stack and returns the library objects plus the offline loader.
 * Throws when an installed version differs from EXPECTED_VERSIONS.
 */
function loadStack() {
  const requireHere = createRequire(__filename);
  const signerPath = requireHere.resolve('certificate-signer-library/signer');
  const requireFromSigner = createRequire(signerPath);
  const requireFromJsigs = createRequire(requireFromSigner.resolve('jsonld-signatures'));
  const requireFromJsonld = createRequire(requireFromJsigs.resolve('jsonld'));

  const versions = {
    'certificate-signer-library': checkVersion(requireHere, 'certificate-signer-library'),
    'jsonld-signatures': checkVersion(requireFromSigner, 'jsonld-signatures'),
    jsonld: checkVersion(requireFromJsigs, 'jsonld'),
    'rdf-canonize': checkVersion(requireFromJsonld, 'rdf-canonize'),
    'vaccination-context': checkVersion(requireHere, 'vaccination-context'),
    'security-context': checkVersion(requireHere, 'security-context'),
  };

  const jsonld = requireFromJsigs('jsonld');
  if (requireFromSigner('jsonld') !== jsonld) {
    throw new Error('certificate-signer-library and jsonld-signatures resolve different jsonld copies; reinstall with `npm ci`');
  }
  // signer.js falls back to jsonld's node document loader (an HTTP fetch) for
  // unknown URLs and captures that loader when it is first required, so the
  // replacement must happen before the require below.
  jsonld.documentLoaders.node = rejectNetworkFetch;
  jsonld.documentLoader = rejectNetworkFetch();

  const jsigs = requireFromSigner('jsonld-signatures');
  const strictExpansionMap = requireFromJsigs('./expansionMap');
  const signer = requireHere('certificate-signer-library/signer');
  const contextMap = buildContextMap(requireHere);

  const offlineLoader = async url => {
    const document = contextMap[url];
    if (document === undefined) {
      throw new OfflineLoaderError(url);
    }
    return { contextUrl: null, documentUrl: url, document };
  };

  return {
    versions,
    jsonld,
    jsigs,
    signer,
    strictExpansionMap,
    contextMap,
    // jsonld-signatures wraps every caller-supplied loader the same way, so its
    // built-in security v1/v2 copies take precedence.
    documentLoader: jsigs.extendContextLoader(offlineLoader),
  };
}

/**
 * Returns the input jsonld-signatures 6.0.0 canonizes for `doc`. By default that is
 * a shallow copy without `proof`, as with compactProof=false. With `proofOptions` it
 * is the proof options: the doc's `proof` (or the doc itself when it has none) without
 * jws/signatureValue/proofValue, with the security v2 context in front.
 */
function canonizationInput(doc, { proofOptions = false } = {}) {
  if (!proofOptions) {
    const copy = { ...doc };
    delete copy.proof;
    return copy;
  }
  const source = doc.proof !== undefined ? doc.proof : doc;
  const proof = { '@context': 'https://w3id.org/security/v2', ...source };
  delete proof.jws;
  delete proof.signatureValue;
  delete proof.proofValue;
  return proof;
}

/**
 * Canonizes `input` with the options LinkedDataSignature.canonize in
 * jsonld-signatures 6.0.0 passes, and the strict expansion map that ProofSet
 * installs for sign and verify. Resolves to the URDNA2015 N-Quads string.
 */
function canonize(stack, input) {
  return stack.jsonld.canonize(input, {
    algorithm: 'URDNA2015',
    format: 'application/n-quads',
    documentLoader: stack.documentLoader,
    expansionMap: stack.strictExpansionMap,
    skipExpansion: undefined,
    useNative: undefined,
  });
}

module.exports = {
  CONTROLLER_ID,
  DEFAULT_DID,
  EXPECTED_VERSIONS,
  PUBKEY_ID,
  canonizationInput,
  canonize,
  loadStack,
};
