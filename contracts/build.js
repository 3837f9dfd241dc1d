#!/usr/bin/env node
// Reproducible build of medchain's Solidity contracts.
//
//   node build.js          compile and (re)write out/<Contract>.json and
//                          out/<Contract>.storage.json (solc's storageLayout:
//                          which slot and offset each state variable has, what
//                          tests/privacy_storage.rs reads the chain's storage by)
//   node build.js --check  compile in memory; exit 1 if any artifact in out/ differs
//
// Uses only the pinned npm `solc` package (see package.json / package-lock.json).
// Paths are resolved relative to this file, so it works from any cwd.
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = __dirname;
const OUT_DIR = path.join(ROOT, 'out');
const EXPECTED_SOLC = '0.8.24';
const EVM_VERSION = 'paris'; // the networks do not activate Shanghai: no PUSH0
const OPTIMIZER = { enabled: true, runs: 200 };

// Source unit name (as recorded in metadata) -> contract name. Names are relative
// so metadata does not depend on where the repository is checked out.
const CONTRACTS = [
  { source: 'MedicalRecords.sol', name: 'MedicalRecords' },
  { source: 'PrivateRecords.sol', name: 'PrivateRecords' },
  { source: 'Simple.sol', name: 'Simple' },
];

function loadSolc() {
  let solc;
  try {
    solc = require('solc');
  } catch (e) {
    console.error('build.js: cannot load the `solc` package; run `npm ci` in ' + ROOT);
    process.exit(2);
  }
  const version = solc.version();
  if (!version.startsWith(EXPECTED_SOLC + '+')) {
    console.error(`build.js: expected solc ${EXPECTED_SOLC}, found ${version}; run \`npm ci\``);
    process.exit(2);
  }
  return solc;
}

function compile(solc) {
  const sources = {};
  for (const c of CONTRACTS) {
    // Normalise line endings so a CRLF checkout yields identical metadata hashes.
    const text = fs.readFileSync(path.join(ROOT, c.source), 'utf8').replace(/\r\n/g, '\n');
    sources[c.source] = { content: text };
  }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: OPTIMIZER.enabled, runs: OPTIMIZER.runs },
      evmVersion: EVM_VERSION,
      metadata: { bytecodeHash: 'ipfs' },
      outputSelection: {
        '*': {
          '*': ['abi', 'metadata', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'storageLayout'],
        },
      },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const diagnostics = output.errors || [];
  for (const d of diagnostics) {
    process.stderr.write((d.formattedMessage || d.message) + '\n');
  }
  if (diagnostics.some((d) => d.severity === 'error')) {
    console.error('build.js: compilation failed');
    process.exit(1);
  }
  return output;
}

// Strip the CBOR metadata trailer (its length is the last two bytes) and walk the
// opcodes, skipping PUSH immediates; return offsets of any PUSH0 (0x5f).
function findPush0(hex) {
  const code = Buffer.from(hex.replace(/^0x/, ''), 'hex');
  let end = code.length;
  if (end >= 2) {
    const cborLen = code.readUInt16BE(end - 2);
    if (cborLen + 2 <= end) end -= cborLen + 2;
  }
  const hits = [];
  for (let pc = 0; pc < end; pc++) {
    const op = code[pc];
    if (op === 0x5f) hits.push(pc);
    else if (op >= 0x60 && op <= 0x7f) pc += op - 0x5f;
  }
  return hits;
}

function artifacts(solc, output) {
  const version = solc.version();
  const result = {};
  for (const c of CONTRACTS) {
    const compiled = output.contracts[c.source] && output.contracts[c.source][c.name];
    if (!compiled) {
      console.error(`build.js: ${c.source}:${c.name} missing from compiler output`);
      process.exit(1);
    }
    const meta = JSON.parse(compiled.metadata);
    if (meta.settings.evmVersion !== EVM_VERSION) {
      console.error(`build.js: ${c.name} metadata evmVersion is ${meta.settings.evmVersion}, want ${EVM_VERSION}`);
      process.exit(1);
    }
    const bytecode = '0x' + compiled.evm.bytecode.object;
    const deployedBytecode = '0x' + compiled.evm.deployedBytecode.object;
    for (const [label, hex] of [['bytecode', bytecode], ['deployedBytecode', deployedBytecode]]) {
      const hits = findPush0(hex);
      if (hits.length) {
        console.error(`build.js: ${c.name} ${label} contains PUSH0 at ${hits.join(', ')}`);
        process.exit(1);
      }
    }
    // Fixed key order -> byte-identical output between runs.
    const artifact = {
      contractName: c.name,
      abi: compiled.abi,
      bytecode,
      deployedBytecode,
      compiler: {
        name: 'solc',
        version,
        evmVersion: EVM_VERSION,
        optimizer: { enabled: OPTIMIZER.enabled, runs: OPTIMIZER.runs },
      },
      metadata: compiled.metadata,
    };
    result[path.join(OUT_DIR, c.name + '.json')] = JSON.stringify(artifact, null, 2) + '\n';
    // The storage layout, with the AST node ids (in `astId` and in struct
    // type names) removed so the file changes only when the layout does.
    const layout = JSON.parse(JSON.stringify(compiled.storageLayout), (k, v) => (k === 'astId' ? undefined : v));
    const text = JSON.stringify(layout, null, 2).replace(/(t_(?:struct|enum)\(\w+\))\d+/g, '$1');
    result[path.join(OUT_DIR, c.name + '.storage.json')] = text + '\n';
  }
  return result;
}

function main() {
  const check = process.argv.includes('--check');
  const solc = loadSolc();
  const files = artifacts(solc, compile(solc));
  const rel = (p) => path.relative(process.cwd(), p) || p;

  if (check) {
    const differing = [];
    for (const [file, text] of Object.entries(files)) {
      let current = null;
      try {
        current = fs.readFileSync(file, 'utf8');
      } catch (e) {
        /* missing counts as differing */
      }
      if (current !== text) differing.push(file);
    }
    if (differing.length) {
      for (const f of differing) console.error(`build.js --check: ${rel(f)} is out of date`);
      console.error('build.js --check: run `node contracts/build.js` and commit contracts/out/');
      process.exit(1);
    }
    console.log(`build.js --check: ${Object.keys(files).length} artifacts up to date (solc ${solc.version()})`);
    return;
  }

  fs.mkdirSync(OUT_DIR, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    fs.writeFileSync(file, text);
    console.log(`wrote ${rel(file)}`);
  }
}

main();
