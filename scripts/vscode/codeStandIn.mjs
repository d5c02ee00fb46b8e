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
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  CODE_SERVER_VERSION, UsageError, chromiumPath, findInstall, isolatedEnv, launchChromium, pidsCarryingMarker, positiveIntEnv,
  remoteUri, resultsDir, runCodeServerCli, sleep, stamp, startCodeServer, sweep, waitUntilReaped, workbenchUrl, writeSettings,
} from './codeServerHost.mjs';

// Flags test-electron always adds for Electron; meaningless for a server + browser.
const IGNORED_FLAGS = new Set([
  '--no-sandbox', '--disable-gpu-sandbox', '--disable-updates', '--skip-welcome', '--skip-release-notes',
  '--disable-workspace-trust', '--disable-gpu', '--new-window',
]);
const EXIT_SETUP = 2;
const EXIT_TIMEOUT = 124;
const EXIT_INTERRUPTED = 130;

const say = (msg) => process.stderr.write(`[stand-in] ${msg}\n`);

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

/** Runs code-server's own CLI for extension management, e.g. installing a .vsix. */
async function runCli(args, install, scratch, marker, deadlineMs) {
  if (!args.extensionsDir) throw new UsageError(`${args.cli[0]} needs --extensions-dir DIR (a run-private default would be deleted at exit)`);
  const env = isolatedEnv(scratch, marker);
  const dirs = { userDataDir: args.userDataDir ?? join(scratch, 'user-data'), extensionsDir: args.extensionsDir };
  const { code, pid } = await runCodeServerCli(install, env, dirs, args.cli, deadlineMs, say);
  await sweep(marker, pid, say);
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
  chromiumPath(); // fails early, before code-server starts, when Chromium is missing

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
  const { child, port } = await startCodeServer(install, env, dirs, join(scratch, 'code-server.log'), { verbose, deadline, say });
  state.codeServerPid = child.pid;
  say(`code-server ${CODE_SERVER_VERSION} on 127.0.0.1:${port} (${Date.now() - started} ms)`);

  const context = await launchChromium(join(scratch, 'browser-profile'), env, deadline);
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

  const url = workbenchUrl(port, folder, [
    ...args.devPaths.map((p) => ['extensionDevelopmentPath', remoteUri(port, p)]),
    ['extensionTestsPath', remoteUri(port, args.testsPath)],
  ]);
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
      await sweep(marker, state.codeServerPid, say);
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
