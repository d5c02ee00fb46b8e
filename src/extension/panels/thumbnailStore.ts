// Small screen thumbnails by session tick for the timeline's hover: downsampled as frames are shown, bounded, thinned with age.
import { NES_HEIGHT, NES_WIDTH } from '../../core/nes';

/** Every 4th pixel each way: 64x60, enough to recognise a scene, 11.5 KB a thumbnail (RGB). */
export const THUMB_STEP = 4;
export const THUMB_WIDTH = NES_WIDTH / THUMB_STEP;
export const THUMB_HEIGHT = NES_HEIGHT / THUMB_STEP;

/** ~23 MB at most: past it, every other thumbnail of the older half goes (recent ones stay dense, old ones sparse). */
const DEFAULT_CAPACITY = 2048;

export class ThumbnailStore {
  private readonly byTick = new Map<number, Uint8Array>();
  /** Kept ticks, ascending. */
  private ticks: number[] = [];

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  get size(): number {
    return this.ticks.length;
  }

  /** Keeps the thumbnail of an RGBA 256x240 screen for `tick` (replacing one kept for it before). */
  add(tick: number, rgba: Uint8Array): void {
    if (rgba.length !== NES_WIDTH * NES_HEIGHT * 4) return;
    const thumb = new Uint8Array(THUMB_WIDTH * THUMB_HEIGHT * 3);
    // The pixel in the middle of each 4x4 block, not an average: NES pictures are flat colours, and averaging would
    // invent colours the game never showed.
    const off = THUMB_STEP >> 1;
    for (let y = 0, o = 0; y < THUMB_HEIGHT; y++) {
      const row = (y * THUMB_STEP + off) * NES_WIDTH;
      for (let x = 0; x < THUMB_WIDTH; x++, o += 3) {
        const i = (row + x * THUMB_STEP + off) * 4;
        thumb[o] = rgba[i];
        thumb[o + 1] = rgba[i + 1];
        thumb[o + 2] = rgba[i + 2];
      }
    }
    if (!this.byTick.has(tick)) {
      const last = this.ticks.at(-1);
      if (last === undefined || tick > last) this.ticks.push(tick);
      else this.ticks.splice(lowerBound(this.ticks, tick), 0, tick);
    }
    this.byTick.set(tick, thumb);
    if (this.ticks.length > this.capacity) this.thin();
  }

  /** The newest thumbnail at or before `tick` and not before `notBefore` (its episode's first tick), as RGBA. */
  nearest(tick: number, notBefore: number): { tick: number; rgba: Uint8Array } | undefined {
    const i = lowerBound(this.ticks, tick + 1) - 1;
    if (i < 0 || this.ticks[i] < notBefore) return undefined;
    const t = this.ticks[i];
    return { tick: t, rgba: toRgba(this.byTick.get(t)!) };
  }

  /** Forgets thumbnails after `tick` (the history was cut there: those ticks will be held again with other states). */
  truncateAfter(tick: number): void {
    const i = lowerBound(this.ticks, tick + 1);
    for (const t of this.ticks.splice(i)) this.byTick.delete(t);
  }

  clear(): void {
    this.byTick.clear();
    this.ticks = [];
  }

  private thin(): void {
    const half = this.ticks.length >> 1;
    const keep: number[] = [];
    for (let i = 0; i < this.ticks.length; i++) {
      const t = this.ticks[i];
      if (i < half && i % 2 === 1) this.byTick.delete(t);
      else keep.push(t);
    }
    this.ticks = keep;
  }
}

function toRgba(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgb.length / 3) * 4);
  for (let i = 0, o = 0; i < rgb.length; i += 3, o += 4) {
    out[o] = rgb[i];
    out[o + 1] = rgb[i + 1];
    out[o + 2] = rgb[i + 2];
    out[o + 3] = 255;
  }
  return out;
}

/** First index whose value is >= v. */
function lowerBound(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
