// Chooses the episode recorder for a run's record folder (CLI --record, the debug adapter's record): episode files (JSONL, CSV, FM2, manifest) written as the run goes.
import { readdir } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { LockstepRuntime } from '../core/runtime/runtime';
import type { RowSink } from '../core/runtime/rows';
import { createEpisodeRecorder } from '../core/episodes/episodeWriter';
import { demoRomPath, findPackageRoot } from '../core/packageRoot';
import { readRom } from '../emulators/rom';
import { loadRamMap, ramMapPathFor } from './sessionBuilder';
import { describeAgentSpec, type SessionSpec } from './sessionSpec';

export interface CliRecorder {
  sink: RowSink;
  /** Folder the episode files go to. */
  folder: string;
  /** Ends the episode still open (reason "stopped") and waits until every file is on disk. */
  finish(runtime: LockstepRuntime): Promise<void>;
}

export interface RecorderForOptions {
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export async function createRecorderFor(spec: SessionSpec, options: RecorderForOptions = {}): Promise<CliRecorder> {
  if (!spec.record) throw new Error('--record needs a folder');
  const log = options.log ?? ((level, message) => process.stderr.write(`[${level}] ${message}\n`));
  const cwd = spec.cwd ?? process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  // The same ROM and RAM map the session builder will pick; the recorder needs them before the run starts.
  const romPath = spec.rom ? abs(spec.rom) : demoRomPath(findPackageRoot());
  const { info } = await readRom(romPath);
  const ramMap = await loadRamMap(ramMapPathFor(romPath, spec.ramMap ? abs(spec.ramMap) : undefined));
  const folder = abs(spec.record);
  // An empty (or new) folder gets the files directly; one holding an earlier recording gets a fresh subfolder, never overwritten.
  const used = await readdir(folder).then((names) => names.length > 0, () => false);
  const { recorder, folder: target } = await createEpisodeRecorder(folder, {
    rom: info,
    ramMap,
    emulator: spec.emulator ?? 'embedded',
    session: used ? undefined : '',
    meta: {
      agents: spec.agents.map(describeAgentSpec),
      seed: spec.seed ?? null,
      maxSteps: spec.maxSteps ?? null,
    },
    log,
  });
  if (used) log('warn', `${folder} already holds files: recording into ${target}`);
  return {
    sink: recorder,
    folder: target,
    async finish(runtime) {
      const cur = runtime.current;
      try {
        if (cur) await recorder.stopOpenEpisode(cur.frame, cur.ram);
      } finally {
        await recorder.close();
      }
    },
  };
}
