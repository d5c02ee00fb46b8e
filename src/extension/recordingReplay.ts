// "Open Recording in Timeline": pure planning of the debug launch that replays a recording folder (ROM candidates, agents, how far to run); no vscode.
import { basename, dirname, join } from 'node:path';
import type { EmulatorKind } from '../core/ports';
import type { RecordedEpisode } from '../core/episodes/episodeReader';
import type { LockstepDebugConfiguration } from './romConfiguration';

export interface RecordingFacts {
  folder: string;
  /** session.json's rom.name (the ROM file's name when it was recorded), if any. */
  romName?: string;
  emulator: EmulatorKind;
  episodes: readonly RecordedEpisode[];
}

export interface RecordingPlan {
  config: LockstepDebugConfiguration;
  /** Frames to run after the stop on entry to hold the last recorded row: the whole recording is then in the history. */
  frames: number;
  rows: number;
}

/** ROM files worth trying: session.json's name in the folder, its parents, the workspace folders and their roms/. */
export function recordingRomCandidates(folder: string, romName: string | undefined, workspaceFolders: readonly string[]): string[] {
  if (!romName) return [];
  const name = basename(romName);
  const dirs = [folder, dirname(folder), dirname(dirname(folder)), ...workspaceFolders, ...workspaceFolders.map((f) => join(f, 'roms'))];
  return [...new Set(dirs.map((d) => join(d, name)))];
}

/** A stopped-on-entry replay of every recorded episode with the session history kept, on the emulator it was recorded on. */
export function planRecordingReplay(facts: RecordingFacts, romPath: string, cwd?: string): RecordingPlan {
  if (facts.episodes.length === 0) throw new Error(`${facts.folder} holds no finished episode`);
  const rows = facts.episodes.reduce((n, e) => n + e.steps.length, 0);
  const usesPort2 = facts.episodes.some((e) => e.steps.some((s) => s.actions[1] !== 0));
  const longest = Math.max(...facts.episodes.map((e) => e.steps.length));
  const agent = `recording:${facts.folder}`;
  const config: LockstepDebugConfiguration = {
    type: 'lockstep',
    request: 'launch',
    name: `Recording ${basename(facts.folder)}`,
    rom: romPath,
    emulator: facts.emulator,
    agent,
    ...(usesPort2 ? { agent2: agent } : {}),
    // Each episode ends after its last recorded row (the agent says so); the limit only must not end one sooner.
    maxSteps: longest + 1,
    timeTravel: true,
    stopOnEntry: true,
    ...(cwd ? { cwd } : {}),
  };
  return { config, frames: rows - 1, rows };
}
