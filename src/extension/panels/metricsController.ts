// Metrics panel host logic: samples the runtime's rolling metrics into a bounded series, collects desync marks, exports CSV.
import type { MetricsSnapshot } from '../../core/sync/metrics';
import type { DesyncMark, HostMessage, MetricsPoint, MetricsSummary } from '../../webview/panelMessages';
import { PanelController, type PanelChannel, type PanelServices, type StreamSettings } from './panelController';
import type { PanelSession, RuntimeSource } from './runtimeSource';
import { metricsCsv } from './metricsCsv';

/** Points kept per session: 10 minutes at the default sampling rate. */
export const MAX_METRICS_POINTS = 2400;
export const MAX_DESYNC_MARKS = 500;
export const METRICS_SAMPLE_MS = 250;
export const METRICS_STREAM: StreamSettings = { highWatermark: 2, lowWatermark: 0, stallTimeoutMs: 3000 };

export class MetricsController extends PanelController<true> {
  private points: MetricsPoint[] = [];
  /** Absolute index of points[0], and how many points the webview has been sent (absolute). */
  private base = 0;
  private sent = 0;
  private resetNext = true;
  private marks: DesyncMark[] = [];
  private lastKey = '';
  private lastSampleAt = -Infinity;
  private dirty = false;

  constructor(channel: PanelChannel, source: RuntimeSource, services: PanelServices, stream: StreamSettings = METRICS_STREAM, private readonly sampleMs = METRICS_SAMPLE_MS) {
    super('metrics', channel, source, services, stream);
    this.start();
  }

  /** The series as sampled so far (for tests and export). */
  get series(): readonly MetricsPoint[] {
    return this.points;
  }

  protected onSession(session: PanelSession): void {
    this.points = [];
    this.base = 0;
    this.sent = 0;
    this.marks = [];
    this.lastKey = '';
    this.resetNext = true;
    this.dirty = true;
    this.lastSampleAt = -Infinity;
    const t0 = this.services.sessions.startedAt(session);
    this.listen(session.runtime.events.on('desync', (ev) => {
      this.marks.push({ t: (ev.timestamp - t0) / 1000, frame: ev.frame, type: ev.type, message: ev.message });
      if (this.marks.length > MAX_DESYNC_MARKS) this.marks.splice(0, this.marks.length - MAX_DESYNC_MARKS);
      this.dirty = true;
    }));
  }

  protected onReady(): void {
    this.resetNext = true;
    this.dirty = true;
    this.onPoll();
  }

  protected onPoll(): void {
    const now = this.now();
    if (now - this.lastSampleAt >= this.sampleMs) {
      this.lastSampleAt = now;
      this.sample(now);
    }
    if (!this.dirty) return;
    this.dirty = false;
    this.flow.offer(true);
  }

  protected build(_item: true, seq: number): HostMessage {
    const rt = this.runtime;
    const snap = rt?.metrics.snapshot();
    const reset = this.resetNext;
    const from = reset ? this.base : Math.max(this.sent, this.base);
    const points = this.points.slice(from - this.base);
    this.sent = this.base + this.points.length;
    this.resetNext = false;
    return {
      type: 'metrics',
      seq,
      update: {
        reset,
        points,
        summary: summaryOf(snap),
        delays: rt ? rt.metrics.history().map((s) => s.frameDelayMs) : [],
        desyncs: [...this.marks],
      },
    };
  }

  protected override onExportCsv(): void {
    const session = this.session;
    if (!session) {
      this.post({ type: 'saved', what: 'csv', path: null, error: 'no session to export metrics from' });
      return;
    }
    const csv = metricsCsv(session.runtime.metrics.history(), this.marks, this.services.sessions.startedAt(session));
    void this.save('csv', { title: 'Export Lockstep metrics as CSV', defaultName: 'lockstep-metrics.csv', filters: { CSV: ['csv'] }, data: new TextEncoder().encode(csv) });
  }

  private sample(now: number): void {
    const session = this.session;
    if (!session) return;
    const rt = session.runtime;
    const snap = rt.metrics.snapshot();
    const desyncTotal = Object.values(snap.desyncs).reduce((a, b) => a + b, 0);
    // A paused session adds no points: flat lines would hide when it actually ran.
    const key = `${snap.framesProcessed}:${desyncTotal}`;
    if (key === this.lastKey) return;
    this.lastKey = key;
    const hasSync = snap.syncQuality.samples > 0;
    this.points.push({
      t: (now - this.services.sessions.startedAt(session)) / 1000,
      frame: rt.current?.frame ?? 0,
      framesProcessed: snap.framesProcessed,
      fps: snap.runFps,
      delayP50: snap.frameDelay.p50,
      delayP99: snap.frameDelay.p99,
      delayMax: snap.frameDelay.max,
      latencyP50: snap.agentLatency.p50,
      latencyP99: snap.agentLatency.p99,
      syncAvg: hasSync ? snap.syncQuality.avg : null,
      syncP99: hasSync ? snap.syncQuality.p99 : null,
      desyncRate: snap.desyncRate,
    });
    if (this.points.length > MAX_METRICS_POINTS) {
      const cut = this.points.length - MAX_METRICS_POINTS;
      this.points.splice(0, cut);
      this.base += cut;
    }
    this.dirty = true;
  }
}

function summaryOf(s: MetricsSnapshot | undefined): MetricsSummary {
  if (!s) {
    const zero = { avg: 0, p50: 0, p99: 0, max: 0 };
    return { framesProcessed: 0, fps: 0, running: false, desyncRate: 0, desyncs: {}, frameDelay: zero, agentLatency: zero, syncQuality: { avg: 0, p99: 0, samples: 0 }, windowFrames: 0, clocks: [] };
  }
  return {
    framesProcessed: s.framesProcessed,
    fps: s.runFps,
    running: s.running,
    desyncRate: s.desyncRate,
    desyncs: { ...s.desyncs },
    frameDelay: { ...s.frameDelay },
    agentLatency: { ...s.agentLatency },
    syncQuality: { ...s.syncQuality },
    windowFrames: s.windowFrames,
    clocks: s.clocks.map(({ peer, offsetMs, rttMs, rounds }) => ({ peer, offsetMs, rttMs, rounds })),
  };
}
