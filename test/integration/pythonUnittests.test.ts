// Runs the Python client's unittest suites under the project venv as part of npm test: the fake-bridge suite
// (clients/python/tests) and the real one (clients/python/tests_real: gymnasium.make on the built CLI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BUILT_CLI, VENV_PYTHON, requirePythonSetup } from './venvPython';

const ROOT = join(__dirname, '..', '..');

function runSuite(dir: string, timeoutMs: number): void {
  requirePythonSetup();
  const r = spawnSync(VENV_PYTHON, ['-m', 'unittest', 'discover', '-s', dir, '-v'], {
    cwd: ROOT, encoding: 'utf8', timeout: timeoutMs,
    env: { ...process.env, PYTHONPATH: join(ROOT, 'clients', 'python'), PYTHONDONTWRITEBYTECODE: '1', LOCKSTEP_CLI: BUILT_CLI },
  });
  assert.equal(r.error, undefined, String(r.error));
  const ran = /Ran (\d+) tests?/.exec(r.stderr);
  assert.ok(ran && Number(ran[1]) > 0, `the suite ran tests:\n${r.stderr.slice(-2000)}`);
  assert.doesNotMatch(r.stderr, /skipped/, 'no test is skipped');
  assert.equal(r.status, 0, r.stderr.slice(-6000));
}

test('clients/python unittest suite (fake bridge) passes under the venv', () => {
  runSuite('clients/python/tests', 120_000);
});

test('clients/python real suite (gymnasium.make on lockstep serve) passes under the venv', () => {
  runSuite('clients/python/tests_real', 240_000);
});
