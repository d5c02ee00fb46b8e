// The SessionFactory the standalone adapter and the extension use: lockstep.yaml beside the launch's cwd, an episode recorder for `record`, then buildSession.
import { readFile } from 'node:fs/promises';
import { loadWorkspaceConfig, type WorkspaceConfig } from '../core/config/config';
import { buildSession, type BuiltSession, type LogFn } from '../session/sessionBuilder';
import type { SessionSpec } from '../session/sessionSpec';
import { createRecorderFor } from '../session/recorderFor';
import type { SessionFactory } from './lockstepDebugSession';

/** Reads a file, or undefined when it does not exist (any other error is reported). */
async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** The launch configuration wins; lockstep.yaml in `cwd` fills what it leaves out (rom, ramMap, maxSteps, record, sync). */
export function applyWorkspaceConfig(spec: SessionSpec, ws: WorkspaceConfig): SessionSpec {
  return {
    ...spec,
    rom: spec.rom ?? ws.rom,
    ramMap: spec.ramMap ?? ws.ramMap,
    maxSteps: spec.maxSteps ?? ws.maxSteps ?? null,
    record: spec.record ?? ws.record,
  };
}

export function createDefaultSessionFactory(): SessionFactory {
  return async (spec: SessionSpec, { log }: { log: LogFn }): Promise<BuiltSession> => {
    const ws = spec.cwd ? await loadWorkspaceConfig(spec.cwd, readIfPresent) : undefined;
    if (ws?.file) log('info', `settings from ${ws.file}`);
    const full = ws ? applyWorkspaceConfig(spec, ws) : spec;
    const recording = full.record ? await createRecorderFor(full, { log }) : undefined;
    const built = await buildSession(full, { log, recorder: recording?.sink, workspaceSync: ws?.file ? ws.sync : undefined });
    if (!recording) return built;
    log('info', `recording episodes into ${recording.folder}`);
    return {
      ...built,
      async close() {
        // The open episode is ended ("stopped") and flushed while the runtime still knows its last frame.
        await recording.finish(built.runtime).catch((e: Error) => log('warn', `recording ${recording.folder}: ${e.message}`));
        await built.close();
      },
    };
  };
}
