// The metrics window as CSV (one row per frame: delay, agent latency, sync quality, desyncs), for the metrics panel's export.
import type { FrameSample } from '../../core/sync/metrics';

export const METRICS_CSV_HEADER = 'frame,time_ms,frame_delay_ms,agent_latency_ms,sync_quality_ms,desyncs';

/**
 * `time_ms` is the sample's wall clock relative to `t0` (ms); an empty sync quality means no screen was paired;
 * `desyncs` lists the desync types raised while that frame was held, separated by `;`.
 */
export function metricsCsv(samples: readonly FrameSample[], desyncs: ReadonlyArray<{ frame: number; type: string }>, t0: number): string {
  const byFrame = new Map<number, string[]>();
  for (const d of desyncs) {
    const list = byFrame.get(d.frame);
    if (list) list.push(d.type);
    else byFrame.set(d.frame, [d.type]);
  }
  const lines = [METRICS_CSV_HEADER];
  for (const s of samples) {
    lines.push([
      s.frame,
      num(s.t - t0),
      num(s.frameDelayMs),
      num(s.agentLatencyMs),
      s.syncQualityMs === null ? '' : num(s.syncQualityMs),
      (byFrame.get(s.frame) ?? []).join(';'),
    ].join(','));
  }
  return lines.join('\n') + '\n';
}

/** Microsecond resolution is what the clocks give; more digits are noise. */
function num(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}
