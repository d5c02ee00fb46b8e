// Layer 4 detection: classifies frame-id gaps, late actions, clock drift and episode overruns as typed desync events with one readable sentence each.

export type DesyncType =
  | 'frame_skip'
  | 'minor_skip'
  | 'frame_rewind'
  | 'timeout'
  | 'clock_drift'
  | 'episode_overrun'
  | 'state_divergence';

export const DESYNC_TYPES: readonly DesyncType[] = [
  'frame_skip',
  'minor_skip',
  'frame_rewind',
  'timeout',
  'clock_drift',
  'episode_overrun',
  'state_divergence',
];

export interface DesyncEvent {
  type: DesyncType;
  /** The frame the emulator holds. */
  frame: number;
  expectedFrame: number;
  receivedFrame: number | null;
  gap: number | null;
  delayMs: number | null;
  clockOffsetMs: number | null;
  /** clock_drift: how far the offset moved from its reference (ms, signed). */
  clockDriftMs?: number;
  /** clock_drift: whose clock ("emulator", "controller 1"...), when known. */
  peer?: string;
  player: number | null;
  timestamp: number;
  /** One human sentence: expected vs received, gap, delay. */
  message: string;
  /** What recovery did about it, filled in by whoever executes the plan. */
  recovery?: string;
}

export interface DesyncDetectorOptions {
  /** Largest forward gap that is only a minor skip (seed: max_frame_skip 2). */
  maxFrameSkip: number;
  /** Delay between a state and now above which the action counts as timed out (seed: frame_timeout_ms 100). */
  frameTimeoutMs: number;
  /** Change of the clock offset since the reference sync above which clocks count as drifting (seed: 50 ms). */
  clockDriftThresholdMs: number;
}

export class DesyncDetector {
  private readonly maxFrameSkip: number;
  private readonly frameTimeoutMs: number;
  private readonly clockDriftThresholdMs: number;
  private readonly tally: Record<DesyncType, number> = emptyCounts();
  private totalCount = 0;
  /** Per peer (the emulator link, each trainer): the offset drift is measured against. '' is a caller that names no peer. */
  private readonly clockReferences = new Map<string, { offset: number; err: number }>();

  constructor(opts: DesyncDetectorOptions) {
    this.maxFrameSkip = requireNonNegative('maxFrameSkip', opts?.maxFrameSkip);
    this.frameTimeoutMs = requireNonNegative('frameTimeoutMs', opts?.frameTimeoutMs);
    this.clockDriftThresholdMs = requireNonNegative('clockDriftThresholdMs', opts?.clockDriftThresholdMs);
  }

  /**
   * An action tagged `received` arrived while the emulator holds `expected`.
   * gap = received - expected: above maxFrameSkip a frame_skip, below zero a frame_rewind, otherwise a minor_skip; no gap, no event.
   */
  checkFrame(expected: number, received: number, ctx: { player?: number; now: number }): DesyncEvent | null {
    requireFinite('expected', expected);
    requireFinite('received', received);
    const gap = received - expected;
    if (gap === 0) return null;
    const type: DesyncType = gap > this.maxFrameSkip ? 'frame_skip' : gap < 0 ? 'frame_rewind' : 'minor_skip';
    const who = ctx.player !== undefined ? `${controller(ctx.player)} sent` : 'received';
    const how =
      type === 'frame_rewind'
        ? `${plural(-gap, 'frame')} behind`
        : type === 'frame_skip'
          ? `${plural(gap, 'frame')} ahead, more than the ${this.maxFrameSkip} allowed`
          : `${plural(gap, 'frame')} ahead, within the ${this.maxFrameSkip} allowed`;
    return this.emit({
      type,
      frame: expected,
      expectedFrame: expected,
      receivedFrame: received,
      gap,
      delayMs: null,
      clockOffsetMs: null,
      player: ctx.player ?? null,
      timestamp: ctx.now,
      message: `${who} an action for frame ${received} while the emulator holds frame ${expected}: ${how}.`,
    });
  }

  /** The state for ctx.frame was sent at stateTimestamp and its action is still missing at now: late beyond frameTimeoutMs is a timeout. */
  checkTiming(stateTimestamp: number, now: number, ctx: { frame: number; player?: number }): DesyncEvent | null {
    requireFinite('stateTimestamp', stateTimestamp);
    requireFinite('now', now);
    const delay = now - stateTimestamp;
    if (!(delay > this.frameTimeoutMs)) return null;
    const who = ctx.player !== undefined ? ` from ${controller(ctx.player)}` : '';
    return this.emit({
      type: 'timeout',
      frame: ctx.frame,
      expectedFrame: ctx.frame,
      receivedFrame: null,
      gap: null,
      delayMs: delay,
      clockOffsetMs: null,
      player: ctx.player ?? null,
      timestamp: now,
      message: `expected the action for frame ${ctx.frame}${who}, received none after ${fmtMs(delay)} (limit ${fmtMs(this.frameTimeoutMs)}).`,
    });
  }

  /**
   * A fresh clock-offset estimate (ClockSync.offsetMs). Definition chosen: drift = offset minus a reference offset, and the
   * reference is the first offset seen, then the offset of the last clock_drift event.
   * Why not the seed's |offset| > 50 ms: the two clocks have unrelated origins (the Lua side used os.clock(), CPU time since start),
   * so a large constant offset is normal and harmless; only a change means the clocks run at different rates.
   * Why move the reference after an event: the recovery re-syncs the clocks, so the new offset is the truth from then on; keeping
   * the first one would report the same drift at every later sync and pile events into the give-up window.
   */
  checkClock(offsetMs: number, ctx: { frame: number; now: number; peer?: string; player?: number | null; uncertaintyMs?: number }): DesyncEvent | null {
    requireFinite('offsetMs', offsetMs);
    const key = ctx.peer ?? '';
    const err = Math.max(0, ctx.uncertaintyMs ?? 0);
    const reference = this.clockReferences.get(key);
    if (reference === undefined) {
      this.clockReferences.set(key, { offset: offsetMs, err });
      return null;
    }
    const drift = offsetMs - reference.offset;
    // Either estimate may be off by its uncertainty (half its round trip, for a ping answered late by a busy peer): only
    // a move beyond both and the threshold is drift. A tighter estimate of the same clock becomes the better reference.
    if (!(Math.abs(drift) - err - reference.err > this.clockDriftThresholdMs)) {
      if (err < reference.err) this.clockReferences.set(key, { offset: offsetMs, err });
      return null;
    }
    this.clockReferences.set(key, { offset: offsetMs, err });
    const within = err + reference.err > 0 ? `, estimates within ±${fmtMs(err + reference.err)}` : '';
    return this.emit({
      type: 'clock_drift',
      frame: ctx.frame,
      expectedFrame: ctx.frame,
      receivedFrame: null,
      gap: null,
      delayMs: null,
      clockOffsetMs: offsetMs,
      clockDriftMs: drift,
      ...(ctx.peer !== undefined ? { peer: ctx.peer } : {}),
      player: ctx.player ?? null,
      timestamp: ctx.now,
      message: `${ctx.peer !== undefined ? `${ctx.peer}: ` : ''}expected a clock offset near ${fmtMs(reference.offset)}, measured ${fmtMs(offsetMs)} at frame ${ctx.frame}: drifted ${fmtMs(drift, true)} (limit ${fmtMs(this.clockDriftThresholdMs)}${within}).`,
    });
  }

  /** A row for `frame` is about to be recorded; at or past the synced termination frame it is an overrun (the recorder must refuse it). */
  checkEpisode(frame: number, terminationFrame: number | null, ctx: { now: number }): DesyncEvent | null {
    requireFinite('frame', frame);
    if (terminationFrame === null) return null;
    requireFinite('terminationFrame', terminationFrame);
    if (frame < terminationFrame) return null;
    const over = frame - terminationFrame;
    return this.emit({
      type: 'episode_overrun',
      frame,
      expectedFrame: terminationFrame,
      receivedFrame: frame,
      gap: over,
      delayMs: null,
      clockOffsetMs: null,
      player: null,
      timestamp: ctx.now,
      message: `expected the episode to end before frame ${terminationFrame}, received a row for frame ${frame}: ${over === 0 ? 'at' : `${plural(over, 'frame')} past`} the synced termination frame.`,
    });
  }

  /** Two fingerprints of the same frame's state differ (e.g. a replay or a second emulator): state_divergence. */
  checkState(frame: number, expectedHash: string, actualHash: string, ctx: { player?: number; now: number; what?: string }): DesyncEvent | null {
    requireFinite('frame', frame);
    if (expectedHash === actualHash) return null;
    return this.emit({
      type: 'state_divergence',
      frame,
      expectedFrame: frame,
      receivedFrame: frame,
      gap: 0,
      delayMs: null,
      clockOffsetMs: null,
      player: ctx.player ?? null,
      timestamp: ctx.now,
      message: `expected ${ctx.what ?? 'state'} ${expectedHash} at frame ${frame}, received ${actualHash}: the runs diverged.`,
    });
  }

  /** Counts an event built elsewhere (e.g. a gate timeout the runtime reports itself) so counts() stays complete. */
  record(event: DesyncEvent): DesyncEvent {
    return this.emit(event);
  }

  counts(): Record<DesyncType, number> {
    return { ...this.tally };
  }

  total(): number {
    return this.totalCount;
  }

  /**
   * Zeroes the counts. The clock reference survives: episodes are often shorter than the clock-sync interval, and forgetting
   * the reference at each episode end would make drift undetectable. Use resetClock() when the peer itself changed.
   */
  reset(): void {
    for (const t of DESYNC_TYPES) this.tally[t] = 0;
    this.totalCount = 0;
  }

  /** Forgets a peer's clock reference (a new peer or a reconnect), or every peer's: the next checkClock() sets it again. */
  resetClock(peer?: string): void {
    if (peer === undefined) this.clockReferences.clear();
    else this.clockReferences.delete(peer);
  }

  /** The offset drift is measured against for `peer` (default: a caller that names none), or null before its first checkClock(). */
  clockReferenceFor(peer = ''): number | null {
    return this.clockReferences.get(peer)?.offset ?? null;
  }

  /** The offset drift is measured against, or null before the first checkClock(). */
  get clockReferenceMs(): number | null {
    return this.clockReferenceFor('');
  }

  private emit(ev: DesyncEvent): DesyncEvent {
    this.tally[ev.type]++;
    this.totalCount++;
    return ev;
  }
}

function emptyCounts(): Record<DesyncType, number> {
  const c = {} as Record<DesyncType, number>;
  for (const t of DESYNC_TYPES) c[t] = 0;
  return c;
}

function requireNonNegative(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`DesyncDetector: ${name} must be a finite number >= 0, got ${String(v)}`);
  }
  return v;
}

function requireFinite(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new TypeError(`DesyncDetector: ${name} must be a finite number, got ${String(v)}`);
  }
}

function controller(player: number): string {
  return `controller ${player + 1}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function fmtMs(ms: number, signed = false): string {
  const r = Math.round(ms * 10) / 10;
  return `${signed && r > 0 ? '+' : ''}${r} ms`;
}
