// Runs the UI tests (test/e2e/*.test.ts) against real VS Code (code-server + headless Chromium) under one hard deadline, and leaves no code-server or Chromium behind.
//
// Usage: node --import tsx scripts/vscode/runUi.ts [--skip-build] [--update-docs] [--grep PATTERN] [FILE...]
//   --skip-build   don't run `node esbuild.mjs` first (the development-extension test loads dist/ from the checkout)
//   --update-docs  after a fully passing run, copy the screenshots the README embeds into docs/images/
//   --grep         only tests whose name matches (node --test-name-pattern)
//   FILE...        test files (default: every test/e2e/*.test.ts)
// It packages the .vsix once (scripts/packageVsix.ts) for the install test, runs the files one at a time with Node's
// test runner, prints the spec report and ends with the line `N passed, N failed`. Screenshots: test-results/ui/.
// Needs `bash scripts/vscode/setup.sh` once. Exit code: 0 all passed; 1 a failure; 2 set-up problem; 124 deadline; 130 interrupted.
//
// Environment: LOCKSTEP_UI_DEADLINE_MS (default 600000) for the whole run; LOCKSTEP_UI_VSIX tests that .vsix instead of
// packaging one; LOCKSTEP_UI_EXTENSION_DIR loads the development extension from another build; the rest as for the
// stand-in (docs/testing.md).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, UsageError, findInstall, chromiumPath, killQuietly, pidsCarryingMarker, positiveIntEnv, sleep } from './codeServerHost.mjs';
import { packageVsix } from '../packageVsix';
import { countResults } from './tapSummary';
import { DEADLINE_VAR, VSIX_VAR, UI_RESULTS_SUBDIR } from '../../test/e2e/uiTestEnv';
import { UI_RUN_VAR } from '../../test/e2e/vscodeUi';

const E2E_DIR = join(REPO_ROOT, 'test/e2e');
const INSTALL_TEST = 'installVsix.test.ts';
/** Screenshots the README embeds (test-results/ui/<name>.png -> docs/images/<name>.png). */
export const README_SCREENSHOTS = ['panel-screen', 'panel-buffer', 'desync-breakpoint', 'walkthrough', 'debug-rom-screen', 'panel-metrics', 'panel-timeline', 'panel-agent-view'];
/** Time kept back from the test processes for killing and sweeping when the deadline comes. */
const CLEANUP_MARGIN_MS = 20_000;
const EXIT = { ok: 0, failed: 1, setup: 2, timeout: 124, interrupted: 130 } as const;

const say = (msg: string) => process.stderr.write(`[runUi] ${msg}\n`);

interface Options { skipBuild: boolean; updateDocs: boolean; grep?: string; files: string[] }

function readOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { 'skip-build': { type: 'boolean', default: false }, 'update-docs': { type: 'boolean', default: false }, grep: { type: 'string' } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const files = parsed.positionals.length > 0
    ? parsed.positionals.map((f) => resolve(f))
    : readdirSync(E2E_DIR).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(E2E_DIR, f));
  for (const f of files) if (!existsSync(f)) throw new UsageError(`test file not found: ${f}`);
  if (files.length === 0) throw new UsageError(`no *.test.ts files in ${E2E_DIR}`);
  return { skipBuild: parsed.values['skip-build'] ?? false, updateDocs: parsed.values['update-docs'] ?? false, grep: parsed.values.grep, files };
}

async function killGroup(pid: number): Promise<void> {
  killQuietly(-pid, 'SIGTERM');
  for (let i = 0; i < 30 && existsSync(`/proc/${pid}`); i++) await sleep(100);
  killQuietly(-pid, 'SIGKILL');
}

/** Kills whatever a test left carrying this run's marker (code-server, Chromium and their children). */
async function sweepRun(runId: string): Promise<number> {
  const left = pidsCarryingMarker(`${runId}-`, { prefix: true });
  for (const pid of left) killQuietly(pid, 'SIGTERM');
  for (let i = 0; i < 30 && pidsCarryingMarker(`${runId}-`, { prefix: true }).length > 0; i++) await sleep(100);
  for (const pid of pidsCarryingMarker(`${runId}-`, { prefix: true })) killQuietly(pid, 'SIGKILL');
  for (let i = 0; i < 30 && pidsCarryingMarker(`${runId}-`, { prefix: true }).length > 0; i++) await sleep(100);
  return left.length;
}

function updateDocs(resultsDir: string): void {
  const out = join(REPO_ROOT, 'docs/images');
  mkdirSync(out, { recursive: true });
  for (const name of README_SCREENSHOTS) {
    const src = join(resultsDir, `${name}.png`);
    if (!existsSync(src)) throw new Error(`--update-docs: ${relative(REPO_ROOT, src)} was not produced by this run`);
    copyFileSync(src, join(out, `${name}.png`));
    say(`docs/images/${name}.png updated`);
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  const options = readOptions(process.argv.slice(2));
  const deadlineMs = positiveIntEnv('LOCKSTEP_UI_DEADLINE_MS', 600_000);
  const deadline = started + deadlineMs;
  findInstall();
  chromiumPath();
  const runId = `ui${randomBytes(6).toString('hex')}`;
  const scratch = mkdtempSync(join(tmpdir(), 'lockstep-ui-run-'));
  const resultsDir = join(process.env.LOCKSTEP_VSCODE_RESULTS_DIR ? resolve(process.env.LOCKSTEP_VSCODE_RESULTS_DIR) : join(REPO_ROOT, 'test-results'), UI_RESULTS_SUBDIR);
  // Screenshots of an earlier run must not pass for this one's.
  rmSync(resultsDir, { recursive: true, force: true });
  let child: ReturnType<typeof spawn> | undefined;
  let stopping: string | undefined;
  const onSignal = (sig: string) => {
    stopping = sig;
    say(`${sig}: stopping the tests, code-server and Chromium`);
    if (child?.pid) void killGroup(child.pid);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);

  try {
    if (!options.skipBuild) {
      const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 120_000 });
      if (r.status !== 0) throw new Error(`'node esbuild.mjs' failed (${r.status ?? r.signal})`);
    }
    // Scratch folders the tests make go under this run's own, so even a killed test leaves none behind.
    const testTmp = join(scratch, 'tmp');
    mkdirSync(testTmp);
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: testTmp, [UI_RUN_VAR]: runId, [DEADLINE_VAR]: String(deadline - CLEANUP_MARGIN_MS) };
    const given = process.env[VSIX_VAR];
    if (given) {
      if (!existsSync(given)) throw new UsageError(`${VSIX_VAR}=${given}: no such file`);
      say(`testing the given ${given}`);
    } else if (options.files.some((f) => f.endsWith(INSTALL_TEST))) {
      const vsix = join(scratch, 'lockstep-nes.vsix');
      const t = Date.now();
      packageVsix({ root: REPO_ROOT, outFile: vsix });
      env[VSIX_VAR] = vsix;
      say(`packaged the .vsix in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    say(`built in ${((Date.now() - started) / 1000).toFixed(1)} s; running ${options.files.map((f) => relative(REPO_ROOT, f)).join(', ')}`);

    const tapFile = join(scratch, 'results.tap');
    const args = [
      '--import', 'tsx', '--test', '--test-concurrency=1',
      '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
      ...(options.grep ? [`--test-name-pattern=${options.grep}`] : []),
      ...options.files,
    ];
    child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
    const spawned = child;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await new Promise<'exited' | 'timeout'>((res) => {
      spawned.on('exit', () => res('exited'));
      timer = setTimeout(() => res('timeout'), Math.max(0, deadline - CLEANUP_MARGIN_MS / 2 - Date.now()));
    });
    clearTimeout(timer);
    if (outcome === 'timeout' && spawned.pid) {
      say(`hard deadline of ${deadlineMs} ms (LOCKSTEP_UI_DEADLINE_MS) reached: killing the tests`);
      await killGroup(spawned.pid);
    }
    const swept = await sweepRun(runId);
    if (swept > 0) say(`killed ${swept} process(es) a test left behind`);
    const left = pidsCarryingMarker(`${runId}-`, { prefix: true });
    if (left.length > 0) say(`warning: still alive after SIGKILL: ${left.join(' ')}`);

    const counts = countResults(existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '');
    if (outcome === 'timeout') counts.failed = Math.max(1, counts.failed);
    const shots = existsSync(resultsDir) ? readdirSync(resultsDir).filter((f) => f.endsWith('.png')) : [];
    say(`${shots.length} screenshot(s) in ${relative(REPO_ROOT, resultsDir)}/; ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
    if (options.updateDocs && counts.failed === 0 && !stopping) updateDocs(resultsDir);
    else if (options.updateDocs) say('--update-docs: not updating docs/images after a failed run');
    console.log(`${counts.passed} passed, ${counts.failed} failed`);
    if (stopping) return EXIT.interrupted;
    if (outcome === 'timeout') return EXIT.timeout;
    return counts.failed === 0 && counts.passed > 0 ? EXIT.ok : EXIT.failed;
  } finally {
    if (child?.pid && existsSync(`/proc/${child.pid}`)) await killGroup(child.pid);
    await sweepRun(runId);
    rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const usage = err instanceof UsageError;
    say(`${usage ? 'error' : 'failed'}: ${err instanceof Error ? (usage ? err.message : err.stack) : String(err)}`);
    console.log('0 passed, 1 failed');
    process.exit(usage ? EXIT.setup : EXIT.failed);
  },
);
