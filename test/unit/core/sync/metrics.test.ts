// Unit tests for SyncMetrics: percentiles against a brute-force sort, the rolling window, fps from an injected clock, desync rate.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SyncMetrics } from '../../../../src/core/sync/metrics';

/** Nearest-rank percentile computed the slow, obvious way. */
function bruteRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  let rank = Math.ceil((p / 100) * sorted.length);
  if (rank < 1) rank = 1;
  return sorted[rank - 1];
}

function fakeClock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('SyncMetrics', () => {
  test('an empty window reports zeros', () => {
    const m = new SyncMetrics({ now: () => 0 });
    const s = m.snapshot();
    assert.equal(s.framesProcessed, 0);
    assert.equal(s.fps, 0);
    assert.deepEqual(s.frameDelay, { p50: 0, p99: 0, max: 0, avg: 0 });
    assert.equal(s.syncQuality.samples, 0);
    assert.equal(s.desyncRate, 0);
    assert.deepEqual(m.history(), []);
  });

  test('percentiles, max and averages match a brute-force sort over the window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 150 }),
        fc.array(fc.record({ d: fc.double({ min: 0, max: 500, noNaN: true }), l: fc.double({ min: 0, max: 500, noNaN: true }), q: fc.option(fc.double({ min: 0, max: 50, noNaN: true })) }), { minLength: 1, maxLength: 200 }),
        (window, rows) => {
          const m = new SyncMetrics({ window, now: () => 0 });
          rows.forEach((r, i) => m.recordFrame({ frame: i, frameDelayMs: r.d, agentLatencyMs: r.l, syncQualityMs: r.q }));
          const kept = rows.slice(-window);
          const s = m.snapshot();
          const delays = kept.map((r) => r.d);
          const lats = kept.map((r) => r.l);
          const quals = kept.flatMap((r) => (r.q === null ? [] : [r.q]));
          assert.equal(s.framesProcessed, rows.length);
          assert.equal(s.windowFrames, kept.length);
          assert.equal(s.frameDelay.p50, bruteRank(delays, 50));
          assert.equal(s.frameDelay.p99, bruteRank(delays, 99));
          assert.equal(s.frameDelay.max, Math.max(...delays));
          assert.ok(Math.abs(s.frameDelay.avg - delays.reduce((a, b) => a + b, 0) / delays.length) < 1e-9);
          assert.equal(s.agentLatency.p50, bruteRank(lats, 50));
          assert.equal(s.agentLatency.p99, bruteRank(lats, 99));
          assert.equal(s.agentLatency.max, Math.max(...lats));
          assert.equal(s.syncQuality.samples, quals.length);
          if (quals.length > 0) {
            assert.equal(s.syncQuality.p99, bruteRank(quals, 99));
            assert.ok(Math.abs(s.syncQuality.avg - quals.reduce((a, b) => a + b, 0) / quals.length) < 1e-9);
          }
        },
      ),
    );
  });

  test('a known distribution: 1..100 ms gives p50 50, p99 99, max 100', () => {
    const m = new SyncMetrics({ now: () => 0 });
    // Inserted out of order so the answer depends on sorting.
    for (let i = 0; i < 100; i++) m.recordFrame({ frame: i, frameDelayMs: ((i * 37) % 100) + 1, agentLatencyMs: 0, syncQualityMs: null });
    const s = m.snapshot();
    assert.deepEqual([s.frameDelay.p50, s.frameDelay.p99, s.frameDelay.max, s.frameDelay.avg], [50, 99, 100, 50.5]);
    // 60 values: rank ceil(0.99 * 60) = 60, so p99 is the maximum (rounding would give the 59th).
    const m60 = new SyncMetrics({ window: 60, now: () => 0 });
    for (let i = 1; i <= 60; i++) m60.recordFrame({ frame: i, frameDelayMs: i, agentLatencyMs: 0, syncQualityMs: null });
    assert.equal(m60.snapshot().frameDelay.p99, 60);
  });

  test('fps comes from the window\'s wall time on the injected clock', () => {
    const clock = fakeClock(5000);
    const m = new SyncMetrics({ window: 10, now: clock.now });
    for (let i = 0; i < 30; i++) {
      m.recordFrame({ frame: i, frameDelayMs: 1, agentLatencyMs: 1, syncQualityMs: 0 });
      clock.advance(i < 20 ? 100 : 2); // slow at first, then 500 fps; only the last 10 frames count
    }
    assert.equal(m.snapshot().fps, 500);
    const h = m.history();
    assert.equal(h.length, 10);
    assert.deepEqual(h.map((r) => r.frame), [20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    assert.equal(h[1].t - h[0].t, 2);
  });

  test('desync rate is desyncs per frame processed, with counts by type', () => {
    const m = new SyncMetrics({ window: 5, now: () => 0 });
    for (let i = 0; i < 20; i++) m.recordFrame({ frame: i, frameDelayMs: 0, agentLatencyMs: 0, syncQualityMs: null });
    m.recordDesync('frame_skip');
    m.recordDesync('frame_skip');
    m.recordDesync('timeout');
    m.recordDesync('custom_kind');
    const s = m.snapshot();
    assert.equal(s.desyncRate, 4 / 20);
    assert.equal(s.desyncs.frame_skip, 2);
    assert.equal(s.desyncs.timeout, 1);
    assert.equal(s.desyncs.custom_kind, 1);
    assert.equal(s.desyncs.minor_skip, 0, 'known types are always present for stable chart keys');
    m.reset();
    const r = m.snapshot();
    assert.equal(r.framesProcessed, 0);
    assert.equal(r.desyncRate, 0);
    assert.equal(r.desyncs.frame_skip, 0);
  });

  test('history keeps null sync quality as null', () => {
    const m = new SyncMetrics({ now: () => 7 });
    m.recordFrame({ frame: 1, frameDelayMs: 2, agentLatencyMs: 3, syncQualityMs: null });
    m.recordFrame({ frame: 2, frameDelayMs: 2, agentLatencyMs: 3, syncQualityMs: 4 });
    assert.deepEqual(m.history(), [
      { frame: 1, t: 7, frameDelayMs: 2, agentLatencyMs: 3, syncQualityMs: null },
      { frame: 2, t: 7, frameDelayMs: 2, agentLatencyMs: 3, syncQualityMs: 4 },
    ]);
  });

  test('rejects non-finite samples and bad options with clear errors', () => {
    const m = new SyncMetrics({ now: () => 0 });
    assert.throws(() => m.recordFrame({ frame: 3, frameDelayMs: Number.NaN, agentLatencyMs: 0, syncQualityMs: null }), /frameDelayMs must be finite, got NaN \(frame 3\)/);
    assert.throws(() => new SyncMetrics({ window: 0, now: () => 0 }), /window must be a positive integer/);
    assert.equal(m.snapshot().framesProcessed, 0);
  });
});

describe('SyncMetrics: the rate of the current run', () => {
  const frame = (m: SyncMetrics, n: number) => m.recordFrame({ frame: n, frameDelayMs: 1, agentLatencyMs: 0, syncQualityMs: null });

  test('counts from the run start, leaves paused time out, keeps the last run while paused, and ignores single steps', () => {
    const clock = fakeClock();
    const m = new SyncMetrics({ now: clock.now });
    // A slow first run: 10 frames at 10 fps, then a long pause.
    m.markRunStart();
    for (let i = 0; i < 10; i++) {
      clock.advance(100);
      frame(m, i);
    }
    m.markRunEnd();
    assert.deepEqual(m.runRate(), { fps: 10, running: false });
    clock.advance(60_000);
    // A single step says nothing about speed: the last run's rate stays.
    m.markRunStart();
    clock.advance(5);
    frame(m, 10);
    m.markRunEnd();
    assert.equal(m.runRate().fps, 10);
    // A fast run after the pause: 250 fps from its first second, whatever the window holds from before the pause.
    m.markRunStart();
    for (let i = 0; i < 250; i++) {
      clock.advance(4);
      frame(m, 11 + i);
    }
    const during = m.runRate();
    assert.equal(during.running, true);
    assert.equal(Math.round(during.fps), 250);
    assert.ok(m.snapshot().fps < 100, `the window's rate includes the pause (${m.snapshot().fps.toFixed(1)} fps): the reason for runFps`);
    assert.equal(Math.round(m.snapshot().runFps), 250);
    m.markRunEnd();
    clock.advance(30_000);
    assert.deepEqual({ ...m.runRate(), fps: Math.round(m.runRate().fps) }, { fps: 250, running: false }, 'paused: the last run, not diluted by the pause');
  });

  test('with no run ever marked (a headless run) the rate is the window\'s', () => {
    const clock = fakeClock();
    const m = new SyncMetrics({ now: clock.now });
    for (let i = 0; i < 11; i++) {
      clock.advance(20);
      frame(m, i);
    }
    assert.equal(m.runRate().fps, m.snapshot().fps);
    assert.equal(Math.round(m.runRate().fps), 50);
  });
});
