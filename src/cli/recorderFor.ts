// Chooses the episode recorder for a CLI run's --record folder.
import type { LockstepRuntime, RowSink } from '../core/runtime';
import type { SessionSpec } from '../session/sessionSpec';

export interface CliRecorder {
  sink: RowSink;
  /** Flushes what an interrupted or finished run recorded. */
  finish(runtime: LockstepRuntime): Promise<void>;
}

export async function createRecorderFor(spec: SessionSpec): Promise<CliRecorder> {
  throw new Error(`--record ${spec.record}: episode recording is not available in this build yet`);
}
