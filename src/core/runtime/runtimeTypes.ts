// The runtime's contract beside its rows (rows.ts): what it reports per frame, the events it emits, what it is built from.
import type { EmulatorFrame, EmulatorPort } from '../ports';
import type { AgentPort } from '../ports';
import type { SyncConfig } from '../config/config';
import type { RamMap } from '../config/ramMap';
import type { GateMode } from '../sync/frameGate';
import type { DesyncEvent } from '../sync/desyncDetector';
import type { ReferenceTrack } from '../divergence/referenceTrack';
import type { SessionHistoryOptions } from '../history/sessionHistory';
import type { EpisodeEnd, FrameRow, RowSink } from './rows';
import type { AgentInputLogOptions } from './agentInputLog';

export interface RuntimeStateBuffered {
  ram: Uint8Array;
  vars: Record<string, number>;
  lag: boolean;
}

export interface FrameOutcome {
  /** False when the wait was interrupted (pause) or the run faulted; the emulator still holds the same frame. */
  advanced: boolean;
  /** The frame the emulator now holds. */
  frame: number;
  row?: FrameRow;
  desyncs: DesyncEvent[];
  episodeEnd?: EpisodeEnd;
}

export interface GateStatus {
  frame: number;
  waitingFor: number[];
  sinceMs: number;
  mode: GateMode;
}

export interface RuntimeEvents {
  frame: { row: FrameRow; current: EmulatorFrame };
  desync: DesyncEvent;
  waiting: GateStatus;
  episodeEnd: EpisodeEnd;
  log: { level: 'info' | 'warn' | 'error'; message: string };
}

export interface RuntimeDeps {
  emulator: EmulatorPort;
  /** Agents by controller: index 0 drives controller 1. A missing agent leaves that controller released. */
  agents: ReadonlyArray<AgentPort | undefined>;
  ramMap: RamMap;
  sync: SyncConfig;
  now?: () => number;
}

export interface RuntimeOptions {
  romPath: string;
  maxSteps?: number | null;
  /**
   * true: capture a screen every frame (recordings); false: never, even while a panel shows screens; absent: capture
   * while someone shows screens (setScreensShown). Agents that want screens get them regardless.
   */
  captureScreens?: boolean;
  /** Snapshots kept for step back (0 = no step back, fastest). */
  stepBackDepth?: number;
  recorder?: RowSink;
  /** sync.mode "runahead": frames the emulator may run on predicted input ahead of the agents' answers (default 8). */
  runAheadFrames?: number;
  /**
   * Every this many steps (lockstep mode, an emulator that can export its state) a row carries the machine state it
   * started from, for the recording's snapshot sidecar. 0 or absent: none.
   */
  snapshotEvery?: number;
  /** A recorded run to compare against: the first frame whose fingerprint differs is a state_divergence desync (once per episode). */
  reference?: ReferenceTrack;
  /**
   * Keep the whole session (SessionHistory) for step back and travel, instead of the last stepBackDepth frames of the
   * episode. Lockstep mode only (ignored in run-ahead).
   */
  history?: SessionHistoryOptions;
  /** How many frames (and screen bytes) of what the agents were given to keep for the agent's-eye view. */
  agentInputs?: AgentInputLogOptions;
}

/** Run-ahead counters (mode "runahead"). */
export interface RunAheadStats {
  rollbacks: number;
  /** Frames run again after rollbacks and catch-ups (fast-forward). */
  replayedFrames: number;
  /** Frames run on at least one predicted input. */
  predictedFrames: number;
  /** Inputs that arrived for frames at or after the termination (a partner's buffered inputs past the end). */
  inputsPastTermination: number;
}
