// Unit tests for RecoveryPolicy: plans per desync type, heartbeat and reconnect backoff, and give-up inside the sliding window.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RecoveryPolicy } from '../../../../src/core/sync/recovery';
import type { DesyncEvent, DesyncType } from '../../../../src/core/sync/desyncDetector';

const seedConfig = { maxDesyncCount: 5, reconnectAttempts: 3, reconnectDelayMs: 1000 };

function ev(type: DesyncType, frame: number, gap: number | null = null): DesyncEvent {
  return { type, frame, expectedFrame: frame, receivedFrame: gap === null ? null : frame + gap, gap, delayMs: null, clockOffsetMs: null, player: 0, timestamp: 0, message: '' };
}

describe('RecoveryPolicy.plan', () => {
  test('maps each desync type to the seed\'s recovery', () => {
    const cases: Array<[DesyncType, string[]]> = [
      ['frame_skip', ['resync', 'clear_buffer', 'reset_counter']],
      ['frame_rewind', ['resync', 'clear_buffer']],
      ['minor_skip', ['resync']],
      ['timeout', ['heartbeat']],
      ['clock_drift', ['none']],
      ['episode_overrun', ['none']],
      ['state_divergence', ['resync', 'clear_buffer']],
    ];
    for (const [type, actions] of cases) {
      const p = new RecoveryPolicy(seedConfig).plan(ev(type, 10, 3));
      assert.deepEqual(p.actions, actions, type);
      assert.equal(p.delayMs, 0, type);
      assert.ok(p.reason.length > 0, type);
    }
  });

  test('gives up on the desync that makes more than maxDesyncCount inside the window', () => {
    const r = new RecoveryPolicy(seedConfig);
    for (let i = 0; i < 5; i++) assert.deepEqual(r.plan(ev('frame_skip', 100 + i * 10, 5)).actions, ['resync', 'clear_buffer', 'reset_counter']);
    const sixth = r.plan(ev('minor_skip', 150, 1));
    assert.deepEqual(sixth.actions, ['give_up']);
    assert.match(sixth.reason, /6 desyncs within the last 60 frames \(limit 5\); the latest was minor_skip at frame 150/);
    assert.ok(r.gaveUp);
    assert.deepEqual(r.plan(ev('clock_drift', 151)).actions, ['give_up'], 'stays given up');
    r.reset();
    assert.equal(r.gaveUp, null);
    assert.deepEqual(r.plan(ev('clock_drift', 151)).actions, ['none']);
  });

  test('desyncs older than the window no longer count', () => {
    const r = new RecoveryPolicy(seedConfig);
    // Seven desyncs, but never more than five inside (frame - 60, frame].
    for (const f of [0, 10, 20, 30, 40, 60, 70]) assert.notDeepEqual(r.plan(ev('minor_skip', f, 1)).actions, ['give_up'], `frame ${f}`);
    assert.equal(r.recentDesyncs, 5);
    assert.deepEqual(r.plan(ev('minor_skip', 71, 1)).actions, ['give_up'], '20, 30, 40, 60, 70 and 71 make six');
  });

  test('the window width is configurable and a rewound timeline is forgotten', () => {
    const r = new RecoveryPolicy({ ...seedConfig, maxDesyncCount: 1, windowFrames: 5 });
    r.plan(ev('minor_skip', 100, 1));
    assert.deepEqual(r.plan(ev('minor_skip', 105, 1)).actions, ['resync'], '100 is outside (100, 105]');
    // A new episode restarts at frame 0: events from frames above it belong to the old timeline.
    assert.deepEqual(r.plan(ev('minor_skip', 0, 1)).actions, ['resync']);
    assert.deepEqual(r.plan(ev('minor_skip', 2, 1)).actions, ['give_up']);
  });

  test('maxDesyncCount 0 gives up on the first counted desync', () => {
    const r = new RecoveryPolicy({ ...seedConfig, maxDesyncCount: 0 });
    assert.deepEqual(r.plan(ev('frame_rewind', 3, -1)).actions, ['give_up']);
  });

  test('timeouts do not fill the window: a slow but alive agent is held, not given up on', () => {
    const r = new RecoveryPolicy(seedConfig);
    for (let f = 0; f < 50; f++) {
      assert.deepEqual(r.plan(ev('timeout', f)).actions, ['heartbeat']);
      assert.deepEqual(r.heartbeatResult(true).actions, ['hold']);
    }
    assert.equal(r.recentDesyncs, 0);
  });
});

describe('RecoveryPolicy reconnect backoff', () => {
  test('a dead peer gets reconnectAttempts tries at reconnectDelayMs * 2^k, then give_up', () => {
    const r = new RecoveryPolicy(seedConfig);
    assert.deepEqual(r.plan(ev('timeout', 42)).actions, ['heartbeat']);
    const first = r.heartbeatResult(false);
    assert.deepEqual(first.actions, ['reconnect']);
    assert.equal(first.delayMs, 1000);
    assert.match(first.reason, /peer did not answer the heartbeat at frame 42: reconnect attempt 1 of 3 after 1000 ms/);
    const second = r.reconnectResult(false);
    assert.deepEqual([second.actions, second.delayMs], [['reconnect'], 2000]);
    const third = r.reconnectResult(false);
    assert.deepEqual([third.actions, third.delayMs], [['reconnect'], 4000]);
    const last = r.reconnectResult(false);
    assert.deepEqual(last.actions, ['give_up']);
    assert.match(last.reason, /reconnect attempt 3 failed; 3 reconnect attempts used up/);
    assert.deepEqual(r.heartbeatResult(true).actions, ['give_up'], 'stays given up');
  });

  test('repeated dead heartbeats continue the same backoff sequence', () => {
    const r = new RecoveryPolicy({ ...seedConfig, reconnectDelayMs: 50 });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      r.plan(ev('timeout', 7));
      const p = r.heartbeatResult(false);
      delays.push(p.actions[0] === 'reconnect' ? p.delayMs : -1);
    }
    assert.deepEqual(delays, [50, 100, 200, -1]);
  });

  test('a successful reconnect resyncs and restores the full budget; so does a live heartbeat', () => {
    const r = new RecoveryPolicy(seedConfig);
    r.plan(ev('timeout', 1));
    r.heartbeatResult(false);
    r.reconnectResult(false);
    assert.equal(r.reconnectAttemptsMade, 2);
    const ok = r.reconnectResult(true);
    assert.deepEqual(ok.actions, ['resync']);
    assert.equal(r.reconnectAttemptsMade, 0);
    r.plan(ev('timeout', 2));
    assert.equal(r.heartbeatResult(false).delayMs, 1000, 'backoff starts over');
    r.heartbeatResult(true);
    assert.equal(r.reconnectAttemptsMade, 0);
  });

  test('reconnectAttempts 0 gives up as soon as the heartbeat fails; delays are capped', () => {
    const none = new RecoveryPolicy({ ...seedConfig, reconnectAttempts: 0 });
    none.plan(ev('timeout', 1));
    assert.deepEqual(none.heartbeatResult(false).actions, ['give_up']);
    const capped = new RecoveryPolicy({ maxDesyncCount: 5, reconnectAttempts: 1000, reconnectDelayMs: 1000, maxReconnectDelayMs: 60_000 });
    assert.equal(capped.backoffMs(3), 8000);
    assert.equal(capped.backoffMs(999), 60_000);
  });

  test('rejects bad options naming the field', () => {
    assert.throws(() => new RecoveryPolicy({ ...seedConfig, reconnectAttempts: 1.5 }), /reconnectAttempts must be an integer >= 0, got 1.5/);
    assert.throws(() => new RecoveryPolicy({ ...seedConfig, reconnectDelayMs: -5 }), /reconnectDelayMs/);
    assert.throws(() => new RecoveryPolicy({ ...seedConfig, windowFrames: 0 }), /windowFrames must be an integer >= 1/);
  });
});
