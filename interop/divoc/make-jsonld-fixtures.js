#!/usr/bin/env node
'use strict';
// Generates the JSON-LD canonization fixture corpus from jsonld-fixture-cases.js
// with DIVOC's stack (jsonld 2.0.2 + rdf-canonize 1.2.0 under jsonld-signatures
// 6.0.0's options), or with --check compares the files already in the folder.
//
//   node make-jsonld-fixtures.js --out FIXTURE_DIR [--check]
//
// Writes per case NAME.json (input), NAME.nq (canonical N-Quads) or NAME.error.txt
// (the error message and a newline), and index.json. Nothing is written unless the
// Appendix A hashes are reproduced.

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { parseArgs } = require('util');
const { canonizationInput, canonize, loadStack } = require('./divoc-stack');
const { cases } = require('./jsonld-fixture-cases');

// SHA-256 values published in Appendix A of the DIVOC 1.24 reimplementation notes.
const APPENDIX_A_SHA256 = {
  'appendix-a-v2': '7548288542e69ef74f2a0b31dacb524556dc0d286249bd4bdf14f09f47af7574',
  'appendix-a-v3': 'f001e9febd3b8545533a93b36d3dd3e7163fb6ecd6288851ad34c00bf84ea5b9',
  'proof-options-rsa': '49e479f69eed4fb8f0ba2441e58bfc621ec08757854fc0c21306abc191d53d2f',
  'proof-options-ed25519': 'dafdd6d6ef1e4392acb17977faac44f208615173c4672d6c05a563121cb42479',
};

const GENERATED_SUFFIXES = ['.json', '.nq', '.error.txt'];

function sha256Hex(text) {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

function inputText(testCase, outDir) {
  if (testCase.doc !== undefined) {
    return JSON.stringify(testCase.doc, null, 2) + '\n';
  }
  if (testCase.text !== undefined) {
    return testCase.text;
  }
  if (testCase.fromFile) {
    return fs.readFileSync(path.join(outDir, `${testCase.name}.json`), 'utf8');
  }
  if (testCase.proofOf !== undefined) {
    const signed = JSON.parse(fs.readFileSync(path.join(outDir, `${testCase.proofOf}.json`), 'utf8'));
    const options = canonizationInput(signed, { proofOptions: true });
    return JSON.stringify(options, null, 2) + '\n';
  }
  throw new Error(`case ${testCase.name} has no input`);
}

async function runCase(stack, testCase, outDir) {
  const text = inputText(testCase, outDir);
  const result = { name: testCase.name, description: testCase.description, text, files: {} };
  if (!testCase.fromFile) {
    result.files[`${testCase.name}.json`] = text;
  }
  try {
    const nquads = await canonize(stack, canonizationInput(JSON.parse(text)));
    result.files[`${testCase.name}.nq`] = nquads;
    result.entry = {
      expect: 'nquads',
      sha256: sha256Hex(nquads),
      quads: nquads === '' ? 0 : nquads.split('\n').length - 1,
    };
  } catch (error) {
    result.files[`${testCase.name}.error.txt`] = `${error.message}\n`;
    result.entry = { expect: 'error', sha256: null };
    const code = error.details && error.details.code;
    if (code !== undefined) {
      result.entry.error_code = code;
    }
  }
  result.entry.description = testCase.description;
  return result;
}

function checkAppendixHashes(results) {
  const problems = [];
  for (const [name, expected] of Object.entries(APPENDIX_A_SHA256)) {
    const result = results.find(r => r.name === name);
    const actual = result && result.entry.sha256;
    if (actual !== expected) {
      problems.push(`${name}: SHA-256 ${actual} differs from the Appendix A value ${expected}`);
    }
  }
  return problems;
}

function buildIndex(results) {
  const index = {};
  for (const result of [...results].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    index[result.name] = result.entry;
  }
  return JSON.stringify(index, null, 2) + '\n';
}

// Lists files that look generated but belong to no case.
function staleFiles(outDir, expectedFiles) {
  return fs.readdirSync(outDir).filter(file =>
    GENERATED_SUFFIXES.some(suffix => file.endsWith(suffix)) && file !== 'index.json' && !expectedFiles.has(file));
}

async function main() {
  const { values: options } = parseArgs({
    options: { out: { type: 'string' }, check: { type: 'boolean', default: false } },
  });
  if (options.out === undefined) {
    throw new Error('missing required option --out FIXTURE_DIR');
  }
  const outDir = path.resolve(options.out);
  const names = new Set();
  for (const testCase of cases) {
    if (names.has(testCase.name)) {
      throw new Error(`duplicate case name ${testCase.name}`);
    }
    names.add(testCase.name);
  }

  const stack = loadStack();
  const results = [];
  for (const testCase of cases) {
    results.push(await runCase(stack, testCase, outDir));
  }
  const appendixProblems = checkAppendixHashes(results);
  if (appendixProblems.length > 0) {
    throw new Error(`Appendix A hashes not reproduced, nothing written:\n${appendixProblems.join('\n')}`);
  }

  const files = { 'index.json': buildIndex(results) };
  for (const result of results) {
    Object.assign(files, result.files);
  }
  const expectedFiles = new Set(Object.keys(files));
  for (const result of results) {
    expectedFiles.add(`${result.name}.json`);
  }
  const stale = staleFiles(outDir, expectedFiles);

  if (options.check) {
    const mismatches = Object.entries(files)
      .filter(([file, content]) => !fs.existsSync(path.join(outDir, file)) || fs.readFileSync(path.join(outDir, file), 'utf8') !== content)
      .map(([file]) => file);
    if (mismatches.length > 0 || stale.length > 0) {
      throw new Error(`fixtures differ from a fresh generation: changed or missing ${mismatches.join(', ') || '-'}; stale ${stale.join(', ') || '-'}`);
    }
    process.stdout.write(`${results.length} cases match\n`);
    return;
  }

  for (const file of stale) {
    fs.unlinkSync(path.join(outDir, file));
  }
  for (const [file, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(outDir, file), content);
  }
  const errors = results.filter(r => r.entry.expect === 'error').length;
  process.stdout.write(`${results.length} cases written to ${outDir} (${results.length - errors} N-Quads, ${errors} errors; removed ${stale.length} stale files)\n`);
}

main().catch(error => {
  process.stderr.write(`make-jsonld-fixtures.js: ${error.message}\n`);
  process.exitCode = 1;
});
