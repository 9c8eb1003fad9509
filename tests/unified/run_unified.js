#!/usr/bin/env node
'use strict';
// Unified test format conformance runner for eddy.
//
//   node tests/unified/run_unified.js --eddy build/tools/eddy/eddy --suite crud
//       [--spec-dir ../shared/spec-tests] [--expected-failures tests/unified/expected_failures.txt]
//       [--filter SUBSTRING] [--results OUT.tsv] [--uri mongodb://...] [--verbose]
//
// Starts `eddy serve --port 0 --enable-test-commands` on loopback with a temp data dir (unless
// --uri names a running server), runs every <spec-dir>/<suite>/*.json in place and prints
// "N passed, N failed, N skipped" plus one line per failure. With --expected-failures, exits 1
// only for failures not listed there (regressions); listed tests that now pass are printed.

const fs = require('fs');
const path = require('path');
const { EJSON, MongoClient } = require('./driver');
const { EddyServer } = require('./server');
const { TestRunner, ServerInfo } = require('./runner');

function parseArgs(argv) {
  const args = { suite: null, eddy: null, uri: null, filter: null, results: null, verbose: false,
                 specDir: path.resolve(__dirname, '..', '..', '..', 'shared', 'spec-tests'),
                 expectedFailures: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--suite': args.suite = next(); break;
      case '--eddy': args.eddy = next(); break;
      case '--uri': args.uri = next(); break;
      case '--spec-dir': args.specDir = next(); break;
      case '--expected-failures': args.expectedFailures = next(); break;
      case '--filter': args.filter = next(); break;
      case '--results': args.results = next(); break;
      case '--verbose': args.verbose = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!args.suite) throw new Error('--suite is required (crud or change-streams)');
  if (!args.eddy && !args.uri) throw new Error('--eddy BINARY or --uri URI is required');
  return args;
}

// expected_failures.txt: `suite<TAB>file<TAB>description<TAB>reason`, '#' comments.
function loadExpectedFailures(file, suite) {
  const map = new Map();
  if (!file) return map;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, n) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const parts = line.split('\t');
    if (parts.length < 4) {
      throw new Error(`${file}:${n + 1}: expected 4 tab-separated fields (suite, file, ` +
          'description, reason)');
    }
    if (parts[0] === suite) map.set(`${parts[1]}\t${parts[2]}`, parts.slice(3).join('\t'));
  });
  return map;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const suiteDir = path.join(args.specDir, args.suite);
  if (!fs.existsSync(suiteDir)) {
    console.log(`spec tests not found at ${suiteDir}: skipping`);
    return 77;
  }
  const expected = loadExpectedFailures(args.expectedFailures, args.suite);
  const files = fs.readdirSync(suiteDir).filter(f => f.endsWith('.json')).sort();

  let server = null;
  let uri = args.uri;
  if (!uri) {
    server = new EddyServer(args.eddy, ['--sync', 'off']);
    await server.start();
    uri = server.uri;
  }
  const internal = new MongoClient(uri, { serverSelectionTimeoutMS: 10000 });
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const regressions = [];
  const fixed = [];
  const rows = [];
  try {
    await internal.connect();
    const info = await ServerInfo.load(internal);
    console.log(`${args.suite}: server ${info.version}, topology ${info.topology}, ` +
        `${files.length} files from ${suiteDir}`);
    const runner = new TestRunner(info, internal, uri);
    for (const name of files) {
      const file = EJSON.parse(fs.readFileSync(path.join(suiteDir, name), 'utf8'), { relaxed: true });
      if (args.filter) {
        file.tests = file.tests.filter(t => `${name} ${t.description}`.includes(args.filter));
        if (file.tests.length === 0) continue;
      }
      const results = await runner.runFile(file);
      for (const r of results) {
        counts[r.status]++;
        const key = `${name}\t${r.test.description}`;
        rows.push([args.suite, name, r.test.description, r.status, r.reason || ''].join('\t'));
        if (r.status === 'failed') {
          const listed = expected.has(key);
          console.log(`FAIL${listed ? ' (expected)' : ''} ${name} :: ${r.test.description} :: ` +
              r.reason);
          if (!listed) regressions.push(key);
        } else {
          if (r.status === 'passed' && expected.has(key)) fixed.push(key);
          if (args.verbose) {
            console.log(`${r.status.toUpperCase()} ${name} :: ${r.test.description}` +
                (r.reason ? ` :: ${r.reason}` : ''));
          }
        }
      }
      if (server && !server.alive()) {
        console.log(`eddy serve died during ${name}: ${server.log.join('').slice(-2000)}`);
        regressions.push(`${name}\t<server crashed>`);
        break;
      }
    }
  } finally {
    await internal.close().catch(() => {});
    if (server) await server.stop();
  }
  if (args.results) fs.writeFileSync(args.results, rows.join('\n') + '\n');
  for (const key of fixed) {
    console.log(`NOW PASSING (remove from expected_failures.txt): ${key.replace('\t', ' :: ')}`);
  }
  if (args.expectedFailures) {
    for (const r of regressions) {
      console.log(`REGRESSION (not in expected_failures.txt): ${r.replace('\t', ' :: ')}`);
    }
  }
  console.log(`${args.suite}: ${counts.passed} passed, ${counts.failed} failed, ` +
      `${counts.skipped} skipped`);
  if (args.expectedFailures) return regressions.length === 0 ? 0 : 1;
  return counts.failed === 0 ? 0 : 1;
}

main().then(code => process.exit(code), err => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(2);
});
