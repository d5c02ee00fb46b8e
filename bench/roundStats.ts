// Statistics the benches print: medians of repeated runs, and ratios taken within each interleaved round.

/** The middle value; for an even count the mean of the two middle values (not the upper one, which favours the higher). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The value at fraction `f` of the way through the sorted values (0 the least, 1 the greatest), interpolated between neighbours; quantile(xs, 0.5) is median(xs). */
export function quantile(xs: number[], f: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = f * (s.length - 1);
  const lo = Math.floor(at);
  return lo + 1 < s.length ? s[lo] + (s[lo + 1] - s[lo]) * (at - lo) : s[lo];
}

/**
 * `a[i] / b[i]` for every round i, as a table cell pair "median | min–max": a ratio taken within a round compares runs
 * made in the same minutes of a shared machine, so drifts in its speed cancel out.
 */
export function roundRatioCells(a: number[], b: number[]): string {
  const per = a.map((x, i) => x / b[i]);
  return `${median(per).toFixed(3)} | ${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)}`;
}

/** `a[i] - b[i]` for every round i, as "median | min–max" (whole units): what one configuration adds over another. */
export function roundDifferenceCells(a: number[], b: number[]): string {
  const per = a.map((x, i) => x - b[i]);
  return `${median(per).toFixed(0)} | ${Math.min(...per).toFixed(0)}–${Math.max(...per).toFixed(0)}`;
}
