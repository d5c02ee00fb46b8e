// The work RAM of every frame of a session: a full copy every 64 frames and the changed bytes in between.
//
// It is the determinism guard's record (a replayed frame is compared byte for byte, so the error can name the bytes)
// and what reverse continue scans: RAM breakpoints are evaluated backwards on it without running the emulator.
import { WORK_RAM_SIZE as RAM_SIZE } from '../nes';

/** Frames between full copies: reading one frame applies at most this many deltas. */
export const RAM_LOG_CHUNK = 64;

export class RamLog {
  private readonly fulls: Uint8Array[] = [];
  /** Changed bytes, 3 per change (address low, address high, value), of every frame in order. */
  private pool = new Uint8Array(1 << 20);
  /** offsets[t]..offsets[t+1]: frame t's changes against frame t-1. */
  private offsets = new Uint32Array(1 << 16);
  private count = 0;
  private readonly last = new Uint8Array(RAM_SIZE);

  get length(): number {
    return this.count;
  }

  /** Appends the RAM of the next frame. */
  push(ram: Uint8Array): void {
    const t = this.count;
    this.ensureOffsets(t + 2);
    let at = this.offsets[t];
    if (t % RAM_LOG_CHUNK === 0) {
      this.fulls[t / RAM_LOG_CHUNK] = ram.slice(0, RAM_SIZE);
    } else {
      this.ensurePool(at + 3 * RAM_SIZE);
      const last = this.last;
      const pool = this.pool;
      for (let a = 0; a < RAM_SIZE; a++) {
        const v = ram[a];
        if (v !== last[a]) {
          pool[at] = a & 0xff;
          pool[at + 1] = a >> 8;
          pool[at + 2] = v;
          at += 3;
        }
      }
    }
    this.offsets[t + 1] = at;
    this.last.set(ram.subarray(0, RAM_SIZE));
    this.count = t + 1;
  }

  /** Replaces the newest frame's RAM (a RAM write changed the held state). */
  replaceLast(ram: Uint8Array): void {
    if (this.count === 0) throw new Error('RamLog: no frame to replace');
    this.truncate(this.count - 1);
    this.push(ram);
  }

  /** Keeps frames 0..n-1. */
  truncate(n: number): void {
    if (n >= this.count) return;
    this.count = n;
    this.fulls.length = Math.ceil(n / RAM_LOG_CHUNK);
    if (n > 0) this.last.set(this.read(n - 1));
  }

  /** A fresh copy of frame t's RAM. */
  read(t: number, into = new Uint8Array(RAM_SIZE)): Uint8Array {
    if (t < 0 || t >= this.count) throw new RangeError(`RamLog: frame ${t} not recorded (0..${this.count - 1})`);
    const base = t - (t % RAM_LOG_CHUNK);
    into.set(this.fulls[base / RAM_LOG_CHUNK]);
    for (let u = base + 1; u <= t; u++) this.applyDelta(u, into);
    return into;
  }

  /** Turns frame t-1's RAM (in `ram`) into frame t's, in place. */
  applyDelta(t: number, ram: Uint8Array): void {
    if (t % RAM_LOG_CHUNK === 0) {
      ram.set(this.fulls[t / RAM_LOG_CHUNK]);
      return;
    }
    const pool = this.pool;
    for (let i = this.offsets[t], end = this.offsets[t + 1]; i < end; i += 3) ram[pool[i] | (pool[i + 1] << 8)] = pool[i + 2];
  }

  get bytes(): number {
    return this.fulls.length * RAM_SIZE + this.pool.byteLength + this.offsets.byteLength;
  }

  private ensurePool(n: number): void {
    if (n <= this.pool.length) return;
    const grown = new Uint8Array(Math.max(n, this.pool.length * 2));
    grown.set(this.pool);
    this.pool = grown;
  }

  private ensureOffsets(n: number): void {
    if (n <= this.offsets.length) return;
    const grown = new Uint32Array(Math.max(n, this.offsets.length * 2));
    grown.set(this.offsets);
    this.offsets = grown;
  }
}
