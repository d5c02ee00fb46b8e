// Unit tests for ClockSyncScheduler with scripted peers (the real links are covered by test/integration/clockDrift.test.ts): when rounds run, which exchange the offset comes from, reconnects, silence.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ClockSyncScheduler, clockDriftRecords, type ClockPingable, type ClockRound, type ClockSample } from '../../../../src/core/sync/clockSyncScheduler';
import { DesyncDetector } from '../../../../src/core/sync/desyncDetector';

/** A peer whose clock is `offset` ahead of the bridge's; each exchange takes the scripted [there, back] delays (ms). */
class ScriptedPeer implements ClockPingable {
  offset = 0;
  clockLinkId = 1;
  pings = 0;
  silent = false;
  constructor(private readonly delays: Array<[number, number]> = [[1, 1]]) {}

  clockPing(now: () => number): Promise<ClockSample | null> {
    if (this.silent) return Promise.resolve(null);
    const [there, back] = this.delays[this.pings++ % this.delays.length];
    const t0 = now();
    return Promise.resolve({ t0, t1: t0 + there + this.offset, t3: t0 + there + back });
  }
}

function scheduler(peer: ScriptedPeer, intervalFrames = 10, samples = 4): { s: ClockSyncScheduler; rounds: ClockRound[] } {
  const rounds: ClockRound[] = [];
  let t = 1000;
  const s = new ClockSyncScheduler({
    peers: [{ name: 'controller 1', player: 0, port: peer }], intervalFrames, samples, timeoutMs: 100,
    now: () => (t += 0.5), onRound: (r) => rounds.push(r),
  });
  return { s, rounds };
}

describe('ClockSyncScheduler', () => {
  test('measures at connect, then once every intervalFrames frames run', async () => {
    const peer = new ScriptedPeer();
    const { s, rounds } = scheduler(peer, 10, 4);
    s.connected(0);
    await s.idle();
    assert.equal(rounds.length, 1);
    assert.equal(peer.pings, 4, 'a round is a few pings');
    for (let f = 1; f <= 9; f++) s.frameRan(f);
    await s.idle();
    assert.equal(rounds.length, 1, 'no round before the interval');
    s.frameRan(10);
    await s.idle();
    assert.equal(rounds.length, 2);
    assert.equal(rounds[1].frame, 10);
    assert.deepEqual(s.clocks.map((c) => [c.peer, c.rounds, c.frame]), [['controller 1', 2, 10]]);
  });

  test('a clocks reading keeps what it read: later rounds change only later readings', async () => {
    const peer = new ScriptedPeer();
    peer.offset = 100;
    const { s } = scheduler(peer, 10, 4);
    s.connected(0);
    await s.idle();
    const first = s.clocks;
    peer.offset = 250;
    for (let f = 1; f <= 10; f++) s.frameRan(f);
    await s.idle();
    assert.deepEqual(first.map((c) => [c.rounds, c.frame, Math.round(c.offsetMs!)]), [[1, 0, 100]]);
    assert.deepEqual(s.clocks.map((c) => [c.rounds, c.frame, Math.round(c.offsetMs!)]), [[2, 10, 250]]);
    assert.equal(Math.round(s.offsetOf('controller 1')!), 250);
  });

  test('the offset comes from the exchange with the smallest round trip', async () => {
    // Three slow, lopsided exchanges (each skews the estimate by half its asymmetry) and one fast, even one.
    const peer = new ScriptedPeer([[40, 2], [25, 1], [2, 2], [3, 30]]);
    peer.offset = 500;
    const { s, rounds } = scheduler(peer);
    s.connected(0);
    await s.idle();
    assert.equal(rounds[0].rttMs, 4);
    assert.ok(Math.abs(rounds[0].offsetMs - 500) < 1, `offset ${rounds[0].offsetMs}`);
    assert.equal(s.offsetOf('controller 1'), rounds[0].offsetMs);
  });

  test('with the detector: a jump is one clock_drift of about its size, and steady rounds after it none', async () => {
    const peer = new ScriptedPeer([[1, 1], [3, 3]]);
    const detector = new DesyncDetector({ maxFrameSkip: 2, frameTimeoutMs: 100, clockDriftThresholdMs: 50 });
    const events = [];
    const { s, rounds } = scheduler(peer, 5);
    s.connected(0);
    for (let f = 1; f <= 60; f++) {
      if (f === 31) peer.offset = 300;
      s.frameRan(f);
      await s.idle();
      const r = rounds.at(-1)!;
      if (r.frame === f) {
        const ev = detector.checkClock(r.offsetMs, { frame: f, now: 0, peer: r.peer.name, player: r.peer.player });
        if (ev) events.push(ev);
      }
    }
    const drifts = clockDriftRecords(events);
    assert.equal(drifts.length, 1);
    assert.equal(drifts[0].peer, 'controller 1');
    assert.ok(Math.abs(drifts[0].driftMs! - 300) < 1, `drift ${drifts[0].driftMs}`);
    assert.equal(events[0].player, 0);
  });

  test('a new link is measured at once and flagged, so its old reference can be dropped', async () => {
    const peer = new ScriptedPeer();
    const { s, rounds } = scheduler(peer, 1000);
    s.connected(0);
    await s.idle();
    assert.equal(rounds[0].newLink, false);
    peer.clockLinkId = 2;
    s.frameRan(1);
    await s.idle();
    assert.equal(rounds.length, 2, 'a reconnect does not wait for the interval');
    assert.equal(rounds[1].newLink, true);
  });

  test('a peer that does not answer reports no round and keeps its last estimate', async () => {
    const peer = new ScriptedPeer();
    const { s, rounds } = scheduler(peer, 1);
    s.connected(0);
    await s.idle();
    peer.silent = true;
    s.frameRan(1);
    await s.idle();
    assert.equal(rounds.length, 1);
    assert.equal(s.clocks[0].rounds, 1);
  });

  test('refuses an interval that is not a positive whole number of frames', () => {
    assert.throws(() => new ClockSyncScheduler({ peers: [], intervalFrames: 0, timeoutMs: 1, now: () => 0, onRound: () => undefined }),
      /intervalFrames must be a positive integer, got 0/);
  });
});

describe('DesyncDetector.checkClock per peer', () => {
  test('each peer drifts from its own reference; resetClock(peer) forgets only that one', () => {
    const d = new DesyncDetector({ maxFrameSkip: 2, frameTimeoutMs: 100, clockDriftThresholdMs: 50 });
    assert.equal(d.checkClock(1000, { frame: 0, now: 0, peer: 'emulator' }), null);
    assert.equal(d.checkClock(-5, { frame: 0, now: 0, peer: 'controller 1', player: 0 }), null);
    const ev = d.checkClock(1300, { frame: 9, now: 0, peer: 'emulator' });
    assert.equal(ev?.clockDriftMs, 300);
    assert.equal(ev?.peer, 'emulator');
    assert.equal(ev?.player, null);
    assert.match(ev!.message, /^emulator: expected a clock offset near 1000 ms, measured 1300 ms at frame 9: drifted \+300 ms/);
    assert.equal(d.checkClock(10, { frame: 9, now: 0, peer: 'controller 1', player: 0 }), null, 'the trainer kept its own reference');
    d.resetClock('controller 1');
    assert.equal(d.clockReferenceFor('controller 1'), null);
    assert.equal(d.clockReferenceFor('emulator'), 1300);
  });

  test('a move the estimates\' uncertainty explains is no drift; a tighter estimate becomes the reference', () => {
    const d = new DesyncDetector({ maxFrameSkip: 2, frameTimeoutMs: 100, clockDriftThresholdMs: 50 });
    // A busy trainer answered late: its round trip was 120 ms, so its offset is known to within 60 ms.
    assert.equal(d.checkClock(70, { frame: 0, now: 0, peer: 'p', uncertaintyMs: 60 }), null);
    assert.equal(d.checkClock(0, { frame: 1, now: 0, peer: 'p', uncertaintyMs: 0.5 }), null, '70 ms apart, but 60.5 of it may be error');
    assert.equal(d.clockReferenceFor('p'), 0, 'the precise estimate is the reference now');
    const ev = d.checkClock(52, { frame: 2, now: 0, peer: 'p', uncertaintyMs: 0.5 });
    assert.equal(ev?.type, 'clock_drift');
    assert.match(ev!.message, /drifted \+52 ms \(limit 50 ms, estimates within ±1 ms\)/);
  });
});
