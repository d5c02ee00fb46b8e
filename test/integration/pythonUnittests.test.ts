// Runs the Python client's own unittest suite (Debian's python3 with python3-websockets) as part of npm test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

test('clients/python unittest suite passes', () => {
  const r = spawnSync('/usr/bin/python3', ['-m', 'unittest', 'discover', '-s', 'clients/python/tests', '-v'], {
    cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, PYTHONPATH: join(ROOT, 'clients', 'python'), PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(r.error, undefined, String(r.error));
  const ran = /Ran (\d+) tests?/.exec(r.stderr);
  assert.ok(ran && Number(ran[1]) > 0, `the suite ran tests:\n${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 0, r.stderr.slice(-4000));
});
