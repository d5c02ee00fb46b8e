// Unit tests for FrameGate: holding a frame until every player's action arrives, mismatches, manual supply, timeouts and aborts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FrameGate, type GateTimers } from '../../../../src/core/sync/frameGate';
import { BUTTON } from '../../../../src/core/buttons';

function fakeClock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** Timers fired by hand, so timeout tests do not depend on the machine's speed. */
function manualTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let id = 0;
  const timers: GateTimers = {
    set: (fn, ms) => {
      pending.set(++id, { fn, ms });
      return id;
    },
    clear: (h) => void pending.delete(h as number),
  };
  const fireAll = () => {
    for (const [k, t] of [...pending]) {
      pending.delete(k);
      t.fn();
    }
  };
  return { timers, pending, fireAll };
}

/** Whether a promise has settled yet, without waiting for it. */
async function settled<T>(p: Promise<T>): Promise<boolean> {
  const marker = Symbol('pending');
  return (await Promise.race([p, Promise.resolve(marker)])) !== marker;
}

describe('FrameGate', () => {
  test('holds the frame until every player\'s action for it arrives', async () => {
    const clock = fakeClock();
    const gate = new FrameGate({ players: [0, 1], now: clock.now });
    gate.open(10);
    const done = gate.wait(Infinity);
    assert.deepEqual(gate.offer(1, 10, BUTTON.A), { accepted: true });
    clock.advance(5);
    assert.equal(await settled(done), false, 'still waiting for controller 1');
    assert.deepEqual(gate.waiting, { frame: 10, since: 1000, waitingFor: [0] });
    clock.advance(3);
    gate.offer(0, 10, BUTTON.RIGHT | BUTTON.B);
    const r = await done;
    assert.equal(r.status, 'ready');
    assert.ok(r.status === 'ready');
    assert.equal(r.frame, 10);
    assert.deepEqual(r.buttons, [BUTTON.RIGHT | BUTTON.B, BUTTON.A]);
    assert.deepEqual(r.latencyMs, [8, 0]);
    assert.equal(gate.waiting, null);
  });

  test('actions that arrive before wait() make it resolve at once; undriven controllers read 0', async () => {
    const gate = new FrameGate({ players: [0], now: () => 0 });
    gate.open(0);
    gate.offer(0, 0, BUTTON.START);
    const r = await gate.wait(50);
    assert.deepEqual(r.status === 'ready' && r.buttons, [BUTTON.START, 0]);
  });

  test('complete says whether every driven controller has its action for the held frame; a wait then sets no timer', async () => {
    const { timers, pending } = manualTimers();
    const gate = new FrameGate({ players: [0, 1], now: () => 0, timers });
    assert.equal(gate.complete, false, 'nothing held');
    gate.open(3);
    assert.equal(gate.complete, false);
    gate.offer(0, 3, BUTTON.A);
    assert.equal(gate.complete, false, 'controller 2 still missing');
    gate.offer(1, 2, BUTTON.B);
    assert.equal(gate.complete, false, 'an action for another frame does not count');
    gate.supply(1, BUTTON.B);
    assert.equal(gate.complete, true);
    const r = await gate.wait(50);
    assert.equal(r.status, 'ready');
    assert.equal(pending.size, 0);
    gate.open(4);
    assert.equal(gate.complete, false, 'the next frame starts empty');
  });

  test('an action for another frame is not accepted and is reported as a mismatch', async () => {
    const gate = new FrameGate({ players: [0], now: () => 0 });
    gate.open(100);
    assert.deepEqual(gate.offer(0, 105, 1), { accepted: false, expected: 100, received: 105 });
    assert.deepEqual(gate.offer(0, 99, 1), { accepted: false, expected: 100, received: 99 });
    assert.deepEqual(gate.waiting?.waitingFor, [0], 'a mismatched action does not count');
    gate.offer(0, 100, 2);
    const r = await gate.wait(0);
    assert.deepEqual(r.status === 'ready' && r.buttons, [2, 0]);
  });

  test('the first agent action counts; a hand-supplied action replaces it', async () => {
    const gate = new FrameGate({ players: [0], now: () => 0 });
    gate.open(1);
    gate.offer(0, 1, BUTTON.A);
    gate.offer(0, 1, BUTTON.B);
    let r = await gate.wait(0);
    assert.deepEqual(r.status === 'ready' && r.buttons, [BUTTON.A, 0]);
    gate.supply(0, BUTTON.UP);
    assert.equal(gate.isManual(0), true);
    gate.offer(0, 1, BUTTON.DOWN);
    r = await gate.wait(0);
    assert.deepEqual(r.status === 'ready' && r.buttons, [BUTTON.UP, 0]);
  });

  test('pause-until-action: wait(Infinity) never times out and resolves when a person supplies the action', async () => {
    const clock = fakeClock();
    const { timers, pending } = manualTimers();
    const gate = new FrameGate({ players: [0, 1], now: clock.now, timers });
    gate.open(7);
    const done = gate.wait(Infinity);
    assert.equal(pending.size, 0, 'no timer for an endless wait');
    clock.advance(60_000);
    gate.supply(0, BUTTON.LEFT);
    gate.offer(1, 7, 0);
    const r = await done;
    assert.equal(r.status, 'ready');
    assert.deepEqual(r.status === 'ready' && r.latencyMs, [60_000, 60_000]);
  });

  test('a late action times out with the missing players and the time waited since open', async () => {
    const clock = fakeClock();
    const { timers, pending, fireAll } = manualTimers();
    const gate = new FrameGate({ players: [0, 1], now: clock.now, timers });
    gate.open(3);
    gate.offer(1, 3, 0);
    const done = gate.wait(100);
    assert.equal([...pending.values()][0].ms, 100);
    clock.advance(100);
    fireAll();
    assert.deepEqual(await done, { status: 'timeout', frame: 3, missing: [0], waitedMs: 100 });
    // The frame stays held: the runtime may wait again, or hold the previous buttons by supplying them.
    const again = gate.wait(100);
    gate.supply(0, BUTTON.A);
    const r = await again;
    assert.deepEqual(r.status === 'ready' && r.buttons, [BUTTON.A, 0]);
    assert.equal(pending.size, 0, 'the second wait\'s timer was cleared when it resolved');
  });

  test('the info of the counted agent action is kept for the held frame: not a duplicate\'s, not after a person\'s action, not into the next frame', () => {
    const gate = new FrameGate({ players: [0, 1], now: () => 0 });
    gate.open(9);
    gate.offer(0, 9, BUTTON.A, { v: 1 });
    gate.offer(0, 9, BUTTON.B, { v: 2 });
    gate.offer(1, 9, 0, { v: 3 });
    assert.deepEqual([gate.actionInfo(0), gate.actionInfo(1)], [{ v: 1 }, { v: 3 }]);
    gate.supply(1, BUTTON.LEFT);
    assert.equal(gate.actionInfo(1), undefined);
    gate.open(10);
    assert.equal(gate.actionInfo(0), undefined);
  });

  test('a timer that fires before the full wait has passed on the gate clock waits the rest: never a timeout too early', async () => {
    const clock = fakeClock();
    const { timers, pending, fireAll } = manualTimers();
    const gate = new FrameGate({ players: [0], now: clock.now, timers });
    gate.open(5);
    const done = gate.wait(60);
    clock.advance(59.8);
    fireAll();
    assert.equal(gate.pendingWaits, 1, 'still waiting at 59.8 ms');
    assert.deepEqual([...pending.values()].map((t) => t.ms), [1], 'the rest, rounded up to whole ms');
    clock.advance(1);
    fireAll();
    const r = await done;
    assert.equal(r.status, 'timeout');
    assert.ok(r.status === 'timeout' && r.waitedMs >= 60, `waited ${r.status === 'timeout' ? r.waitedMs : '?'} ms`);
  });

  test('a timeout with real timers (a few tens of ms)', async () => {
    const gate = new FrameGate({ players: [0], now: () => performance.now() });
    gate.open(0);
    const r = await gate.wait(20);
    assert.equal(r.status, 'timeout');
    assert.deepEqual(r.status === 'timeout' && r.missing, [0]);
    const late = gate.wait(1000);
    setTimeout(() => gate.offer(0, 0, BUTTON.B), 10);
    const r2 = await late;
    assert.equal(r2.status, 'ready', 'an action inside the timeout wins');
  });

  test('aborting the signal ends the wait as aborted; an already-aborted signal ends it at once', async () => {
    const { timers, pending } = manualTimers();
    const gate = new FrameGate({ players: [0], now: () => 0, timers });
    gate.open(4);
    const ac = new AbortController();
    const done = gate.wait(100, ac.signal);
    ac.abort();
    assert.deepEqual(await done, { status: 'aborted', frame: 4 });
    assert.equal(pending.size, 0);
    assert.deepEqual(await gate.wait(100, ac.signal), { status: 'aborted', frame: 4 });
    assert.equal(gate.pendingWaits, 0);
  });

  test('opening the next frame aborts waits on the old one and forgets its actions', async () => {
    const gate = new FrameGate({ players: [0], now: () => 0 });
    gate.open(1);
    const old = gate.wait(Infinity);
    gate.open(2);
    assert.deepEqual(await old, { status: 'aborted', frame: 1 });
    assert.deepEqual(gate.waiting?.waitingFor, [0]);
    assert.deepEqual(gate.offer(0, 1, 0), { accepted: false, expected: 2, received: 1 });
  });

  test('several concurrent waits all resolve when the last action arrives', async () => {
    const gate = new FrameGate({ players: [0, 1], now: () => 0 });
    gate.open(5);
    const a = gate.wait(Infinity);
    const b = gate.wait(Infinity);
    gate.offer(0, 5, 1);
    gate.offer(1, 5, 2);
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.status, 'ready');
    assert.equal(rb.status, 'ready');
    gate.open(6);
    const c = gate.wait(Infinity);
    gate.cancel();
    assert.deepEqual(await c, { status: 'aborted', frame: 6 });
  });

  test('no players: every wait is ready at once', async () => {
    const gate = new FrameGate({ players: [], now: () => 0 });
    gate.open(0);
    assert.deepEqual(await gate.wait(10), { status: 'ready', frame: 0, buttons: [0, 0], latencyMs: [] });
  });

  test('mode is stored for the runtime and validated', () => {
    const gate = new FrameGate({ players: [0], now: () => 0 });
    assert.equal(gate.mode, 'strict');
    gate.mode = 'hold';
    assert.equal(gate.mode, 'hold');
    assert.throws(() => (gate.mode = 'skip' as never), /must be 'strict' or 'hold', got "skip"/);
  });

  test('bad input gets clear errors', async () => {
    assert.throws(() => new FrameGate({ players: [0, 0], now: () => 0 }), /distinct controller indexes 0 or 1, got \[0,0\]/);
    assert.throws(() => new FrameGate({ players: [2], now: () => 0 }), /got \[2\]/);
    const gate = new FrameGate({ players: [1], now: () => 0 });
    assert.throws(() => gate.offer(1, 0, 0), /no frame is held/);
    assert.throws(() => gate.supply(1, 0), /no frame is held/);
    await assert.rejects(gate.wait(10), /no frame is held/);
    gate.open(0);
    assert.throws(() => gate.offer(0, 0, 0), /controller index 0 is not driven by an agent \(players \[1\]\)/);
    assert.throws(() => gate.offer(1, 0, 256), /buttons from controller 2 must be a mask 0..255, got 256/);
    assert.throws(() => gate.supply(1, -1), /buttons for controller 2 must be a mask/);
    assert.throws(() => gate.open(-1), /frame must be an integer >= 0, got -1/);
    await assert.rejects(gate.wait(Number.NaN), /timeoutMs must be >= 0 or Infinity, got NaN/);
  });
});
