// Command "Lockstep: Find Divergence": two recordings in, the first frame where they part ways out, with a diff of both states and a debug session stopped there.
import * as vscode from 'vscode';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoRomPath, findPackageRoot } from '../core/packageRoot';
import { findManifest } from '../core/episodes/episodeReader';
import { readRom } from '../emulators/rom';
import type { DivergenceReportJson } from '../core/divergence/divergenceReport';
import { divergenceDebugConfiguration, divergenceRomCandidates, parseDivergenceOutput, stateDocument, type DivergenceSide } from './divergenceDocuments';

const COMMAND = 'lockstep.findDivergence';
const SCHEME = 'lockstep-divergence';
/** The CLI replays at most a few thousand frames; this is only a guard against a hung process. */
const CLI_DEADLINE_MS = 10 * 60_000;

type Log = Pick<vscode.LogOutputChannel, 'info' | 'warn' | 'error'>;

export function registerDivergenceCommand(log: Log): vscode.Disposable {
  // The diff view's two documents: read-only text kept per URI while the window lives (a few KB each).
  const documents = new Map<string, string>();
  const provider: vscode.TextDocumentContentProvider = { provideTextDocumentContent: (uri) => documents.get(uri.toString()) ?? '' };
  let runs = 0;
  return vscode.Disposable.from(
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, provider),
    vscode.commands.registerCommand(COMMAND, async (a?: string, b?: string) => {
      try {
        const sideA = a ?? (await pickSource('A', false));
        if (!sideA) return;
        const sideB = b ?? (await pickSource('B', true));
        if (!sideB) return;
        const rom = await romFor([sideA, sideB]);
        if (!rom) return;
        const report = await runDiverge(sideA, sideB, rom, log);
        log.info(`Find Divergence: ${report.message}`);
        if (!report.diverged) {
          void vscode.window.showInformationMessage(`Lockstep: ${report.message}`);
          return;
        }
        const id = ++runs;
        const uriOf = (side: DivergenceSide) => vscode.Uri.from({ scheme: SCHEME, path: `/${id}/${side.toUpperCase()}-frame-${report.frames?.[side]}.json` });
        for (const side of ['a', 'b'] as const) documents.set(uriOf(side).toString(), stateDocument(report, side));
        await offerActions(report, rom, uriOf, log);
      } catch (e) {
        const message = `Find Divergence: ${(e as Error).message}`;
        log.error(message);
        void vscode.window.showErrorMessage(message);
      }
    }),
  );
}

async function offerActions(report: DivergenceReportJson & { out?: string }, rom: string, uriOf: (s: DivergenceSide) => vscode.Uri, log: Log): Promise<void> {
  const frames = report.frames!;
  const actions = ['Show State Diff', `Debug A at frame ${frames.a}`, `Debug B at frame ${frames.b}`];
  if (report.screens && report.out) actions.push('Show Screens');
  const pick = await vscode.window.showWarningMessage(`Lockstep: ${report.message}`, ...actions);
  if (!pick) return;
  if (pick === 'Show State Diff') {
    await vscode.commands.executeCommand('vscode.diff', uriOf('a'), uriOf('b'), `Divergence at step ${report.step}: A ${report.a.label} ↔ B ${report.b.label}`);
  } else if (pick === 'Show Screens') {
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(join(report.out!, report.screens!.sideBySide)));
  } else {
    await debugSide(report, pick.startsWith('Debug A') ? 'a' : 'b', rom, log);
  }
}

/** Starts a session replaying that side's inputs, stopped at the diverging frame by a function breakpoint removed when it ends. */
async function debugSide(report: DivergenceReportJson, side: DivergenceSide, rom: string, log: Log): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const { config, breakpoint } = divergenceDebugConfiguration(report, side, { romPath: rom, cwd: folder?.uri.fsPath });
  const bp = new vscode.FunctionBreakpoint(breakpoint);
  vscode.debug.addBreakpoints([bp]);
  const cleanup = vscode.debug.onDidTerminateDebugSession((s) => {
    if (s.configuration.name !== config.name) return;
    vscode.debug.removeBreakpoints([bp]);
    cleanup.dispose();
  });
  log.info(`Find Divergence: debugging side ${side.toUpperCase()} to ${breakpoint}`);
  const ok = await vscode.debug.startDebugging(folder, config);
  if (!ok) {
    vscode.debug.removeBreakpoints([bp]);
    cleanup.dispose();
  }
}

/** A source: a recording in the workspace, a folder or file chosen by hand, or (for B) a live replay of A's inputs. */
async function pickSource(which: 'A' | 'B', allowLive: boolean): Promise<string | undefined> {
  const manifests = await vscode.workspace.findFiles('**/episode-*.json', '**/node_modules/**', 200);
  type Item = vscode.QuickPickItem & { value?: string; browse?: 'folder' | 'file' };
  const items: Item[] = manifests
    .map((u) => ({ label: vscode.workspace.asRelativePath(u), value: u.fsPath }))
    .sort((x, y) => x.label.localeCompare(y.label));
  items.push({ label: '$(folder) Choose a recording folder…', browse: 'folder' }, { label: '$(file) Choose an episode manifest or .fm2 movie…', browse: 'file' });
  if (allowLive) {
    items.push(
      { label: '$(play) Replay A live on the embedded emulator', description: 'does A reproduce?', value: 'live:embedded' },
      { label: '$(play) Replay A live in FCEUX', description: 'cross-emulator check', value: 'live:fceux' },
    );
  }
  const picked = await vscode.window.showQuickPick(items, { title: `Lockstep: Find Divergence — run ${which}`, placeHolder: 'a recording (lockstep run --record DIR) or an episode-NNNN.json' });
  if (!picked) return undefined;
  if (picked.value) return picked.value;
  const chosen = await vscode.window.showOpenDialog({
    title: `Run ${which}`,
    canSelectFiles: picked.browse === 'file',
    canSelectFolders: picked.browse === 'folder',
    canSelectMany: false,
    ...(picked.browse === 'file' ? { filters: { 'Lockstep episode or FCEUX movie': ['json', 'fm2', 'jsonl'] } } : {}),
  });
  return chosen?.[0]?.fsPath;
}

/** The ROM the recordings were made with: found by name and MD5 near them or in the workspace, else chosen by hand. */
async function romFor(sources: string[]): Promise<string | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  for (const src of sources) {
    if (src.startsWith('live:')) continue;
    const manifest = await findManifest(src).catch(() => undefined);
    if (!manifest) continue;
    const rom = (JSON.parse(await readFile(manifest, 'utf8')) as { rom?: { name?: string; md5?: string } }).rom;
    if (!rom?.name || !rom.md5) continue;
    let demo: string | undefined;
    try {
      demo = demoRomPath(findPackageRoot(__dirname));
    } catch {
      demo = undefined;
    }
    for (const candidate of divergenceRomCandidates(manifest, rom.name, folders, demo)) {
      if (!existsSync(candidate)) continue;
      const { info } = await readRom(candidate).catch(() => ({ info: undefined }));
      if (info?.md5 === rom.md5) return candidate;
    }
    const picked = await vscode.window.showOpenDialog({ title: `ROM the recording was made with (${rom.name}, MD5 ${rom.md5})`, canSelectMany: false, filters: { 'NES ROM': ['nes'] } });
    return picked?.[0]?.fsPath;
  }
  const picked = await vscode.window.showOpenDialog({ title: 'ROM the movies were made for', canSelectMany: false, filters: { 'NES ROM': ['nes'] } });
  return picked?.[0]?.fsPath;
}

/** Runs `lockstep diverge --json` in a child process (replays must not block the extension host), cancellable. */
async function runDiverge(a: string, b: string, rom: string, log: Log): Promise<DivergenceReportJson & { out?: string }> {
  const cli = join(findPackageRoot(__dirname), 'dist', 'cli.js');
  const out = await mkdtemp(join(tmpdir(), 'lockstep-divergence-'));
  const args = [cli, 'diverge', a, b, '--rom', rom, '--out', out, '--json'];
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  log.info(`Find Divergence: ${args.slice(1).join(' ')}`);
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Lockstep: finding the first diverging frame…', cancellable: true },
    (_progress, token) => new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), CLI_DEADLINE_MS);
      const cancel = token.onCancellationRequested(() => child.kill('SIGKILL'));
      child.on('error', (e) => {
        clearTimeout(timer);
        cancel.dispose();
        reject(new Error(`cannot run ${cli}: ${e.message}`));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        cancel.dispose();
        if (token.isCancellationRequested) return reject(new Error('cancelled'));
        try {
          const report = parseDivergenceOutput(stdout, stderr);
          resolve(report);
        } catch (e) {
          reject(new Error(`${(e as Error).message}${code !== null && code > 1 ? ` (exit code ${code})` : ''}`));
        }
      });
    }),
  );
}
