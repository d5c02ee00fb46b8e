// Rate limit for the console's desync lines: a flood of desyncs must not flood the Debug Console.
import type { DesyncEvent } from '../core/sync/desyncDetector';

const LINES_PER_SECOND = 20;

export class DesyncLines {
  private second = 0;
  private count = 0;
  private dropped = 0;

  /** The lines to print for this desync: at most LINES_PER_SECOND a second, then a count of the ones left out. */
  linesFor(ev: DesyncEvent, nowMs = performance.now()): string[] {
    const lines: string[] = [];
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      if (this.dropped > 0) lines.push(`... ${this.dropped} more desync(s) not shown`);
      this.second = second;
      this.count = 0;
      this.dropped = 0;
    }
    if (++this.count > LINES_PER_SECOND) {
      this.dropped++;
      return lines;
    }
    lines.push(`desync at frame ${ev.frame}: ${ev.type}: ${ev.message}${ev.recovery ? ` Recovery: ${ev.recovery}.` : ''}`);
    return lines;
  }
}
