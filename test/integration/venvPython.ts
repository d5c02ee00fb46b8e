// The project venv's Python (made by scripts/setup.sh: gymnasium, numpy, websockets, ray, torch, onnx, lockstep-client).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
export const VENV_PYTHON = join(ROOT, '.cache', 'venv', 'bin', 'python');
/** The built CLI the Python env starts (`npm run build` makes it; npm test builds before the Node tests). */
export const BUILT_CLI = join(ROOT, 'dist', 'cli.js');

/** Throws a clear error when the venv or the built CLI is missing, instead of a confusing spawn failure. */
export function requirePythonSetup(): void {
  if (!existsSync(VENV_PYTHON)) throw new Error(`no project venv at ${VENV_PYTHON}: run scripts/setup.sh`);
  if (!existsSync(BUILT_CLI)) throw new Error(`no built CLI at ${BUILT_CLI}: run npm run build`);
}

/** Runs one unittest directory under the venv with the built CLI; fails on any failure, a skip, or no tests at all. */
export function runSuite(dir: string, timeoutMs: number): void {
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
