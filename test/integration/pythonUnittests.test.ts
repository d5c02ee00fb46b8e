// Runs the Python client's unittest suites under the project venv as part of npm test: the fake-bridge suite
// (clients/python/tests) and the real one (clients/python/tests_real: gymnasium.make on the built CLI).
// The Ray example's suite runs from rayExample.test.ts (its own file: its own time budget).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { VENV_PYTHON, requirePythonSetup, runSuite } from './venvPython';

const ROOT = join(__dirname, '..', '..');

test('clients/python unittest suite (fake bridge) passes under the venv', () => {
  runSuite('clients/python/tests', 120_000);
});

test('clients/python real suite (gymnasium.make on lockstep serve) passes under the venv', () => {
  runSuite('clients/python/tests_real', 240_000);
});

test('pip installs clients/python as a package (offline): typed, requires-python, the [gym] extra, ids registered on import', () => {
  requirePythonSetup();
  const target = mkdtempSync(join(tmpdir(), 'lockstep-pkg-'));
  try {
    const pip = spawnSync(VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--retries', '0', '--no-deps',
      '--no-build-isolation', '--target', target, join(ROOT, 'clients', 'python')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(pip.status, 0, pip.stderr);
    const probe = [
      'import json, sys, importlib.metadata as md, os',
      'import lockstep_client, gymnasium',
      'meta = md.metadata("lockstep-client")',
      'print(json.dumps({"file": lockstep_client.__file__, "typed": os.path.exists(os.path.join(os.path.dirname(lockstep_client.__file__), "py.typed")),',
      '  "requires": meta["Requires-Python"], "extras": md.requires("lockstep-client"), "catch": "lockstep/Catch-v0" in gymnasium.registry,',
      '  "rom": "lockstep/Rom-v0" in gymnasium.registry, "python": list(sys.version_info[:2])}))',
    ].join('\n');
    // -I: only the installed copy (not the source tree on a PYTHONPATH); the venv's site-packages give gymnasium.
    const r = spawnSync(VENV_PYTHON, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(target)})\n${probe}`], { cwd: tmpdir(), encoding: 'utf8', timeout: 60_000, env: { ...process.env, PYTHONPATH: '' } });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { file: string; typed: boolean; requires: string; extras: string[]; catch: boolean; rom: boolean; python: number[] };
    assert.ok(got.file.startsWith(target), `imported the installed copy: ${got.file}`);
    assert.equal(got.typed, true);
    assert.equal(got.requires, '>=3.11');
    assert.ok(got.python[0] === 3 && got.python[1] >= 11, `the venv runs a Python requires-python allows: ${got.python.join('.')}`);
    assert.ok(got.extras.some((e) => /^gymnasium.*extra == "gym"/.test(e)), got.extras.join('; '));
    assert.equal(got.catch && got.rom, true);
  } finally {
    rmSync(target, { recursive: true, force: true });
  }
});
