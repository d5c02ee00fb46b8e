// Unit tests of the webview stream's flow control: watermarks, hysteresis, newest-wins pending slot, drop/loss counts, stalls.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameFlowController } from '../../src/extension/panels/frameFlowController';

function make(high = 3, low = 1, stallTimeoutMs = 1000) {
  let now = 0;
  const sent: Array<{ item: number; seq: number }> = [];
  const flow = new FrameFlowController<number>({ highWatermark: high, lowWatermark: low, stallTimeoutMs, now: () => now, send: (item, seq) => sent.push({ item, seq }) });
  return { flow, sent, advance: (ms: number) => { now += ms; } };
}

describe('FrameFlowController', () => {
  test('sends while under the high watermark, then holds only the newest and counts the rest as dropped', () => {
    const { flow, sent } = make(3, 1);
    for (let i = 1; i <= 10; i++) flow.offer(i);
    assert.deepEqual(sent, [{ item: 1, seq: 1 }, { item: 2, seq: 2 }, { item: 3, seq: 3 }]);
    const s = flow.stats;
    assert.equal(s.outstanding, 3);
    assert.equal(s.throttled, true);
    assert.equal(s.pending, true);
    assert.equal(s.dropped, 6, 'items 4..9 were displaced by newer ones');
  });

  test('a fresher copy of the pending item (sameItem) replaces it without counting a drop', () => {
    const sent: Array<{ frame: number; v: number }> = [];
    const flow = new FrameFlowController<{ frame: number; v: number }>({
      highWatermark: 1, lowWatermark: 0, stallTimeoutMs: 1000, now: () => 0, send: (item) => sent.push(item), sameItem: (a, b) => a.frame === b.frame,
    });
    flow.offer({ frame: 1, v: 0 });
    flow.offer({ frame: 2, v: 0 });
    flow.offer({ frame: 2, v: 1 });
    assert.equal(flow.stats.dropped, 0, 'frame 2 again is not a frame skipped');
    flow.offer({ frame: 3, v: 0 });
    assert.equal(flow.stats.dropped, 1, 'frame 2 never shown: skipped');
    flow.ack(1);
    assert.deepEqual(sent.at(-1), { frame: 3, v: 0 });
  });

  test('hysteresis: sending resumes only once acks bring the backlog down to the low watermark; the pending newest goes first', () => {
    const { flow, sent } = make(4, 1);
    for (let i = 1; i <= 6; i++) flow.offer(i);
    assert.equal(sent.length, 4);
    flow.ack(1);
    flow.ack(2);
    assert.equal(sent.length, 4, 'still above the low watermark: nothing more sent');
    assert.equal(flow.offer(7), 'pending');
    flow.ack(3);
    assert.deepEqual(sent.at(-1), { item: 7, seq: 5 }, 'at the low watermark the newest pending item is sent');
    assert.equal(flow.stats.throttled, false);
    assert.equal(flow.offer(8), 'sent');
    assert.equal(flow.stats.dropped, 2, 'items 5 and 6 were dropped');
  });

  test('acks are cumulative; stale and repeated ones are ignored; an ack beyond what was sent is an error', () => {
    const { flow } = make(5, 2);
    for (let i = 0; i < 4; i++) flow.offer(i);
    flow.ack(3);
    assert.equal(flow.stats.outstanding, 1);
    assert.equal(flow.stats.acked, 3);
    flow.ack(2);
    flow.ack(3);
    assert.equal(flow.stats.acked, 3);
    assert.throws(() => flow.ack(9), /ack for seq 9, but only 4 were sent/);
    assert.throws(() => flow.ack(-1), /non-negative integer/);
  });

  test('a stalled webview: unacknowledged items count as lost after the timeout and the newest pending item is sent', () => {
    const { flow, sent, advance } = make(2, 0, 500);
    for (let i = 1; i <= 5; i++) flow.offer(i);
    advance(499);
    flow.tick();
    assert.equal(sent.length, 2);
    advance(1);
    flow.tick();
    assert.deepEqual(sent.at(-1), { item: 5, seq: 3 });
    assert.equal(flow.stats.lost, 2);
    assert.equal(flow.stats.dropped, 2, 'items 3 and 4');
  });

  test('reset (webview reloaded) forgets what was in flight; paused streams only keep the newest item', () => {
    const { flow, sent } = make(2, 0);
    flow.setPaused(true);
    for (let i = 1; i <= 4; i++) flow.offer(i);
    assert.equal(sent.length, 0);
    assert.equal(flow.stats.dropped, 3);
    flow.setPaused(false);
    assert.deepEqual(sent, [{ item: 4, seq: 1 }]);
    flow.offer(5);
    flow.offer(6);
    flow.reset();
    assert.equal(flow.stats.lost, 2, 'items 4 and 5 were in flight');
    assert.deepEqual(sent.at(-1), { item: 6, seq: 3 }, 'the pending item goes to the new webview');
    assert.equal(flow.stats.outstanding, 1);
    flow.ack(1);
    assert.equal(flow.stats.acked, 0, 'acks from before the reset are stale');
    flow.offer(7);
    flow.offer(8);
    assert.equal(flow.stats.pending, true);
    flow.clear();
    assert.equal(flow.stats.pending, false);
  });

  test('bad watermarks are rejected with the field named', () => {
    const send = () => undefined;
    const now = () => 0;
    assert.throws(() => new FrameFlowController({ highWatermark: 0, lowWatermark: 0, stallTimeoutMs: 1, send, now }), /highWatermark must be a positive integer, got 0/);
    assert.throws(() => new FrameFlowController({ highWatermark: 2, lowWatermark: 2, stallTimeoutMs: 1, send, now }), /lowWatermark must be an integer in 0..1/);
    assert.throws(() => new FrameFlowController({ highWatermark: 2, lowWatermark: 0, stallTimeoutMs: 0, send, now }), /stallTimeoutMs must be positive/);
  });

  test('property: never more than highWatermark unacknowledged, and every offered item is sent, dropped or pending exactly once', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('offer' as const) }),
      fc.record({ k: fc.constant('ack' as const), back: fc.nat(6) }),
      fc.record({ k: fc.constant('tick' as const), ms: fc.nat(800) }),
      fc.record({ k: fc.constant('reset' as const) }),
      fc.record({ k: fc.constant('pause' as const), on: fc.boolean() }),
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 200 }), (high, ops) => {
      const { flow, sent, advance } = make(high, Math.floor(high / 2), 300);
      let offered = 0;
      for (const o of ops) {
        switch (o.k) {
          case 'offer': flow.offer(++offered); break;
          case 'ack': { const last = sent.at(-1)?.seq ?? 0; flow.ack(Math.max(0, last - o.back)); break; }
          case 'tick': advance(o.ms); flow.tick(); break;
          case 'reset': flow.reset(); break;
          case 'pause': flow.setPaused(o.on); break;
        }
        assert.ok(flow.stats.outstanding <= high);
      }
      const s = flow.stats;
      assert.equal(s.sent + s.dropped + (s.pending ? 1 : 0), offered);
      assert.deepEqual(sent.map((x) => x.seq), sent.map((_, i) => i + 1), 'sequence numbers are consecutive');
      const items = sent.map((x) => x.item);
      assert.deepEqual(items, [...items].sort((a, b) => a - b), 'items go out in the order offered');
    }), { numRuns: 300 });
  });
});
