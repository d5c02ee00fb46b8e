// Layer 2 clock sync, NTP-style: estimates the peer's clock offset from ping/pong round trips, trusting the fastest recent one.

export interface ClockSyncOptions {
  /** How many recent samples the fastest round trip is chosen from (K). Default 8. */
  window?: number;
}

export const DEFAULT_CLOCK_WINDOW = 8;

/**
 * t0 = local send time, t1 = the peer's clock when it answered, t3 = local receive time.
 * offset = ((t1 - t0) + (t1 - t3)) / 2 assumes the reply left the instant the request arrived (t2 = t1) and equal delays
 * each way; an asymmetric path errs by (up - down) / 2, at most rtt / 2, which is why the smallest rtt wins.
 */
export class ClockSync {
  private readonly k: number;
  private readonly offsets: Float64Array;
  private readonly rtts: Float64Array;
  private next = 0;
  private count = 0;
  private best = -1;
  private first: number | null = null;

  constructor(opts?: ClockSyncOptions) {
    const k = opts?.window ?? DEFAULT_CLOCK_WINDOW;
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`ClockSync: window must be a positive integer, got ${String(k)}`);
    this.k = k;
    this.offsets = new Float64Array(k);
    this.rtts = new Float64Array(k);
  }

  addSample(t0: number, t1: number, t3: number): void {
    requireFinite('t0', t0);
    requireFinite('t1', t1);
    requireFinite('t3', t3);
    if (t3 < t0) throw new RangeError(`ClockSync: receive time t3 (${t3}) is before send time t0 (${t0})`);
    const slot = this.next;
    this.offsets[slot] = (t1 - t0 + (t1 - t3)) / 2;
    this.rtts[slot] = t3 - t0;
    this.next = (slot + 1) % this.k;
    if (this.count < this.k) this.count++;
    // Rescan only when the best sample was overwritten; otherwise the newcomer just competes with it (and wins ties: it is fresher).
    if (this.best === slot || this.best < 0) this.best = this.scanBest();
    else if (this.rtts[slot] <= this.rtts[this.best]) this.best = slot;
    if (this.first === null) this.first = this.offsets[this.best];
  }

  /** Peer clock minus local clock, from the fastest of the last K samples; null before any sample. */
  get offsetMs(): number | null {
    return this.best < 0 ? null : this.offsets[this.best];
  }

  /** Round trip of the sample the offset comes from. */
  get rttMs(): number | null {
    return this.best < 0 ? null : this.rtts[this.best];
  }

  /** How far the offset moved since the first estimate; a steady clock stays near 0. */
  get driftMs(): number | null {
    return this.best < 0 || this.first === null ? null : this.offsets[this.best] - this.first;
  }

  /** Samples currently held (at most the window). */
  get samples(): number {
    return this.count;
  }

  toRemote(localMs: number): number {
    return localMs + this.requireOffset('toRemote');
  }

  toLocal(remoteMs: number): number {
    return remoteMs - this.requireOffset('toLocal');
  }

  reset(): void {
    this.next = 0;
    this.count = 0;
    this.best = -1;
    this.first = null;
  }

  /** Index of the smallest rtt; on a tie the newest sample wins, as it reflects the clocks as they are now. */
  private scanBest(): number {
    const oldest = this.count < this.k ? 0 : this.next;
    let best = -1;
    for (let j = 0; j < this.count; j++) {
      const i = (oldest + j) % this.k;
      if (best < 0 || this.rtts[i] <= this.rtts[best]) best = i;
    }
    return best;
  }

  private requireOffset(what: string): number {
    if (this.best < 0) throw new Error(`ClockSync.${what}: no clock sample yet (call addSample with a ping/pong round trip first)`);
    return this.offsets[this.best];
  }
}

function requireFinite(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`ClockSync: ${name} must be a finite number, got ${String(v)}`);
}
