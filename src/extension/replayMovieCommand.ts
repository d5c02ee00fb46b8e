// Command "Lockstep: Replay Movie": pick an .fm2 (or use the one clicked), find its ROM, and start a debug session replaying it.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseFm2 } from '../core/episodes/fm2';
import { readRom } from '../emulators/rom';
import { planReplay, romCandidates } from './movieReplay';
import type { EmulatorKind } from '../core/ports';

export function registerReplayMovieCommand(log: Pick<vscode.LogOutputChannel, 'info' | 'error'>): vscode.Disposable {
  return vscode.commands.registerCommand('lockstep.replayMovie', async (uri?: vscode.Uri) => {
    try {
      const movieUri = uri ?? (await pickMovie());
      if (!movieUri) return;
      const moviePath = movieUri.fsPath;
      const movie = parseFm2(await readFile(moviePath, 'utf8'), moviePath);
      const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
      let romPath = romCandidates(moviePath, movie, folders).find((p) => existsSync(p));
      if (!romPath) {
        const picked = await vscode.window.showOpenDialog({
          title: `ROM for ${movie.header.romFilename ?? moviePath}`, canSelectMany: false, filters: { 'NES ROM': ['nes'] },
        });
        if (!picked?.[0]) return;
        romPath = picked[0].fsPath;
      }
      const emulator = await vscode.window.showQuickPick(
        [{ label: 'embedded', description: 'jsnes, no install needed' }, { label: 'fceux', description: 'real FCEUX, headless' }],
        { title: 'Replay on which emulator?' },
      );
      if (!emulator) return;
      const { info } = await readRom(romPath);
      const folder = vscode.workspace.getWorkspaceFolder(movieUri);
      const plan = planReplay({ moviePath, movie, romPath, romMd5NoHeader: info.md5NoHeader, emulator: emulator.label as EmulatorKind, cwd: folder?.uri.fsPath });
      if (plan.warning) {
        const go = await vscode.window.showWarningMessage(plan.warning, { modal: true }, 'Replay anyway');
        if (go !== 'Replay anyway') return;
      }
      log.info(`replaying ${moviePath} on ${romPath} (${emulator.label})`);
      await vscode.debug.startDebugging(folder, plan.config);
    } catch (e) {
      const message = `Replay Movie: ${(e as Error).message}`;
      log.error(message);
      void vscode.window.showErrorMessage(message);
    }
  });
}

async function pickMovie(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && /\.fm2$/i.test(active.fsPath)) return active;
  const picked = await vscode.window.showOpenDialog({ title: 'FCEUX movie to replay', canSelectMany: false, filters: { 'FCEUX movie': ['fm2'] } });
  return picked?.[0];
}
