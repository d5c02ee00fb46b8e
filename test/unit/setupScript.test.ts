// scripts/setup.sh and the README's first two commands: root without sudo (containers, CI) and a user with sudo both work.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SETUP = join(ROOT, 'scripts', 'setup.sh');

function which(cmd: string): string {
  const r = spawnSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} on this machine`);
  return r.stdout.trim();
}

/**
 * Runs setup.sh in dry-run mode with a PATH holding only what it needs: the real bash, grep and env, an `id` that reports
 * `uid`, a dpkg-query that finds no package installed (so the install branch runs), and `sudo` only when asked for.
 */
function setup(uid: number, withSudo: boolean) {
  const bin = mkdtempSync(join(tmpdir(), 'lockstep-setup-'));
  for (const cmd of ['bash', 'grep', 'env', 'dirname', 'sha256sum', 'cut', 'cat']) symlinkSync(which(cmd), join(bin, cmd));
  writeFileSync(join(bin, 'id'), `#!${which('bash')}\necho ${uid}\n`, { mode: 0o755 });
  writeFileSync(join(bin, 'dpkg-query'), `#!${which('bash')}\nexit 1\n`, { mode: 0o755 });
  if (withSudo) writeFileSync(join(bin, 'sudo'), `#!${which('bash')}\necho "sudo ran" >&2\nexit 99\n`, { mode: 0o755 });
  const r = spawnSync(join(bin, 'bash'), [SETUP], { encoding: 'utf8', env: { PATH: bin, LOCKSTEP_SETUP_DRY_RUN: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * After npm ci comes the project's Python venv: nothing when .cache/venv is up to date (a checkout that ran setup
 * already), else the venv and its pip installs, never through sudo.
 */
function assertVenvSteps(rest: string[]): void {
  if (rest.length === 0) return;
  assert.deepEqual(rest.map((c) => c.split(' ').slice(0, 3).join(' ')), rest.length === 3
    ? ['+ python3 -m', '+ .cache/venv/bin/pip install', '+ .cache/venv/bin/pip install']
    : ['+ .cache/venv/bin/pip install', '+ .cache/venv/bin/pip install'], rest.join('\n'));
}

describe('scripts/setup.sh elevates only when it must', () => {
  test('as root with no sudo on PATH: apt-get runs directly, then npm ci', () => {
    const r = setup(0, false);
    assert.equal(r.code, 0, r.stderr);
    const commands = r.stdout.split('\n').filter((l) => l.startsWith('+ '));
    assert.deepEqual(commands.slice(0, 3), [
      '+ env DEBIAN_FRONTEND=noninteractive apt-get update -qq',
      '+ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cc65 fceux lua-socket chromium python3-websockets python3-venv libkrb5-dev',
      '+ npm ci --no-audit --no-fund',
    ]);
    assertVenvSteps(commands.slice(3));
  });

  test('as a user with sudo: apt-get goes through sudo, npm ci does not', () => {
    const r = setup(1000, true);
    assert.equal(r.code, 0, r.stderr);
    const commands = r.stdout.split('\n').filter((l) => l.startsWith('+ '));
    assert.match(commands[0], /^\+ sudo env DEBIAN_FRONTEND=noninteractive apt-get update/);
    assert.match(commands[1], /^\+ sudo env DEBIAN_FRONTEND=noninteractive apt-get install /);
    assert.equal(commands[2], '+ npm ci --no-audit --no-fund');
    assertVenvSteps(commands.slice(3));
  });

  test('as a user without sudo: one line saying what to do, exit 1, nothing run', () => {
    const r = setup(1000, false);
    assert.equal(r.code, 1);
    assert.equal(r.stdout.includes('+ '), false, r.stdout);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /needs root: run this script as root, or install sudo/);
  });
});

describe('scripts/setup.sh when pip finds no Python packages', () => {
  test("one line after pip's own error says where pip looked and what to change; exit 1, nothing more installed", () => {
    // A checkout of just what setup.sh reads, and a PATH where the Debian packages are present, npm ci succeeds and the
    // venv's pip finds nothing (as for a user whose pip knows no index on a machine without internet).
    const tree = mkdtempSync(join(tmpdir(), 'lockstep-setup-tree-'));
    mkdirSync(join(tree, 'scripts'));
    mkdirSync(join(tree, 'clients', 'python'), { recursive: true });
    copyFileSync(SETUP, join(tree, 'scripts', 'setup.sh'));
    writeFileSync(join(tree, 'clients', 'python', 'pyproject.toml'), '[project]\nname = "lockstep-client"\n');
    const bin = mkdtempSync(join(tmpdir(), 'lockstep-setup-'));
    for (const cmd of ['bash', 'grep', 'env', 'dirname', 'sha256sum', 'cut', 'cat', 'mkdir', 'chmod']) symlinkSync(which(cmd), join(bin, cmd));
    const sh = `#!${which('bash')}\n`;
    writeFileSync(join(bin, 'id'), `${sh}[ "$1" = -un ] && echo trainer || echo 1000\n`, { mode: 0o755 });
    writeFileSync(join(bin, 'dpkg-query'), `${sh}printf 'install ok installed'\n`, { mode: 0o755 });
    writeFileSync(join(bin, 'npm'), `${sh}echo "npm $*" >> "${join(tree, 'log')}"\n`, { mode: 0o755 });
    // python3 -m venv DIR: a venv whose pip fails as pip does when no index has the package.
    const pip = `${sh}echo "pip $*" >> "${join(tree, 'log')}"; echo "ERROR: No matching distribution found for gymnasium" >&2; exit 1\n`;
    writeFileSync(join(bin, 'python3'), `${sh}mkdir -p "$3/bin" && cat > "$3/bin/pip" <<'PIP'\n${pip}PIP\nchmod +x "$3/bin/pip"\n`, { mode: 0o755 });
    const r = spawnSync(join(bin, 'bash'), [join(tree, 'scripts', 'setup.sh')], { encoding: 'utf8', env: { PATH: bin } });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines[0], 'ERROR: No matching distribution found for gymnasium');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[1], /^setup: pip could not install gymnasium numpy websockets ray torch onnx for user trainer from the package indexes it is configured with/);
    assert.match(lines[1], /"\.cache\/venv\/bin\/pip config list" shows them/);
    assert.match(lines[1], /pip config --user set global\.extra-index-url/);
    // npm ci ran; pip was asked once (the packages), never for lockstep-client; no stamp says the venv is set up.
    const log = readFileSync(join(tree, 'log'), 'utf8').trim().split('\n');
    assert.deepEqual(log.map((l) => l.split(' ').slice(0, 2).join(' ')), ['npm ci', 'pip install']);
    assert.equal(existsSync(join(tree, '.cache', 'venv', '.lockstep-setup')), false);
  });
});

describe("the README's first two commands", () => {
  const block = /```bash\n([\s\S]*?)```/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  const commands = (block?.[1] ?? '').split('\n').filter(Boolean).slice(0, 2).map((l) => l.replace(/\s+#.*$/, ''));
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

  test('are the demo and the test command, parse as shell, need no sudo, and name scripts that exist', () => {
    assert.deepEqual(commands, ['npm ci && npm run demo', 'bash scripts/setup.sh && npm test']);
    for (const c of commands) {
      assert.equal(spawnSync('bash', ['-n', '-c', c]).status, 0, `bash parses ${c}`);
      assert.doesNotMatch(c, /\bsudo\b/);
      for (const [, name] of c.matchAll(/npm run ([\w:-]+)/g)) assert.ok(scripts[name], `package.json script ${name}`);
      if (/\bnpm test\b/.test(c)) assert.ok(scripts.test, 'package.json script test');
      for (const [, file] of c.matchAll(/bash (\S+)/g)) assert.ok(existsSync(join(ROOT, file)), `${file} exists`);
    }
  });
});
