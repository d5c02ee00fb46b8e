// Unit tests for ClockSync: offset and rtt from synthetic ping/pong samples, including asymmetric paths, min-rtt choice and drift.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ClockSync } from '../../../../src/core/sync/clockSync';

/** A round trip sent at local time t0 to a peer whose clock reads local + theta, with `up` and `down` one-way delays. */
function sample(t0: number, theta: number, up: number, down: number): [number, number, number] {
  const t1 = t0 + up + theta;
  const t3 = t0 + up + down;
  return [t0, t1, t3];
}

describe('ClockSync', () => {
  test('symmetric delays give the exact offset and the round trip', () => {
    const c = new ClockSync();
    assert.equal(c.offsetMs, null);
    assert.equal(c.rttMs, null);
    assert.equal(c.driftMs, null);
    c.addSample(...sample(1000, 250, 4, 4));
    assert.equal(c.offsetMs, 250);
    assert.equal(c.rttMs, 8);
    assert.equal(c.driftMs, 0);
  });

  test('asymmetric delays err by (up - down) / 2, never more than rtt / 2', () => {
    const c = new ClockSync();
    c.addSample(...sample(0, -500, 30, 10));
    assert.equal(c.rttMs, 40);
    assert.equal(c.offsetMs, -500 + (30 - 10) / 2);
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        (theta, up, down) => {
          const one = new ClockSync();
          one.addSample(...sample(10_000, theta, up, down));
          const err = Math.abs(one.offsetMs! - theta);
          assert.ok(err <= one.rttMs! / 2 + 1e-6, `error ${err} above rtt/2 ${one.rttMs! / 2}`);
        },
      ),
    );
  });

  test('keeps the sample with the smallest rtt among the last K', () => {
    const c = new ClockSync({ window: 3 });
    const theta = 100;
    c.addSample(...sample(0, theta, 50, 2)); // rtt 52, error +24
    c.addSample(...sample(100, theta, 1, 1)); // rtt 2, exact
    c.addSample(...sample(200, theta, 2, 40)); // rtt 42, error -19
    assert.equal(c.rttMs, 2);
    assert.equal(c.offsetMs, theta);
    c.addSample(...sample(300, theta, 20, 0)); // rtt 20, error +10; the rtt-2 sample is still in the window
    assert.equal(c.offsetMs, theta);
    c.addSample(...sample(400, theta, 30, 0)); // rtt 30
    c.addSample(...sample(500, theta, 40, 0)); // pushes the rtt-2 sample out; best left is rtt 20
    assert.equal(c.rttMs, 20);
    assert.equal(c.offsetMs, theta + 10);
    assert.equal(c.samples, 3);
  });

  test('drift is the change of the offset since the first estimate', () => {
    const c = new ClockSync({ window: 1 });
    c.addSample(...sample(0, 1000, 5, 5));
    c.addSample(...sample(1000, 1030, 5, 5));
    assert.equal(c.driftMs, 30);
    c.addSample(...sample(2000, 940, 5, 5));
    assert.equal(c.driftMs, -60);
  });

  test('converts between local and remote time, and refuses before the first sample', () => {
    const c = new ClockSync();
    assert.throws(() => c.toRemote(5), /no clock sample yet/);
    c.addSample(...sample(0, 250, 1, 1));
    assert.equal(c.toRemote(1000), 1250);
    assert.equal(c.toLocal(1250), 1000);
    c.reset();
    assert.equal(c.offsetMs, null);
    assert.throws(() => c.toLocal(5), /ClockSync.toLocal: no clock sample yet/);
  });

  test('rejects impossible samples and bad windows with clear errors', () => {
    const c = new ClockSync();
    assert.throws(() => c.addSample(10, 5, 9), /receive time t3 \(9\) is before send time t0 \(10\)/);
    assert.throws(() => c.addSample(0, Number.NaN, 1), /t1 must be a finite number/);
    assert.throws(() => new ClockSync({ window: 0 }), /window must be a positive integer/);
    assert.equal(c.samples, 0);
  });
});
