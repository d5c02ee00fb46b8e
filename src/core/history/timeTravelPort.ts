// What the session history needs from an emulator: keyframes kept on its side and a replay from one in a single call.
import type { EmulatorFrame, EmulatorPort, ReplayWrite } from '../ports';

export type { ReplayWrite } from '../ports';

export interface ReplayResult {
  /** The state reached (the last one). */
  frame: EmulatorFrame;
  /** RAM of every state the replay went through, 2 KB each, the keyframe's first: what the determinism guard checks. */
  rams: Uint8Array;
}

export interface TimeTravelPort {
  /**
   * Ticks between keyframes this emulator suggests, from what a keyframe costs it against a replayed frame; the
   * history's own default (DEFAULT_KEYFRAME_EVERY) when absent, and the session's setting above both.
   */
  readonly keyframeEvery?: number;
  /**
   * Keeps the machine's current state as keyframe `id`, compressed on the emulator's side. Fire and forget: the
   * emulator handles requests in order, so a later replay from it waits for it; a failure shows at that replay.
   * `withScreen` keeps the picture too (a keyframe restored without running a frame shows it).
   */
  saveKeyframe(id: number, withScreen: boolean): void;
  dropKeyframe(id: number): void;
  /** Restores keyframe `id`, runs `buttons` (2 bytes a frame) with `writes`, and answers with every state's RAM. */
  replay(id: number, buttons: Uint8Array, writes: ReplayWrite[], options?: { screen?: boolean }): Promise<ReplayResult>;
  /** Bytes the kept keyframes take on the emulator's side, and how many there are. */
  keyframeStats(): Promise<{ bytes: number; count: number }>;
}

export function isTimeTravelPort(e: EmulatorPort): e is EmulatorPort & TimeTravelPort {
  const t = e as Partial<TimeTravelPort>;
  return typeof t.saveKeyframe === 'function' && typeof t.replay === 'function';
}
