#!/usr/bin/env node
'use strict';
// Command-line access to DIVOC's own signer and verifier (certificate-signer-library
// 2.0.5) and to the exact JSON-LD canonization it signs, all offline.
// Run `node divoc.js --help` for the subcommands.

const fs = require('fs');
const crypto = require('crypto');
const { parseArgs } = require('util');
const JSZip = require('jszip');
const bs58 = require('bs58');
const {
  CONTROLLER_ID,
  DEFAULT_DID,
  PUBKEY_ID,
  canonizationInput,
  canonize,
  loadStack,
} = require('./divoc-stack');

const USAGE = `Usage: node divoc.js COMMAND [options]

Commands:
  verify --in FILE (--pem SPKI.pem | --b58 PUBLIC_BASE58) [--did DID]
      Verify with signer.verifyJSON (DIVOC's verifier path). FILE is the credential
      JSON, a zip holding certificate.json, or "B64:" followed by the base64 zip.
      --pem takes an RSA or Ed25519 SPKI PEM; --b58 a raw Ed25519 public key.
      Prints {"verified":..,"error":..}; exit 0 when verified, 1 otherwise.
  sign --in UNSIGNED.json --out SIGNED.json
       (--pem-priv PRIV.pem --pem-pub PUB.pem | --b58-priv B58 --b58-pub B58) [--did DID]
      Sign with signer.signJSON: RsaSignature2018 for RSA PEM keys,
      Ed25519Signature2018 for base58 keys (or Ed25519 PEM keys).
  nquads --in DOC.json [--proof-options]
      Print the URDNA2015 N-Quads that jsonld-signatures 6.0.0 hashes for DOC
      without its proof. --proof-options prints those of the proof options
      instead (DOC's proof, or DOC itself when it has no proof member).
      On failure prints {"error":..} (plus jsonld.js's "code" and the wrapped
      "cause" when present) and exits 1.
  bench --in UNSIGNED.json --seconds N (--pem-priv --pem-pub | --b58-priv --b58-pub)
      Measure signJSON and verifyJSON throughput in this process, N seconds each.

--did sets CERTIFICATE_DID, the proof's verificationMethod (default ${DEFAULT_DID}).
Context documents come from the npm packages; any other URL is an error.`;

const OPTIONS = {
  in: { type: 'string' },
  out: { type: 'string' },
  pem: { type: 'string' },
  b58: { type: 'string' },
  did: { type: 'string', default: DEFAULT_DID },
  'pem-priv': { type: 'string' },
  'pem-pub': { type: 'string' },
  'b58-priv': { type: 'string' },
  'b58-pub': { type: 'string' },
  'proof-options': { type: 'boolean', default: false },
  seconds: { type: 'string', default: '5' },
  help: { type: 'boolean', default: false },
};

class UsageError extends Error {}

function printJson(value) {
  process.stdout.write(JSON.stringify(value) + '\n');
}

function requireOption(options, name) {
  if (options[name] === undefined) {
    throw new UsageError(`missing required option --${name}`);
  }
  return options[name];
}

function errorMessage(error) {
  if (error === undefined || error === null) {
    return undefined;
  }
  // jsonld-signatures reports failed proofs as an array, vc-js as {errors: [..]}.
  if (Array.isArray(error)) {
    return error.map(errorMessage).join('; ');
  }
  if (Array.isArray(error.errors) && error.errors.length > 0) {
    return error.errors.map(errorMessage).join('; ');
  }
  return String(error.message || error);
}

// Returns {error, code?, cause?}: the message, jsonld.js's error code, and the
// message of the error that jsonld.js wrapped (for example a loader failure).
function describeCanonizationError(error) {
  const description = { error: errorMessage(error) };
  const details = error && error.details;
  if (details && details.code !== undefined) {
    description.code = details.code;
  }
  if (details && details.cause) {
    description.cause = errorMessage(details.cause);
  }
  return description;
}

async function readCredential(file) {
  const bytes = fs.readFileSync(file);
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    return readZippedCredential(bytes);
  }
  const text = bytes.toString('utf8').trim();
  if (text.startsWith('B64:')) {
    return readZippedCredential(Buffer.from(text.slice(4), 'base64'));
  }
  return JSON.parse(text);
}

async function readZippedCredential(zipBytes) {
  const zip = await JSZip.loadAsync(zipBytes);
  const entry = zip.file('certificate.json');
  if (entry === null) {
    throw new Error(`zip has no certificate.json entry (entries: ${Object.keys(zip.files).join(', ')})`);
  }
  return JSON.parse(await entry.async('text'));
}

function rawEd25519Key(keyObject, member) {
  return Buffer.from(keyObject.export({ format: 'jwk' })[member], 'base64url');
}

// Builds the setDocumentLoader config for a verification key given as --pem or --b58.
function verificationConfig(options) {
  const base = {
    CERTIFICATE_DID: options.did,
    CERTIFICATE_PUBKEY_ID: PUBKEY_ID,
    CERTIFICATE_CONTROLLER_ID: CONTROLLER_ID,
  };
  if (options.b58 !== undefined) {
    return { ...base, keyType: 'ED25519', publicKeyBase58: options.b58 };
  }
  const pem = fs.readFileSync(requireOption(options, 'pem'), 'utf8');
  const key = crypto.createPublicKey(pem);
  if (key.asymmetricKeyType === 'rsa') {
    return { ...base, keyType: 'RSA', publicKeyPem: pem };
  }
  if (key.asymmetricKeyType === 'ed25519') {
    return { ...base, keyType: 'ED25519', publicKeyBase58: bs58.encode(rawEd25519Key(key, 'x')) };
  }
  throw new UsageError(`unsupported key type ${key.asymmetricKeyType} in --pem; expected an RSA or Ed25519 public key`);
}

// Builds the setDocumentLoader config for a key pair. crypto-ld 3.9 expects an
// Ed25519 private key as base58 of the 32-byte seed followed by the public key.
function signingConfig(options) {
  const base = {
    CERTIFICATE_DID: options.did,
    CERTIFICATE_PUBKEY_ID: PUBKEY_ID,
    CERTIFICATE_CONTROLLER_ID: CONTROLLER_ID,
  };
  if (options['b58-priv'] !== undefined) {
    return {
      ...base,
      keyType: 'ED25519',
      privateKeyBase58: options['b58-priv'],
      publicKeyBase58: requireOption(options, 'b58-pub'),
    };
  }
  const privatePem = fs.readFileSync(requireOption(options, 'pem-priv'), 'utf8');
  const publicPem = fs.readFileSync(requireOption(options, 'pem-pub'), 'utf8');
  const privateKey = crypto.createPrivateKey(privatePem);
  if (privateKey.asymmetricKeyType === 'rsa') {
    return { ...base, keyType: 'RSA', privateKeyPem: privatePem, publicKeyPem: publicPem };
  }
  if (privateKey.asymmetricKeyType === 'ed25519') {
    const publicKey = rawEd25519Key(crypto.createPublicKey(publicPem), 'x');
    const seed = rawEd25519Key(privateKey, 'd');
    return {
      ...base,
      keyType: 'ED25519',
      privateKeyBase58: bs58.encode(Buffer.concat([seed, publicKey])),
      publicKeyBase58: bs58.encode(publicKey),
    };
  }
  throw new UsageError(`unsupported key type ${privateKey.asymmetricKeyType} in --pem-priv; expected an RSA or Ed25519 private key`);
}

function silenceLibraryLogging() {
  // signer.js logs every document lookup with console.log and each signed
  // credential with console.info. This CLI writes its output to process.stdout.
  console.log = () => {};
  console.info = () => {};
}

async function runVerify(options) {
  const file = requireOption(options, 'in');
  let credential;
  try {
    credential = await readCredential(file);
  } catch (error) {
    printJson({ verified: false, error: `cannot read a credential from ${file}: ${errorMessage(error)}` });
    return 1;
  }
  const stack = loadStack();
  silenceLibraryLogging();
  stack.signer.setDocumentLoader(stack.contextMap, verificationConfig(options));
  let result;
  try {
    result = await stack.signer.verifyJSON(credential);
  } catch (error) {
    result = { verified: false, error };
  }
  const verified = Boolean(result && result.verified);
  const output = { verified };
  if (!verified) {
    output.error = errorMessage(result && result.error) || 'verification failed without an error message';
  }
  printJson(output);
  return verified ? 0 : 1;
}

async function runSign(options) {
  const unsigned = JSON.parse(fs.readFileSync(requireOption(options, 'in'), 'utf8'));
  const outFile = requireOption(options, 'out');
  const config = signingConfig(options);
  const stack = loadStack();
  silenceLibraryLogging();
  stack.signer.setDocumentLoader(stack.contextMap, config);
  const signed = await stack.signer.signJSON(unsigned);
  fs.writeFileSync(outFile, JSON.stringify(signed) + '\n');
  printJson({ out: outFile, proofType: signed.proof.type, created: signed.proof.created });
  return 0;
}

async function runNquads(options) {
  let nquads;
  try {
    const doc = JSON.parse(fs.readFileSync(requireOption(options, 'in'), 'utf8'));
    const stack = loadStack();
    const input = canonizationInput(doc, { proofOptions: options['proof-options'] });
    nquads = await canonize(stack, input);
  } catch (error) {
    if (error instanceof UsageError) {
      throw error;
    }
    printJson(describeCanonizationError(error));
    return 1;
  }
  process.stdout.write(nquads);
  return 0;
}

// Runs `operation` repeatedly for at least `seconds` and returns operations per second.
async function measureRate(operation, seconds) {
  const budgetNs = BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let count = 0;
  let elapsed = 0n;
  while (elapsed < budgetNs) {
    await operation();
    count += 1;
    elapsed = process.hrtime.bigint() - start;
  }
  return { count, perSecond: count / (Number(elapsed) / 1e9) };
}

async function runBench(options) {
  const unsigned = JSON.parse(fs.readFileSync(requireOption(options, 'in'), 'utf8'));
  const seconds = Number(options.seconds);
  if (!(seconds > 0)) {
    throw new UsageError(`--seconds must be a positive number, got "${options.seconds}"`);
  }
  const config = signingConfig(options);
  const stack = loadStack();
  silenceLibraryLogging();
  stack.signer.setDocumentLoader(stack.contextMap, config);

  // signJSON appends the proof to the object it is given, so every call gets a copy.
  const signed = await stack.signer.signJSON(structuredClone(unsigned));
  const check = await stack.signer.verifyJSON(signed);
  if (!check.verified) {
    throw new Error(`verification of the freshly signed credential failed: ${errorMessage(check.error)}`);
  }
  const signRate = await measureRate(() => stack.signer.signJSON(structuredClone(unsigned)), seconds);
  const verifyRate = await measureRate(() => stack.signer.verifyJSON(signed), seconds);
  printJson({
    key_type: config.keyType,
    proof_type: signed.proof.type,
    sign_per_sec: Number(signRate.perSecond.toFixed(1)),
    verify_per_sec: Number(verifyRate.perSecond.toFixed(1)),
    sign_ops: signRate.count,
    verify_ops: verifyRate.count,
    seconds_each: seconds,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  });
  return 0;
}

const COMMANDS = { verify: runVerify, sign: runSign, nquads: runNquads, bench: runBench };

async function main(argv) {
  const { values: options, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  if (options.help || positionals.length === 0) {
    process.stdout.write(USAGE + '\n');
    return options.help ? 0 : 2;
  }
  const command = COMMANDS[positionals[0]];
  if (command === undefined || positionals.length > 1) {
    throw new UsageError(`unknown command "${positionals.join(' ')}"; expected one of ${Object.keys(COMMANDS).join(', ')}`);
  }
  return command(options);
}

main(process.argv.slice(2)).then(
  code => {
    process.exitCode = code;
  },
  error => {
    if (error instanceof UsageError || error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`divoc.js: ${error.message}\nRun \`node divoc.js --help\` for usage.\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`divoc.js: ${error.stack || error}\n`);
    process.exitCode = 1;
  },
);
