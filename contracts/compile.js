#!/usr/bin/env node
// Compiles AnchorRegistry.sol with the pinned npm `solc` (standard-JSON
// interface) into build/AnchorRegistry.json, the artifact the Python ledger
// package deploys and compares against on-chain code.
//
//   node compile.js          write the artifact
//   node compile.js --check  recompile and exit 1 if the committed artifact
//                            differs (abi, bytecode, deployedBytecode, source
//                            hash or compiler version)
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const solc = require('solc');

const CONTRACT = 'AnchorRegistry';
const SOURCE_NAME = `${CONTRACT}.sol`;
const HERE = __dirname;
const ARTIFACT = path.join(HERE, 'build', `${CONTRACT}.json`);

// evmVersion "shanghai": ganache 7.9 does not implement the cancun opcodes
// (MCOPY, TSTORE...) that solc 0.8.30 would otherwise be free to emit.
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'shanghai',
  outputSelection: {
    [SOURCE_NAME]: { [CONTRACT]: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
  },
};

function pinnedSolcVersion() {
  const pkg = JSON.parse(fs.readFileSync(path.join(HERE, 'package.json'), 'utf8'));
  return pkg.devDependencies.solc;
}

function compile() {
  const source = fs.readFileSync(path.join(HERE, SOURCE_NAME), 'utf8');
  const input = { language: 'Solidity', sources: { [SOURCE_NAME]: { content: source } }, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const problems = output.errors || [];
  for (const problem of problems) process.stderr.write(problem.formattedMessage + '\n');
  if (problems.some((p) => p.severity === 'error')) throw new Error('compilation failed');

  const version = solc.version();
  if (!version.startsWith(pinnedSolcVersion() + '+')) {
    throw new Error(`installed solc ${version} is not the pinned ${pinnedSolcVersion()}: run npm ci`);
  }
  const contract = output.contracts[SOURCE_NAME][CONTRACT];
  const { outputSelection, ...settings } = SETTINGS;
  return {
    contractName: CONTRACT,
    abi: contract.abi,
    bytecode: '0x' + contract.evm.bytecode.object,
    deployedBytecode: '0x' + contract.evm.deployedBytecode.object,
    compiler: { name: 'solc', version },
    settings,
    sourceSha256: crypto.createHash('sha256').update(source, 'utf8').digest('hex'),
  };
}

function serialise(artifact) {
  return JSON.stringify(artifact, null, 2) + '\n';
}

function check(fresh) {
  if (!fs.existsSync(ARTIFACT)) {
    process.stderr.write(`missing ${ARTIFACT}: run node compile.js\n`);
    return 1;
  }
  const committed = JSON.parse(fs.readFileSync(ARTIFACT, 'utf8'));
  const fields = ['abi', 'bytecode', 'deployedBytecode', 'sourceSha256', 'compiler'];
  const differing = fields.filter((f) => JSON.stringify(committed[f]) !== JSON.stringify(fresh[f]));
  if (differing.length) {
    process.stderr.write(`${ARTIFACT} is stale (${differing.join(', ')} differ): run node compile.js\n`);
    return 1;
  }
  process.stdout.write(`${path.relative(process.cwd(), ARTIFACT)} matches ${SOURCE_NAME} (solc ${fresh.compiler.version})\n`);
  return 0;
}

function main(argv) {
  const fresh = compile();
  if (argv.includes('--check')) return check(fresh);
  fs.mkdirSync(path.dirname(ARTIFACT), { recursive: true });
  fs.writeFileSync(ARTIFACT, serialise(fresh));
  process.stdout.write(`wrote ${path.relative(process.cwd(), ARTIFACT)}\n`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 2;
}
