// Fixed-width histogram bins for the frame-delay chart.

export interface Histogram {
  /** Lower edge of each bin; bin i covers [edges[i], edges[i] + width), the last bin includes its upper edge. */
  edges: number[];
  width: number;
  counts: number[];
  /** True when the last bin also holds every value above the range (a few outliers would squash all other bins). */
  overflow: boolean;
}

/**
 * `bins` equal bins from 0 (delays are never negative); non-finite values are skipped. The range ends at the largest
 * value, or at the `clip` quantile when the largest is more than twice that: the last bin then collects the outliers.
 */
export function histogram(values: readonly number[], bins: number, clip = 1): Histogram {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`histogram: bins must be a positive integer, got ${bins}`);
  if (!(clip > 0 && clip <= 1)) throw new RangeError(`histogram: clip must be in (0, 1], got ${clip}`);
  const finite = values.filter((v) => Number.isFinite(v));
  let max = 0;
  for (const v of finite) if (v > max) max = v;
  let overflow = false;
  if (clip < 1 && finite.length > 0) {
    const sorted = finite.slice().sort((a, b) => a - b);
    const q = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(clip * sorted.length) - 1))];
    if (q > 0 && max > 2 * q) {
      max = q;
      overflow = true;
    }
  }
  const width = max > 0 ? niceWidth(max / bins) : 1;
  const n = Math.max(1, Math.min(bins + (overflow ? 1 : 0), (Math.ceil(max / width) || 1) + (overflow ? 1 : 0)));
  const counts = new Array<number>(n).fill(0);
  for (const v of finite) {
    // The epsilon keeps 0.3 / 0.1 = 2.9999999999999996 in bin 3, where a person reading the edges expects it.
    const i = Math.min(n - 1, Math.max(0, Math.floor(v / width + 1e-9)));
    counts[i]++;
  }
  return { edges: counts.map((_, i) => i * width), width, counts, overflow };
}

/** Rounds a bin width up to 1, 2 or 5 times a power of ten, so bin edges read well. */
function niceWidth(w: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(w)));
  for (const m of [1, 2, 5, 10]) if (m * p >= w) return m * p;
  return 10 * p;
}
