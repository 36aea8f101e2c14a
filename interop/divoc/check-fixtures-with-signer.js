#!/usr/bin/env node
'use strict';
// Confirms that the fixture corpus equals what DIVOC's signer itself canonizes:
// signs every case's document (without proof) with signer.signJSON and an RSA key,
// records the N-Quads jsonld-signatures hashes, and compares them with NAME.nq.
// Error cases must make signJSON fail with the message in NAME.error.txt, and every
// signed document must pass signer.verifyJSON.
//
//   node check-fixtures-with-signer.js --fixtures DIR --pem-priv RSA.pem --pem-pub RSA.pub.pem
//
// Exits 1 and lists the cases that differ.

const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');
const { CONTROLLER_ID, DEFAULT_DID, PUBKEY_ID, loadStack } = require('./divoc-stack');

// Wraps jsonld.canonize so each result is appended to `calls`.
function recordCanonizeCalls(jsonld, calls) {
  const canonize = jsonld.canonize;
  jsonld.canonize = async function recordedCanonize(input, options) {
    const nquads = await canonize.call(this, input, options);
    calls.push(nquads);
    return nquads;
  };
}

async function checkCase(stack, calls, fixtures, name, entry) {
  const doc = JSON.parse(fs.readFileSync(path.join(fixtures, `${name}.json`), 'utf8'));
  delete doc.proof;
  calls.length = 0;
  let signed;
  try {
    signed = await stack.signer.signJSON(doc);
  } catch (error) {
    if (entry.expect !== 'error') {
      return `signJSON failed: ${error.message}`;
    }
    const expected = fs.readFileSync(path.join(fixtures, `${name}.error.txt`), 'utf8').trimEnd();
    return error.message === expected ? null : `signJSON failed with "${error.message}", expected "${expected}"`;
  }
  if (entry.expect === 'error') {
    return 'signJSON succeeded but the fixture expects an error';
  }
  // LinkedDataSignature.createVerifyData canonizes the proof options first, then the document.
  if (calls.length !== 2) {
    return `expected 2 canonize calls during signing, saw ${calls.length}`;
  }
  const expected = fs.readFileSync(path.join(fixtures, `${name}.nq`), 'utf8');
  if (calls[1] !== expected) {
    return 'the document N-Quads hashed by signJSON differ from the fixture';
  }
  const verification = await stack.signer.verifyJSON(signed);
  return verification.verified ? null : 'verifyJSON rejected the freshly signed document';
}

async function main() {
  const { values: options } = parseArgs({
    options: {
      fixtures: { type: 'string' },
      'pem-priv': { type: 'string' },
      'pem-pub': { type: 'string' },
    },
  });
  for (const name of ['fixtures', 'pem-priv', 'pem-pub']) {
    if (options[name] === undefined) {
      throw new Error(`missing required option --${name}`);
    }
  }
  const stack = loadStack();
  // signer.js logs every document lookup and every signed credential.
  console.log = () => {};
  console.info = () => {};
  stack.signer.setDocumentLoader(stack.contextMap, {
    keyType: 'RSA',
    privateKeyPem: fs.readFileSync(options['pem-priv'], 'utf8'),
    publicKeyPem: fs.readFileSync(options['pem-pub'], 'utf8'),
    CERTIFICATE_DID: DEFAULT_DID,
    CERTIFICATE_PUBKEY_ID: PUBKEY_ID,
    CERTIFICATE_CONTROLLER_ID: CONTROLLER_ID,
  });
  const calls = [];
  recordCanonizeCalls(stack.jsonld, calls);

  const index = JSON.parse(fs.readFileSync(path.join(options.fixtures, 'index.json'), 'utf8'));
  const failures = [];
  for (const [name, entry] of Object.entries(index)) {
    const problem = await checkCase(stack, calls, options.fixtures, name, entry);
    if (problem !== null) {
      failures.push(`${name}: ${problem}`);
    }
  }
  if (failures.length > 0) {
    throw new Error(`${failures.length} of ${Object.keys(index).length} cases differ:\n${failures.join('\n')}`);
  }
  process.stdout.write(`${Object.keys(index).length} cases match signJSON and verify\n`);
}

main().catch(error => {
  process.stderr.write(`check-fixtures-with-signer.js: ${error.message}\n`);
  process.exitCode = 1;
});
