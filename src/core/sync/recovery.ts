// Layer 4 recovery policy: turns desync events, heartbeat and reconnect outcomes into plans; it decides, the runtime acts.
import type { DesyncEvent, DesyncType } from './desyncDetector';

export type RecoveryAction = 'resync' | 'clear_buffer' | 'reset_counter' | 'heartbeat' | 'hold' | 'reconnect' | 'none' | 'give_up';

export interface RecoveryPlan {
  actions: RecoveryAction[];
  /** Wait this long before acting (reconnect backoff). */
  delayMs: number;
  reason: string;
}

export interface RecoveryOptions {
  /** Desyncs tolerated inside the sliding window; one more gives up (seed: max_desync_count 5). */
  maxDesyncCount: number;
  /** Reconnects tried after a peer stops answering, before giving up (seed: reconnect_attempts 3). */
  reconnectAttempts: number;
  /** First reconnect delay; attempt k (0-based) waits reconnectDelayMs * 2^k (seed: reconnect_delay_ms 1000). */
  reconnectDelayMs: number;
  /** Width of the sliding window in frames: desyncs at frames in (frame - windowFrames, frame] count. Default 60, one second of NES time. */
  windowFrames?: number;
  /** Ceiling for one backoff delay, so a large attempt count cannot overflow a timer. Default 300000 (5 min). */
  maxReconnectDelayMs?: number;
}

export const DEFAULT_RECOVERY_WINDOW_FRAMES = 60;
const DEFAULT_MAX_RECONNECT_DELAY_MS = 300_000;

/**
 * Which events count toward give-up: every desync except timeouts. A timeout only asks for a heartbeat; a peer that answers is
 * slow, not broken (the seed holds the frame), and a peer that does not answer gets its own budget of reconnect attempts.
 * Counting slow-but-alive timeouts would stop a hold-mode run whose agent is merely slower than frameTimeoutMs.
 */
export class RecoveryPolicy {
  private readonly maxDesyncCount: number;
  private readonly reconnectAttempts: number;
  private readonly reconnectDelayMs: number;
  private readonly windowFrames: number;
  private readonly maxReconnectDelayMs: number;
  /** Frames of the desyncs inside the window, oldest first. Desyncs are rare, so a plain array is enough. */
  private window: number[] = [];
  private attempts = 0;
  private pendingFrame: number | null = null;
  private gaveUpReason: string | null = null;

  constructor(opts: RecoveryOptions) {
    this.maxDesyncCount = requireInt('maxDesyncCount', opts?.maxDesyncCount, 0);
    this.reconnectAttempts = requireInt('reconnectAttempts', opts?.reconnectAttempts, 0);
    this.reconnectDelayMs = requireNumber('reconnectDelayMs', opts?.reconnectDelayMs);
    this.windowFrames = requireInt('windowFrames', opts?.windowFrames ?? DEFAULT_RECOVERY_WINDOW_FRAMES, 1);
    this.maxReconnectDelayMs = Math.max(this.reconnectDelayMs, requireNumber('maxReconnectDelayMs', opts?.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS));
  }

  plan(event: DesyncEvent): RecoveryPlan {
    if (this.gaveUpReason !== null) return giveUp(this.gaveUpReason);
    const type: DesyncType = event.type;
    if (type === 'timeout') {
      this.pendingFrame = event.frame;
      return { actions: ['heartbeat'], delayMs: 0, reason: `no action for frame ${event.frame} in time: checking whether the peer is alive` };
    }
    const inWindow = this.count(event.frame);
    if (inWindow > this.maxDesyncCount) {
      return this.giveUpFor(`${inWindow} desyncs within the last ${this.windowFrames} frames (limit ${this.maxDesyncCount}); the latest was ${type} at frame ${event.frame}`);
    }
    switch (type) {
      case 'frame_skip':
        return {
          actions: ['resync', 'clear_buffer', 'reset_counter'],
          delayMs: 0,
          reason: `frames skipped (gap ${event.gap ?? '?'}): resend the held frame, drop stale buffered states, restart the frame count`,
        };
      case 'frame_rewind':
        return { actions: ['resync', 'clear_buffer'], delayMs: 0, reason: `an older frame arrived (gap ${event.gap ?? '?'}): resend the held frame and drop stale buffered states` };
      case 'minor_skip':
        return { actions: ['resync'], delayMs: 0, reason: `small gap (${event.gap ?? '?'}): resend the held frame` };
      case 'clock_drift':
        return { actions: ['none'], delayMs: 0, reason: 'clocks drifted: the next clock sync re-estimates the offset' };
      case 'episode_overrun':
        return { actions: ['none'], delayMs: 0, reason: 'row past the synced termination frame: the recorder refuses it' };
      case 'state_divergence':
        return { actions: ['resync', 'clear_buffer'], delayMs: 0, reason: 'state diverged: resend the emulator\'s state and drop buffered states built on the other one' };
      default: {
        const _never: never = type;
        throw new Error(`RecoveryPolicy: unknown desync type ${String(_never)}`);
      }
    }
  }

  /** The heartbeat asked for by a timeout plan came back (alive) or not: hold the frame, or reconnect with backoff. */
  heartbeatResult(alive: boolean): RecoveryPlan {
    if (this.gaveUpReason !== null) return giveUp(this.gaveUpReason);
    const at = this.pendingFrame !== null ? ` at frame ${this.pendingFrame}` : '';
    if (alive) {
      this.attempts = 0;
      this.pendingFrame = null;
      return { actions: ['hold'], delayMs: 0, reason: `peer answered the heartbeat${at}: slow, not gone; keep holding` };
    }
    return this.nextReconnect(`peer did not answer the heartbeat${at}`);
  }

  /** A reconnect from a previous plan finished: on success resend the held frame, otherwise back off further or give up. */
  reconnectResult(ok: boolean): RecoveryPlan {
    if (this.gaveUpReason !== null) return giveUp(this.gaveUpReason);
    if (ok) {
      this.attempts = 0;
      this.pendingFrame = null;
      return { actions: ['resync'], delayMs: 0, reason: 'reconnected: resend the held frame' };
    }
    return this.nextReconnect(`reconnect attempt ${this.attempts} failed`);
  }

  /** Forgets the window, the reconnect count and a previous give-up (a new run or an explicit user restart). */
  reset(): void {
    this.window = [];
    this.attempts = 0;
    this.pendingFrame = null;
    this.gaveUpReason = null;
  }

  /** Desyncs currently inside the window (as of the last counted event). */
  get recentDesyncs(): number {
    return this.window.length;
  }

  /** Reconnect attempts handed out since the peer was last known alive. */
  get reconnectAttemptsMade(): number {
    return this.attempts;
  }

  /** Why the policy gave up, or null; once given up every plan is give_up until reset(). */
  get gaveUp(): string | null {
    return this.gaveUpReason;
  }

  /** The backoff delay for 0-based attempt k. */
  backoffMs(k: number): number {
    return Math.min(this.reconnectDelayMs * 2 ** k, this.maxReconnectDelayMs);
  }

  private count(frame: number): number {
    const lo = frame - this.windowFrames;
    // Frames above `frame` belong to a timeline that was left (step back, a new episode from the start snapshot).
    this.window = this.window.filter((f) => f > lo && f <= frame);
    this.window.push(frame);
    return this.window.length;
  }

  private nextReconnect(why: string): RecoveryPlan {
    if (this.attempts >= this.reconnectAttempts) {
      return this.giveUpFor(`${why}; ${this.reconnectAttempts} reconnect attempt${this.reconnectAttempts === 1 ? '' : 's'} used up`);
    }
    const delayMs = this.backoffMs(this.attempts);
    this.attempts++;
    return { actions: ['reconnect'], delayMs, reason: `${why}: reconnect attempt ${this.attempts} of ${this.reconnectAttempts} after ${delayMs} ms` };
  }

  private giveUpFor(reason: string): RecoveryPlan {
    this.gaveUpReason = reason;
    return giveUp(reason);
  }
}

function giveUp(reason: string): RecoveryPlan {
  return { actions: ['give_up'], delayMs: 0, reason };
}

function requireInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(`RecoveryPolicy: ${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

function requireNumber(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`RecoveryPolicy: ${name} must be a finite number >= 0, got ${String(v)}`);
  }
  return v;
}
