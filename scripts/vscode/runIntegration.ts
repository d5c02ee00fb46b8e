// Builds the extension and the in-host test suite, then runs the suite in real VS Code (code-server) via @vscode/test-electron.
//
// Usage: node --import tsx scripts/vscode/runIntegration.ts [--skip-build] [--workspace DIR] [--grep PATTERN]
// Needs `bash scripts/vscode/setup.sh` once. Exit code: 0 when every in-host test passed.
// Without --workspace the workbench opens a scratch copy of test/fixtures/vscode-workspace with the DAP test agents
// (test/fixtures/dap/*.js) in its agents/ folder; the copy is deleted afterwards.
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const standIn = join(repoRoot, 'scripts/vscode/codeStandIn.mjs');
const suiteSrc = join(repoRoot, 'test/integration/vscode');
const suiteOut = join(repoRoot, 'out/test/vscode');
const fixtureWorkspace = join(repoRoot, 'test/fixtures/vscode-workspace');
const testAgents = join(repoRoot, 'test/fixtures/dap');

interface Options {
  skipBuild: boolean;
  workspace: string | undefined;
  grep: string | undefined;
}

function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      'skip-build': { type: 'boolean', default: false },
      workspace: { type: 'string' },
      grep: { type: 'string' },
    },
    strict: true,
  });
  const workspace = values.workspace === undefined ? undefined : resolve(values.workspace);
  if (workspace !== undefined && !(existsSync(workspace) && statSync(workspace).isDirectory())) {
    throw new Error(`--workspace: "${workspace}" is not a directory`);
  }
  return { skipBuild: values['skip-build'] ?? false, workspace, grep: values.grep };
}

function buildExtension(): void {
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`'node esbuild.mjs' failed (status ${r.status ?? r.signal})`);
  if (!existsSync(join(repoRoot, 'dist/extension.js'))) throw new Error('dist/extension.js missing after the build');
}

/** Bundles index.ts and each *.test.ts separately so mocha can load the test files one by one. */
async function buildSuite(): Promise<string> {
  const tests = readdirSync(suiteSrc).filter((f) => f.endsWith('.test.ts'));
  if (tests.length === 0) throw new Error(`no *.test.ts files in ${suiteSrc}`);
  // index.js loads every *.test.js present, so bundles of deleted tests must go; the rest is overwritten in place
  // (not wiped) because another run may be reading this folder right now.
  mkdirSync(suiteOut, { recursive: true });
  const wanted = new Set(tests.map((f) => f.replace(/\.ts$/, '.js')));
  for (const f of readdirSync(suiteOut)) {
    if (f.endsWith('.test.js') && !wanted.has(f)) rmSync(join(suiteOut, f), { force: true });
  }
  await esbuild.build({
    entryPoints: ['index.ts', ...tests].map((f) => join(suiteSrc, f)),
    outdir: suiteOut,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    // vscode is provided by the host; mocha must be the single instance index.js configured (resolved from node_modules).
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  return join(suiteOut, 'index.js');
}

/** A private copy of the fixture workspace plus the test agents: tests write into it, and parallel runs don't meet. */
function scratchWorkspace(parent: string): string {
  const ws = join(parent, 'workspace');
  cpSync(fixtureWorkspace, ws, { recursive: true });
  mkdirSync(join(ws, 'agents'), { recursive: true });
  for (const f of readdirSync(testAgents).filter((n) => n.endsWith('.js'))) cpSync(join(testAgents, f), join(ws, 'agents', f));
  return ws;
}

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2));
  const started = Date.now();
  if (!options.skipBuild) buildExtension();
  const testsEntry = await buildSuite();
  console.log(`[runIntegration] built in ${Date.now() - started} ms; starting VS Code (code-server stand-in)`);

  // A run-private profile: test-electron would otherwise default to ./.vscode-test inside the repo.
  const profile = mkdtempSync(join(tmpdir(), 'lockstep-vscode-profile-'));
  try {
    const workspace = options.workspace ?? scratchWorkspace(profile);
    return await runTests({
      vscodeExecutablePath: standIn,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: testsEntry,
      launchArgs: [
        workspace,
        `--user-data-dir=${join(profile, 'user-data')}`,
        `--extensions-dir=${join(profile, 'extensions')}`,
      ],
      extensionTestsEnv: options.grep === undefined ? {} : { LOCKSTEP_TEST_GREP: options.grep },
    });
  } catch (err) {
    // runTests rejects with TestRunFailedError on a non-zero exit; the stand-in has already said why.
    console.error(`[runIntegration] ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[runIntegration] error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
