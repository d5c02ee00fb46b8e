// scripts/runNodeTests.mjs + scripts/hangReporter.mjs: a hung test or a file that never exits fails the run and is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'hang');

function run(files: string[], timeoutMs: string, base = FIXTURES): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, LOCKSTEP_TEST_FILE_TIMEOUT_MS: timeoutMs };
  // Inside `node --test` this variable would make the nested runner report to ours instead of running on its own.
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'runNodeTests.mjs'), ...files.map((f) => join(base, f))], {
    cwd: ROOT, env, encoding: 'utf8', timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a test that never ends and a file that never exits: exit 1, each named with what was still running; the good file passes', () => {
  const r = run(['passes.ts', 'hangsInATest.ts', 'leavesATimer.ts'], '2000');
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const hangs = r.stderr.split('\n').filter((l) => l.startsWith('[hang] '));
  assert.equal(hangs.length, 2, r.stderr);
  assert.match(hangs.find((l) => l.includes('hangsInATest.ts')) ?? '', /timed out after 2000ms; still running: a suite › never ends$/);
  assert.match(hangs.find((l) => l.includes('leavesATimer.ts')) ?? '', /every test in it had ended, so its process did not exit/);
  assert.match(r.stdout, /✔ adds/);
  assert.match(r.stdout, /ℹ pass 3\b/); // ends, starts a timer..., adds
  assert.match(r.stdout, /ℹ cancelled 2\b/); // the two files
});

test('files that end: exit 0 and no [hang] line', () => {
  const r = run(['passes.ts'], '20000');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stderr, /\[hang\]/);
});

test('a bad LOCKSTEP_TEST_FILE_TIMEOUT_MS is refused by name, exit 2', () => {
  const r = run(['passes.ts'], '5s');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /LOCKSTEP_TEST_FILE_TIMEOUT_MS must be a positive whole number of milliseconds, not "5s"/);
});

test('a folder stands for every *.test.ts under it, sub-folders included; a folder without any is refused by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-runtests-'));
  try {
    mkdirSync(join(dir, 'deep', 'er'), { recursive: true });
    const body = (name: string) => `import { test } from 'node:test';\ntest('${name}', () => {});\n`;
    writeFileSync(join(dir, 'top.test.ts'), body('top runs'));
    writeFileSync(join(dir, 'deep', 'er', 'nested.test.ts'), body('nested runs'));
    writeFileSync(join(dir, 'deep', 'helper.ts'), 'throw new Error("a helper is not a test file");\n');
    mkdirSync(join(dir, 'empty'));
    const r = run(['.'], '20000', dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✔ top runs/);
    assert.match(r.stdout, /✔ nested runs/);
    assert.match(r.stdout, /ℹ pass 2\b/);
    const none = run(['empty'], '20000', dir);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no \*\.test\.ts files under .*empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
