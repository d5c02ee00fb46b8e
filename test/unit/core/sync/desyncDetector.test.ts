// Unit tests for DesyncDetector: the seed's gap classification, timeouts, clock drift, episode overruns, counts and messages.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DESYNC_TYPES, DesyncDetector } from '../../../../src/core/sync/desyncDetector';

const seedConfig = { maxFrameSkip: 2, frameTimeoutMs: 100, clockDriftThresholdMs: 50 };

describe('DesyncDetector.checkFrame', () => {
  test('classifies gaps as the seed does: >2 frame_skip, <0 frame_rewind, 1..2 minor_skip, 0 nothing', () => {
    const d = new DesyncDetector(seedConfig);
    const at = (received: number) => d.checkFrame(100, received, { now: 5 })?.type ?? null;
    assert.equal(at(100), null);
    assert.equal(at(101), 'minor_skip');
    assert.equal(at(102), 'minor_skip');
    assert.equal(at(103), 'frame_skip');
    assert.equal(at(150), 'frame_skip');
    assert.equal(at(99), 'frame_rewind');
    assert.equal(at(0), 'frame_rewind');
  });

  test('fills the event: frame held, expected, received, gap, player, timestamp', () => {
    const d = new DesyncDetector(seedConfig);
    const ev = d.checkFrame(100, 105, { player: 1, now: 1234 });
    assert.ok(ev);
    assert.equal(ev.type, 'frame_skip');
    assert.equal(ev.frame, 100);
    assert.equal(ev.expectedFrame, 100);
    assert.equal(ev.receivedFrame, 105);
    assert.equal(ev.gap, 5);
    assert.equal(ev.player, 1);
    assert.equal(ev.timestamp, 1234);
    assert.equal(ev.delayMs, null);
    assert.match(ev.message, /controller 2 sent an action for frame 105 while the emulator holds frame 100: 5 frames ahead, more than the 2 allowed\./);
    const rewind = d.checkFrame(100, 97, { now: 1 });
    assert.equal(rewind?.gap, -3);
    assert.equal(rewind?.player, null);
    assert.match(rewind!.message, /frame 97 .* holds frame 100: 3 frames behind/);
  });

  test('maxFrameSkip 0 makes every forward gap a frame_skip', () => {
    const d = new DesyncDetector({ ...seedConfig, maxFrameSkip: 0 });
    assert.equal(d.checkFrame(10, 11, { now: 0 })?.type, 'frame_skip');
  });

  test('rejects non-numeric frame ids with a clear error', () => {
    const d = new DesyncDetector(seedConfig);
    assert.throws(() => d.checkFrame(1, Number.NaN, { now: 0 }), /received must be a finite number, got NaN/);
  });
});

describe('DesyncDetector.checkTiming', () => {
  test('a delay above frameTimeoutMs is a timeout; at or below it is not', () => {
    const d = new DesyncDetector(seedConfig);
    assert.equal(d.checkTiming(1000, 1100, { frame: 7 }), null);
    const ev = d.checkTiming(1000, 1101, { frame: 7, player: 0 });
    assert.ok(ev);
    assert.equal(ev.type, 'timeout');
    assert.equal(ev.frame, 7);
    assert.equal(ev.delayMs, 101);
    assert.equal(ev.receivedFrame, null);
    assert.equal(ev.player, 0);
    assert.equal(ev.timestamp, 1101);
    assert.match(ev.message, /expected the action for frame 7 from controller 1, received none after 101 ms \(limit 100 ms\)/);
  });
});

describe('DesyncDetector.checkClock', () => {
  test('flags drift of the offset since the first sync, not a large constant offset', () => {
    const d = new DesyncDetector(seedConfig);
    // A constant 10 s offset (clocks with different origins) is not drift.
    assert.equal(d.checkClock(10_000, { frame: 0, now: 0 }), null);
    assert.equal(d.checkClock(10_030, { frame: 1000, now: 1 }), null);
    assert.equal(d.checkClock(10_050, { frame: 2000, now: 2 }), null);
    const ev = d.checkClock(10_051, { frame: 3000, now: 3 });
    assert.ok(ev);
    assert.equal(ev.type, 'clock_drift');
    assert.equal(ev.clockOffsetMs, 10_051);
    assert.equal(ev.frame, 3000);
    assert.match(ev.message, /near 10000 ms, measured 10051 ms at frame 3000: drifted \+51 ms \(limit 50 ms\)/);
  });

  test('drift in either direction counts, and the reference moves to the offset of the event', () => {
    const d = new DesyncDetector(seedConfig);
    d.checkClock(0, { frame: 0, now: 0 });
    assert.equal(d.checkClock(-60, { frame: 1, now: 0 })?.type, 'clock_drift');
    assert.equal(d.clockReferenceMs, -60);
    assert.equal(d.checkClock(-70, { frame: 2, now: 0 }), null, 'measured from the re-synced offset now');
    assert.equal(d.checkClock(-111, { frame: 3, now: 0 })?.type, 'clock_drift');
  });

  test('reset() keeps the clock reference; resetClock() drops it', () => {
    const d = new DesyncDetector(seedConfig);
    d.checkClock(0, { frame: 0, now: 0 });
    d.reset();
    assert.equal(d.checkClock(80, { frame: 1, now: 0 })?.type, 'clock_drift');
    d.resetClock();
    assert.equal(d.checkClock(500, { frame: 2, now: 0 }), null);
    assert.equal(d.clockReferenceMs, 500);
  });
});

describe('DesyncDetector.checkEpisode', () => {
  test('a row at or past the synced termination frame is an overrun; none without a termination', () => {
    const d = new DesyncDetector(seedConfig);
    assert.equal(d.checkEpisode(449, 450, { now: 0 }), null);
    assert.equal(d.checkEpisode(10_000, null, { now: 0 }), null);
    const at = d.checkEpisode(450, 450, { now: 9 });
    assert.equal(at?.type, 'episode_overrun');
    assert.equal(at?.gap, 0);
    assert.match(at!.message, /expected the episode to end before frame 450, received a row for frame 450: at the synced termination frame/);
    const past = d.checkEpisode(452, 450, { now: 9 });
    assert.equal(past?.gap, 2);
    assert.match(past!.message, /2 frames past/);
  });
});

describe('DesyncDetector counts', () => {
  test('counts every event by type, reset() zeroes them', () => {
    const d = new DesyncDetector(seedConfig);
    d.checkFrame(10, 20, { now: 0 });
    d.checkFrame(10, 20, { now: 0 });
    d.checkFrame(10, 11, { now: 0 });
    d.checkFrame(10, 10, { now: 0 });
    d.checkTiming(0, 500, { frame: 10 });
    d.checkState(10, 'aa', 'bb', { now: 0 });
    d.checkState(10, 'aa', 'aa', { now: 0 });
    d.record({ type: 'timeout', frame: 10, expectedFrame: 10, receivedFrame: null, gap: null, delayMs: 300, clockOffsetMs: null, player: 0, timestamp: 0, message: 'x' });
    const c = d.counts();
    assert.deepEqual(Object.keys(c).sort(), [...DESYNC_TYPES].sort());
    assert.equal(c.frame_skip, 2);
    assert.equal(c.minor_skip, 1);
    assert.equal(c.timeout, 2);
    assert.equal(c.state_divergence, 1);
    assert.equal(c.frame_rewind, 0);
    assert.equal(d.total(), 6);
    c.frame_skip = 99;
    assert.equal(d.counts().frame_skip, 2, 'counts() returns a copy');
    d.reset();
    assert.equal(d.total(), 0);
    assert.ok(Object.values(d.counts()).every((n) => n === 0));
  });

  test('rejects bad options naming the field', () => {
    assert.throws(() => new DesyncDetector({ ...seedConfig, frameTimeoutMs: -1 }), /frameTimeoutMs must be a finite number >= 0, got -1/);
    assert.throws(() => new DesyncDetector({ ...seedConfig, maxFrameSkip: Number.NaN }), /maxFrameSkip/);
  });
});
