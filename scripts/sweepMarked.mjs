// Lists and kills every process whose environment holds NAME=VALUE (given as one argument): what a test run left
// running (.ci/run, after the tests or when their time is up). SIGTERM first, SIGKILL after 3 s. Prints one line per
// process, or nothing. Exit 0 either way; 2 for a bad argument.
//
// Usage: node scripts/sweepMarked.mjs NAME=VALUE
import { readFileSync } from 'node:fs';
import { killQuietly, pidsCarryingMarker, sleep } from './vscode/codeServerHost.mjs';

const entry = process.argv[2] ?? '';
const eq = entry.indexOf('=');
if (eq <= 0) {
  process.stderr.write(`usage: node scripts/sweepMarked.mjs NAME=VALUE (got ${JSON.stringify(entry)})\n`);
  process.exit(2);
}
const variable = entry.slice(0, eq);
const marked = () => pidsCarryingMarker(entry.slice(eq + 1), { variable });

function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+$/, '').replaceAll('\0', ' ').slice(0, 200);
  } catch {
    return '(exited)';
  }
}

const left = marked();
if (left.length > 0) {
  console.log(`sweep: still running with ${variable} set; killing them:`);
  for (const pid of left) console.log(`  ${pid} ${commandLine(pid)}`);
  for (const pid of left) killQuietly(pid, 'SIGTERM');
  for (let i = 0; i < 30 && marked().length > 0; i++) await sleep(100);
  for (const pid of marked()) killQuietly(pid, 'SIGKILL');
}
