// Command "Lockstep: Open Recording in Timeline": replay a recording folder in a debug session, run it to its last row, and show it on the timeline.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { episodeManifests, loadRecordedEpisode } from '../core/episodes/episodeReader';
import type { EmulatorKind } from '../core/ports';
import { planRecordingReplay, recordingRomCandidates } from './recordingReplay';

export const OPEN_RECORDING_COMMAND = 'lockstep.openRecording';

export function registerOpenRecordingCommand(log: Pick<vscode.LogOutputChannel, 'info' | 'error'>): vscode.Disposable {
  return vscode.commands.registerCommand(OPEN_RECORDING_COMMAND, async (uri?: vscode.Uri) => {
    try {
      const picked = uri ?? (await pickFolder());
      if (!picked) return;
      const folder = basename(picked.fsPath) === 'session.json' ? dirname(picked.fsPath) : picked.fsPath;
      const session = await readSession(folder);
      const episodes = await Promise.all((await episodeManifests(folder)).map((m) => loadRecordedEpisode(m.path)));
      if (episodes.length === 0) throw new Error(`${folder} holds no finished episode (no episode-NNNN.json manifest): is it a Lockstep recording folder?`);
      const workspace = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
      let romPath = recordingRomCandidates(folder, session.romName, workspace).find((p) => existsSync(p));
      if (!romPath) {
        const rom = await vscode.window.showOpenDialog({ title: `ROM for ${session.romName ?? folder}`, canSelectMany: false, filters: { 'NES ROM': ['nes'] } });
        if (!rom?.[0]) return;
        romPath = rom[0].fsPath;
      }
      const ws = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(folder));
      const plan = planRecordingReplay({ folder, romName: session.romName, emulator: session.emulator ?? episodes[0].emulator, episodes }, romPath, ws?.uri.fsPath);
      log.info(`opening recording ${folder}: ${episodes.length} episode(s), ${plan.rows} row(s), on ${romPath}`);
      const started = new Promise<vscode.DebugSession>((resolve) => {
        const sub = vscode.debug.onDidStartDebugSession((s) => {
          if (s.configuration.name !== plan.config.name) return;
          sub.dispose();
          resolve(s);
        });
      });
      if (!(await vscode.debug.startDebugging(ws, plan.config))) return;
      const s = await started;
      await waitStopped(s);
      // Run through every recorded row: the session history then holds the whole recording, and the timeline shows it.
      if (plan.frames > 0) await s.customRequest('lockstep.stepFrames', { count: plan.frames });
      await vscode.commands.executeCommand('lockstep.openTimeline');
    } catch (e) {
      const message = `Open Recording: ${(e as Error).message}`;
      log.error(message);
      void vscode.window.showErrorMessage(message);
    }
  });
}

async function pickFolder(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({ title: 'Lockstep recording folder', canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Open Recording' });
  return picked?.[0];
}

async function readSession(folder: string): Promise<{ romName?: string; emulator?: EmulatorKind }> {
  let text: string;
  try {
    text = await readFile(`${folder}/session.json`, 'utf8');
  } catch {
    // An older recording, or one copied without it: the manifests say enough, the ROM is then asked for.
    return {};
  }
  const o = JSON.parse(text) as { rom?: { name?: unknown }; emulator?: unknown };
  return {
    romName: typeof o.rom?.name === 'string' ? o.rom.name : undefined,
    emulator: o.emulator === 'embedded' || o.emulator === 'fceux' ? o.emulator : undefined,
  };
}

/** The launch stops on entry: wait for it before asking for frames (a request before then is refused). */
async function waitStopped(s: vscode.DebugSession): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await Promise.resolve(s.customRequest('lockstep.getStatus', {})).catch(() => undefined) as { state?: string } | undefined;
    if (status?.state === 'stopped') return;
    if (status?.state === 'terminated') throw new Error('the replay session ended before it started');
    if (Date.now() > deadline) throw new Error('the replay session did not stop on entry within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}
