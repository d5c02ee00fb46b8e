// Layer 3 buffers: the last N game states and screens, paired by frame id or else by nearest timestamp, with the pair's sync quality.
import { RingBuffer } from './ringBuffer';

export interface BufferedState<S> {
  frame: number;
  timestamp: number;
  state: S;
  speculative?: boolean;
  episode?: number;
  /** Desync types seen while this state was held (markDesync). */
  desync?: string[];
}

export interface BufferedScreen<F> {
  /** The frame the screen shows, when the capture knows it; null for an untagged capture (the seed's cv2 grab). */
  frame: number | null;
  timestamp: number;
  screen: F;
}

export interface SyncedPair<S, F> {
  frame: number;
  state: S;
  screen: F | null;
  screenFrame: number | null;
  /** |screen.timestamp - state.timestamp|; 0 when the screen carries the same frame id; null without a screen. */
  syncQualityMs: number | null;
}

/**
 * Stores the objects it is given (no copies; markDesync annotates them in place). Both rings hold `capacity` items.
 * Lookups stay O(1) on the normal path (the newest frame, or a gap-free sequence) even with a large syncBufferSize.
 */
export class SyncBuffer<S, F> {
  private readonly stateRing: RingBuffer<BufferedState<S>>;
  private readonly screenRing: RingBuffer<BufferedScreen<F>>;
  /** True while screens arrived in non-decreasing timestamp order, which allows a binary search for the nearest one. */
  private screensOrdered = true;
  /** True while frame ids strictly increased since the last clear (see findFrame). */
  private stateFramesIncreasing = true;
  private screenFramesIncreasing = true;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`SyncBuffer: capacity (sync.syncBufferSize) must be a positive integer, got ${String(capacity)}`);
    }
    this.stateRing = new RingBuffer(capacity);
    this.screenRing = new RingBuffer(capacity);
  }

  addState(s: BufferedState<S>): void {
    const last = this.stateRing.newest();
    if (last !== undefined && !(s.frame > last.frame)) this.stateFramesIncreasing = false;
    this.stateRing.push(s);
  }

  addScreen(f: BufferedScreen<F>): void {
    const last = this.screenRing.newest();
    if (last !== undefined && f.timestamp < last.timestamp) this.screensOrdered = false;
    if (f.frame === null || (last !== undefined && (last.frame === null || !(f.frame > last.frame)))) this.screenFramesIncreasing = false;
    this.screenRing.push(f);
  }

  /** The state with that frame id and its screen: the one tagged with the same frame, else the nearest by timestamp. */
  pair(frame: number): SyncedPair<S, F> | null {
    const si = findFrame(this.stateRing, frame, this.stateFramesIncreasing);
    if (si < 0) return null;
    const st = this.stateRing.get(si)!;
    const exact = findFrame(this.screenRing, frame, this.screenFramesIncreasing);
    if (exact >= 0) {
      const sc = this.screenRing.get(exact)!;
      return { frame, state: st.state, screen: sc.screen, screenFrame: frame, syncQualityMs: 0 };
    }
    const ni = this.nearestScreen(st.timestamp);
    if (ni < 0) return { frame, state: st.state, screen: null, screenFrame: null, syncQualityMs: null };
    const sc = this.screenRing.get(ni)!;
    return { frame, state: st.state, screen: sc.screen, screenFrame: sc.frame, syncQualityMs: Math.abs(sc.timestamp - st.timestamp) };
  }

  /**
   * pair()'s syncQualityMs alone, without reading the screen: a screen converted when first read (FCEUX's) must not be
   * converted on the frame path only to learn how far apart the two were taken.
   */
  syncQualityMs(frame: number): number | null {
    const si = findFrame(this.stateRing, frame, this.stateFramesIncreasing);
    if (si < 0) return null;
    if (findFrame(this.screenRing, frame, this.screenFramesIncreasing) >= 0) return 0;
    const ni = this.nearestScreen(this.stateRing.get(si)!.timestamp);
    return ni < 0 ? null : Math.abs(this.screenRing.get(ni)!.timestamp - this.stateRing.get(si)!.timestamp);
  }

  /** The buffered state for a frame id, if still held. */
  getState(frame: number): BufferedState<S> | undefined {
    const i = findFrame(this.stateRing, frame, this.stateFramesIncreasing);
    return i < 0 ? undefined : this.stateRing.get(i);
  }

  /** Oldest first. */
  states(): BufferedState<S>[] {
    return this.stateRing.toArray();
  }

  /** Oldest first. */
  screens(): BufferedScreen<F>[] {
    return this.screenRing.toArray();
  }

  latest(): BufferedState<S> | undefined {
    return this.stateRing.newest();
  }

  /** Notes a desync against the buffered state of that frame; ignored when the frame is no longer buffered. */
  markDesync(frame: number, type: string): void {
    const i = findFrame(this.stateRing, frame, this.stateFramesIncreasing);
    if (i < 0) return;
    const st = this.stateRing.get(i)!;
    if (st.desync) st.desync.push(type);
    else st.desync = [type];
  }

  clear(): void {
    this.stateRing.clear();
    this.screenRing.clear();
    this.screensOrdered = true;
    this.stateFramesIncreasing = true;
    this.screenFramesIncreasing = true;
  }

  /** Number of buffered states. */
  get size(): number {
    return this.stateRing.size;
  }

  get screenCount(): number {
    return this.screenRing.size;
  }

  get capacity(): number {
    return this.stateRing.capacity;
  }

  /** Index (oldest = 0) of the screen nearest to t; on a tie the newer screen wins. */
  private nearestScreen(t: number): number {
    const ring = this.screenRing;
    const n = ring.size;
    if (n === 0) return -1;
    if (this.screensOrdered) {
      // First index with timestamp > t; the answer is it or its predecessor.
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ring.get(mid)!.timestamp > t) hi = mid;
        else lo = mid + 1;
      }
      if (lo === 0) return 0;
      if (lo === n) return n - 1;
      return t - ring.get(lo - 1)!.timestamp < ring.get(lo)!.timestamp - t ? lo - 1 : lo;
    }
    let best = -1;
    let bestGap = Infinity;
    for (let i = n - 1; i >= 0; i--) {
      const gap = Math.abs(ring.get(i)!.timestamp - t);
      if (gap < bestGap) {
        best = i;
        bestGap = gap;
      }
    }
    return best;
  }
}

/**
 * Index of the newest item tagged with `frame`, or -1. While the ring's frame ids strictly increase, the slot a gap-free
 * sequence would give the frame is tried first, then a binary search; otherwise scan newest first (the frame asked for
 * is usually the newest one anyway).
 */
function findFrame(ring: RingBuffer<{ frame: number | null }>, frame: number, increasing: boolean): number {
  const n = ring.size;
  if (n === 0) return -1;
  if (increasing) {
    const guess = n - 1 - (ring.get(n - 1)!.frame! - frame);
    if (guess >= 0 && guess < n && ring.get(guess)?.frame === frame) return guess;
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const f = ring.get(mid)!.frame!;
      if (f === frame) return mid;
      if (f < frame) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
  for (let i = n - 1; i >= 0; i--) if (ring.get(i)!.frame === frame) return i;
  return -1;
}
