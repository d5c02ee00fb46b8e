// What decides whether a run stops, as run control sees it: breakpoints and desync filters checked on the held frame or on a recorded one.
import type { FrameMemory } from '../core/frameMemory';
import type { DesyncEvent } from '../core/sync/desyncDetector';

/** A breakpoint that held after a frame. */
export interface StopHit {
  reason: string;
  description: string;
  ids: number[];
}

/** A state to check other than the runtime's held frame: a recorded tick of the session history (reverse continue). */
export interface CheckedState {
  frame: number;
  episode: number;
  step: number;
  ram: Uint8Array;
  prgRam?: Uint8Array;
}

/** The checks that decide whether running stops (breakpoints), evaluated against the held frame unless `at` is given. */
export interface StopChecks {
  /** Conditions start over from the held frame (before a run, after a jump). */
  rebase(): void;
  readonly hasFrameChecks: boolean;
  checkFrame(before: FrameMemory, after: FrameMemory, at?: CheckedState): StopHit | undefined;
  desyncStops(ev: DesyncEvent, at?: CheckedState): { stops: boolean; error?: string };
}
