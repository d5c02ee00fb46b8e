// What a UI test file gets from scripts/vscode/runUi.ts (deadline, results folder, the built .vsix) and the demo workspace it opens.
import { test } from 'node:test';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT, resultsDir } from '../../scripts/vscode/codeServerHost.mjs';
import { DEMO_TRAINER_PORT, demoWorkspaceFiles, newDemoToken, readDemoAssets, writeDemoWorkspace } from '../../src/extension/demoWorkspace';

/** Set by runUi.ts: absolute deadline (ms since the epoch) shared by every UI test file of a run. */
export const DEADLINE_VAR = 'LOCKSTEP_UI_DEADLINE_AT';
/** Set by runUi.ts: the .vsix built for this run (the install test packages one itself when absent). */
export const VSIX_VAR = 'LOCKSTEP_UI_VSIX';
/** Screenshots go to <results>/ui/ (test-results/ui/ by default). */
export const UI_RESULTS_SUBDIR = 'ui';

/** Per-file budget when a test file runs on its own, without runUi.ts. */
const STANDALONE_BUDGET_MS = 300_000;

export function uiDeadline(): number {
  const at = Number(process.env[DEADLINE_VAR]);
  return Number.isFinite(at) && at > 0 ? at : Date.now() + STANDALONE_BUDGET_MS;
}

export function uiResultsDir(): string {
  const dir = join(resultsDir(), UI_RESULTS_SUBDIR);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Runs a test body; on failure saves a screenshot named after the test (fail-<slug>.png) before rethrowing. */
export async function withFailureShot(ui: { screenshot(file: string): Promise<void> } | undefined, testName: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    const slug = testName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
    await ui?.screenshot(screenshotPath(`fail-${slug}`)).catch(() => undefined);
    throw e;
  }
}

/**
 * The workbench a UI suite starts in its before hook, and how its tests reach it: each test screenshots the workbench
 * when it fails, and need() fails the later tests plainly when the workbench never started.
 */
export class UiSuite<U extends { screenshot(file: string): Promise<void> }> {
  ui: U | undefined;
  readonly need = (): U => {
    if (!this.ui) throw new Error('the workbench did not start (see the first failure)');
    return this.ui;
  };
  readonly test = (name: string, body: () => Promise<void>): Promise<void> => test(name, () => withFailureShot(this.ui, name, body));
}

export function screenshotPath(name: string): string {
  return join(uiResultsDir(), `${name}.png`);
}

/** Writes a fresh demo workspace (the same files the Create Demo Workspace command writes) from the checkout's assets. */
export async function makeDemoWorkspace(): Promise<string> {
  const folder = join(mkdtempSync(join(tmpdir(), 'lockstep-ui-ws-')), 'lockstep-demo');
  writeDemoWorkspace(folder, demoWorkspaceFiles(await readDemoAssets(REPO_ROOT), { port: DEMO_TRAINER_PORT, token: newDemoToken() }));
  return folder;
}

/** The extension folder the development-extension tests load: the checkout, or LOCKSTEP_UI_EXTENSION_DIR (another build of it). */
export function extensionUnderTest(): string {
  return process.env.LOCKSTEP_UI_EXTENSION_DIR ? resolve(process.env.LOCKSTEP_UI_EXTENSION_DIR) : REPO_ROOT;
}

export const log = (line: string): void => {
  process.stderr.write(`[ui] ${line}\n`);
};

export { REPO_ROOT };
export const repoPath = (...parts: string[]): string => resolve(REPO_ROOT, ...parts);
