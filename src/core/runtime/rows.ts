// The rows a run produces and where they go: the one types module the runtime, its drivers and the episode recorder share (so none imports another for its types).
import type { AgentEpisodeEnd } from '../ports';

export interface FrameRow {
  episode: number;
  /** Step index inside the episode: the dataset row number (0-based). */
  step: number;
  frame: number;
  timestamp: number;
  buttons: [number, number];
  rewards: [number, number];
  terminated: boolean;
  truncated: boolean;
  /** Which controllers' buttons were not the agent's own answer (held/manual). */
  held: [boolean, boolean];
  manual: [boolean, boolean];
  wasSpeculative: boolean;
  agentLatencyMs: [number | null, number | null];
  vars: Record<string, number>;
  info: Record<string, unknown>;
  /** Fingerprint (16 hex digits of SHA-256) of the 2 KB RAM the frame started from: recordings are compared by it. */
  ramFingerprint?: string;
  /** The same for the screen, when screens were captured and the run is recorded (nothing else reads it; see fingerprints). */
  screenFingerprint?: string;
  /** Machine state the frame started from (StateExporter bytes), every `snapshotEvery` steps: the recording's snapshot sidecar. */
  checkpoint?: { format: string; state: Uint8Array };
}

export interface EpisodeEnd extends AgentEpisodeEnd {
  startFrame: number;
  returns: [number, number];
}

/** Where rows go (the episode recorder); rows arrive in order, truncate() is called by step back. */
export interface RowSink {
  addRow(row: FrameRow): void;
  endEpisode(end: EpisodeEnd, finalRam: Uint8Array): void | Promise<void>;
  truncate(episode: number, rowsKept: number): void;
  /** Run-ahead: a row computed on predicted input; a later addRow for the same frame confirms it, discardSpeculative drops it. */
  addSpeculativeRow?(row: FrameRow): void;
  /** Run-ahead rollback: speculative rows at or after fromFrame are void. */
  discardSpeculative?(episode: number, fromFrame: number): void;
  /** The synced termination frame was fixed (or moved earlier): rows at or after it must never be stored. */
  fixTermination?(episode: number, frame: number, reason: EpisodeEnd['reason']): void;
  /** State was changed outside the inputs (a RAM write), so an input movie of this episode cannot reproduce it. */
  noteExternalEdit?(episode: number, frame: number, what: string): void;
}
