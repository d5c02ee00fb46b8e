// Layer 5 metrics: rolling windows of per-frame delays, agent latency and sync quality, summarised as percentiles on demand.
import { DESYNC_TYPES } from './desyncDetector';
import type { PeerClock } from './clockSyncScheduler';

export interface MetricsSnapshot {
  /** Frames recorded since construction or reset (not capped by the window). */
  framesProcessed: number;
  /** Frames per second over the window's wall time (pauses inside the window included). */
  fps: number;
  /** Frames per second of the current run (markRunStart), or of the last run of more than one frame while none is going. */
  runFps: number;
  /** Whether a run is going (between markRunStart and markRunEnd). */
  running: boolean;
  frameDelay: { p50: number; p99: number; max: number; avg: number };
  agentLatency: { p50: number; p99: number; max: number; avg: number };
  /** Over the frames in the window that had a screen paired; samples = how many (0 means the numbers are placeholders). */
  syncQuality: { avg: number; p99: number; samples: number };
  /** Desyncs per frame processed, both counted since reset. */
  desyncRate: number;
  desyncs: Record<string, number>;
  /** Frames the percentiles are computed over. */
  windowFrames: number;
  /** Clock sync per peer (emulator link, trainers): offset and round trip of the last round. */
  clocks: PeerClock[];
}

export interface FrameSample {
  frame: number;
  t: number;
  frameDelayMs: number;
  agentLatencyMs: number;
  syncQualityMs: number | null;
}

export const DEFAULT_METRICS_WINDOW = 1000;

/**
 * Percentiles use the nearest-rank definition: the p-th percentile of n sorted values is the ceil(p/100 * n)-th smallest.
 * The seed divided all-time desyncs by the window's frame count; here both are since reset, so the rate is a true ratio.
 */
export class SyncMetrics {
  private readonly cap: number;
  private readonly now: () => number;
  private readonly frames: Float64Array;
  private readonly times: Float64Array;
  private readonly delays: Float64Array;
  private readonly latencies: Float64Array;
  /** NaN where the frame had no paired screen. */
  private readonly qualities: Float64Array;
  private readonly scratch: Float64Array;
  private next = 0;
  private count = 0;
  private processed = 0;
  private desyncTotal = 0;
  private desyncCounts: Record<string, number> = {};
  private clockPeers: PeerClock[] = [];
  /** The run going or last ended (a Continue, Step N Frames), so the rate shown leaves paused time out. */
  private run: { start: number; startFrames: number; end: number | null } | null = null;
  private lastRun: { frames: number; ms: number } | null = null;

  constructor(opts: { window?: number; now: () => number }) {
    const w = opts?.window ?? DEFAULT_METRICS_WINDOW;
    if (!Number.isInteger(w) || w < 1) throw new RangeError(`SyncMetrics: window must be a positive integer, got ${String(w)}`);
    if (typeof opts?.now !== 'function') throw new TypeError('SyncMetrics: opts.now must be a clock function returning milliseconds');
    this.cap = w;
    this.now = opts.now;
    this.frames = new Float64Array(w);
    this.times = new Float64Array(w);
    this.delays = new Float64Array(w);
    this.latencies = new Float64Array(w);
    this.qualities = new Float64Array(w);
    this.scratch = new Float64Array(w);
    this.resetDesyncs();
  }

  recordFrame(f: { frame: number; frameDelayMs: number; agentLatencyMs: number; syncQualityMs: number | null }): void {
    if (!Number.isFinite(f.frameDelayMs)) throw new TypeError(`SyncMetrics.recordFrame: frameDelayMs must be finite, got ${f.frameDelayMs} (frame ${f.frame})`);
    if (!Number.isFinite(f.agentLatencyMs)) throw new TypeError(`SyncMetrics.recordFrame: agentLatencyMs must be finite, got ${f.agentLatencyMs} (frame ${f.frame})`);
    if (f.syncQualityMs !== null && !Number.isFinite(f.syncQualityMs)) {
      throw new TypeError(`SyncMetrics.recordFrame: syncQualityMs must be finite or null, got ${f.syncQualityMs} (frame ${f.frame})`);
    }
    const i = this.next;
    this.frames[i] = f.frame;
    this.times[i] = this.now();
    this.delays[i] = f.frameDelayMs;
    this.latencies[i] = f.agentLatencyMs;
    this.qualities[i] = f.syncQualityMs ?? NaN;
    this.next = i + 1 === this.cap ? 0 : i + 1;
    if (this.count < this.cap) this.count++;
    this.processed++;
  }

  /** The peers' clocks after a clock-sync round. */
  recordClocks(clocks: readonly PeerClock[]): void {
    this.clockPeers = clocks.map((c) => ({ ...c }));
  }

  /** Frames start running (Continue, Step N Frames): the run rate counts from here. */
  markRunStart(): void {
    this.run = { start: this.now(), startFrames: this.processed, end: null };
  }

  /** The run stopped; it becomes the last run unless it ran a single frame (a step says nothing about speed). */
  markRunEnd(): void {
    const r = this.run;
    if (!r || r.end !== null) return;
    r.end = this.now();
    const frames = this.processed - r.startFrames;
    if (frames > 1) this.lastRun = { frames, ms: r.end - r.start };
  }

  /**
   * Frames per second of the run going (frames since markRunStart over the time since), else of the last run; with no
   * run ever marked (a headless run), the window's rate.
   */
  runRate(): { fps: number; running: boolean } {
    const r = this.run;
    if (r && r.end === null) {
      const ms = this.now() - r.start;
      return { fps: ms > 0 ? ((this.processed - r.startFrames) * 1000) / ms : 0, running: true };
    }
    if (this.lastRun) return { fps: this.lastRun.ms > 0 ? (this.lastRun.frames * 1000) / this.lastRun.ms : 0, running: false };
    return { fps: r ? 0 : this.fps(), running: false };
  }

  recordDesync(type: string): void {
    this.desyncCounts[type] = (this.desyncCounts[type] ?? 0) + 1;
    this.desyncTotal++;
  }

  snapshot(): MetricsSnapshot {
    const n = this.count;
    const delay = this.summarise(this.delays);
    const latency = this.summarise(this.latencies);
    const quality = this.summarise(this.qualities);
    const run = this.runRate();
    return {
      framesProcessed: this.processed,
      fps: this.fps(),
      runFps: run.fps,
      running: run.running,
      frameDelay: { p50: delay.p50, p99: delay.p99, max: delay.max, avg: delay.avg },
      agentLatency: { p50: latency.p50, p99: latency.p99, max: latency.max, avg: latency.avg },
      syncQuality: { avg: quality.avg, p99: quality.p99, samples: quality.n },
      desyncRate: this.desyncTotal / Math.max(1, this.processed),
      desyncs: { ...this.desyncCounts },
      windowFrames: n,
      clocks: this.clockPeers.map((c) => ({ ...c })),
    };
  }

  /** The window, oldest first, for charts. */
  history(): FrameSample[] {
    const out = new Array<FrameSample>(this.count);
    const start = this.oldest();
    for (let j = 0; j < this.count; j++) {
      const i = (start + j) % this.cap;
      const q = this.qualities[i];
      out[j] = { frame: this.frames[i], t: this.times[i], frameDelayMs: this.delays[i], agentLatencyMs: this.latencies[i], syncQualityMs: Number.isNaN(q) ? null : q };
    }
    return out;
  }

  reset(): void {
    this.next = 0;
    this.count = 0;
    this.processed = 0;
    this.run = null;
    this.lastRun = null;
    this.resetDesyncs();
  }

  private resetDesyncs(): void {
    this.desyncTotal = 0;
    this.desyncCounts = {};
    for (const t of DESYNC_TYPES) this.desyncCounts[t] = 0;
  }

  private oldest(): number {
    return this.count < this.cap ? 0 : this.next;
  }

  private fps(): number {
    if (this.count < 2) return 0;
    const first = this.times[this.oldest()];
    const last = this.times[(this.next + this.cap - 1) % this.cap];
    const dt = last - first;
    return dt > 0 ? ((this.count - 1) * 1000) / dt : 0;
  }

  /** Sorts the window's values (NaN skipped) in a reused scratch array; all zeros when there are none. */
  private summarise(src: Float64Array): { p50: number; p99: number; max: number; avg: number; n: number } {
    let n = 0;
    let sum = 0;
    for (let i = 0; i < this.count; i++) {
      const v = src[i];
      if (Number.isNaN(v)) continue;
      this.scratch[n++] = v;
      sum += v;
    }
    if (n === 0) return { p50: 0, p99: 0, max: 0, avg: 0, n: 0 };
    const sorted = this.scratch.subarray(0, n).sort();
    return { p50: nearestRank(sorted, 50), p99: nearestRank(sorted, 99), max: sorted[n - 1], avg: sum / n, n };
  }
}

/** The p-th percentile of ascending values by nearest rank. */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1];
}
