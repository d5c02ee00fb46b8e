// The rows of the last frames run, so that after a step back the session still knows which action led to the held frame.
import type { FrameRow } from '../core/runtime/rows';

export class RowHistory {
  private rows: FrameRow[] = [];

  /** Keeps the newest `depth` rows: as many frames as step back can go, plus the row leading to the oldest one. */
  constructor(private readonly depth: number) {}

  add(row: FrameRow): void {
    // A row that replaces frames run again after a step back: the ones it follows from are the past, the rest are gone.
    while (this.rows.length > 0 && !isBefore(this.rows[this.rows.length - 1], row)) this.rows.pop();
    this.rows.push(row);
    if (this.rows.length > this.depth) this.rows.splice(0, this.rows.length - this.depth);
  }

  /** The row of the step that led to step `step` of `episode` (the held frame), when it is still kept. */
  leadingTo(episode: number, step: number): FrameRow | undefined {
    if (step < 1) return undefined;
    for (let i = this.rows.length - 1; i >= 0; i--) {
      const r = this.rows[i];
      if (r.episode === episode && r.step === step - 1) return r;
    }
    return undefined;
  }
}

function isBefore(a: FrameRow, b: FrameRow): boolean {
  return a.episode < b.episode || (a.episode === b.episode && a.step < b.step);
}
