// Runs test files with Node's test runner (TypeScript through tsx, spec report) so that a hang fails instead of
// stalling the run: each file gets at most LOCKSTEP_TEST_FILE_TIMEOUT_MS (default 300000, several times the slowest
// file), and scripts/hangReporter.mjs names what was still running in a file that ran out of time.
//
// Files run at least two at a time (Node's default is one fewer than the cores: one at a time on a 2-core machine):
// most of a file's time is spent waiting on FCEUX, Chromium, child processes and sockets, so a second file overlaps
// that wait. A --test-concurrency given on the command line wins.
//
// Usage: node scripts/runNodeTests.mjs [node --test options] FILE|FOLDER...   (exit code: the test runner's)
// A FOLDER stands for every *.test.ts under it, sub-folders included (test/unit mirrors src/'s folders).
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const DEFAULT_FILE_TIMEOUT_MS = 300_000;

const raw = process.env.LOCKSTEP_TEST_FILE_TIMEOUT_MS;
const timeoutMs = raw === undefined || raw === '' ? DEFAULT_FILE_TIMEOUT_MS : Number(raw);
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
  process.stderr.write(`runNodeTests: LOCKSTEP_TEST_FILE_TIMEOUT_MS must be a positive whole number of milliseconds, not ${JSON.stringify(raw)}\n`);
  process.exit(2);
}
/** The test files under a folder, sorted, so a run's order does not depend on the file system. */
function testFilesUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => join(dir, name))
    .sort();
}
const targets = [];
for (const arg of process.argv.slice(2)) {
  let isDir = false;
  try {
    isDir = !arg.startsWith('-') && statSync(arg).isDirectory();
  } catch {
    // not a path: an option or a file the test runner reports itself
  }
  if (!isDir) {
    targets.push(arg);
    continue;
  }
  const files = testFilesUnder(arg);
  if (files.length === 0) {
    process.stderr.write(`runNodeTests: no *.test.ts files under ${arg}\n`);
    process.exit(2);
  }
  targets.push(...files);
}
const hangReporter = fileURLToPath(new URL('./hangReporter.mjs', import.meta.url));
const concurrency = process.argv.some((a) => a.startsWith('--test-concurrency'))
  ? []
  : [`--test-concurrency=${Math.max(2, availableParallelism() - 1)}`];
const args = [
  '--import', 'tsx', '--test', `--test-timeout=${timeoutMs}`, ...concurrency,
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  `--test-reporter=${hangReporter}`, '--test-reporter-destination=stderr',
  ...targets,
];
const child = spawn(process.execPath, args, { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0)));
