// Caps how many lines one noisy source (a trainer link flooding error reports or stray actions) may add to the log.
export type LogLevel = 'info' | 'warn' | 'error';
export type LogSink = (level: LogLevel, message: string) => void;

export interface LogThrottleOptions {
  /** Lines let through per window (default 5). */
  linesPerWindow?: number;
  /** Window length in ms (default 1000). */
  windowMs?: number;
  now?: () => number;
}

/**
 * A fixed-window limiter per key: the first `linesPerWindow` lines of a window pass, the rest are counted, and the next
 * line that passes in a later window is preceded by one line saying how many were left out. Nothing is queued.
 */
export class LogThrottle {
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly windows = new Map<string, { start: number; lines: number; suppressed: number }>();

  constructor(private readonly sink: LogSink, options: LogThrottleOptions = {}) {
    this.perWindow = options.linesPerWindow ?? 5;
    this.windowMs = options.windowMs ?? 1000;
    this.now = options.now ?? (() => performance.now());
    if (!(this.perWindow >= 1) || !(this.windowMs > 0)) throw new Error('log throttle: linesPerWindow must be >= 1 and windowMs > 0');
  }

  /** Logs `message` under `key` unless that key has used up its window; returns whether it was logged. */
  log(key: string, level: LogLevel, message: string): boolean {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.windowMs) {
      const left = w?.suppressed ?? 0;
      w = { start: t, lines: 0, suppressed: 0 };
      this.windows.set(key, w);
      if (left > 0) this.sink(level, `(${left} more like "${key}" left out of the log)`);
    }
    if (w.lines >= this.perWindow) {
      w.suppressed++;
      return false;
    }
    w.lines++;
    this.sink(level, message);
    return true;
  }

  /** Lines counted but not yet reported as left out, per key (for a final summary). */
  flush(): void {
    for (const [key, w] of this.windows) {
      if (w.suppressed > 0) this.sink('warn', `(${w.suppressed} more like "${key}" left out of the log)`);
      w.suppressed = 0;
    }
  }
}
