// Unit tests for RingBuffer: eviction order, indexing and clearing, checked against a plain array model.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RingBuffer } from '../../../../src/core/sync/ringBuffer';

describe('RingBuffer', () => {
  test('keeps the newest `capacity` items and returns what it evicts', () => {
    const r = new RingBuffer<number>(3);
    assert.equal(r.push(1), undefined);
    assert.equal(r.push(2), undefined);
    assert.equal(r.push(3), undefined);
    assert.equal(r.full, true);
    assert.equal(r.push(4), 1);
    assert.equal(r.push(5), 2);
    assert.deepEqual(r.toArray(), [3, 4, 5]);
    assert.deepEqual([...r], [3, 4, 5]);
    assert.equal(r.oldest(), 3);
    assert.equal(r.newest(), 5);
    assert.equal(r.get(0), 3);
    assert.equal(r.get(-1), 5);
    assert.equal(r.get(3), undefined);
    assert.equal(r.get(-4), undefined);
    assert.equal(r.size, 3);
  });

  test('set replaces in place and findLastIndex scans newest first', () => {
    const r = new RingBuffer<string>(4);
    for (const s of ['a', 'b', 'a', 'c', 'd']) r.push(s);
    assert.deepEqual(r.toArray(), ['b', 'a', 'c', 'd']);
    assert.equal(r.findLastIndex((s) => s === 'a'), 1);
    assert.equal(r.findLastIndex((s) => s === 'z'), -1);
    assert.equal(r.set(-1, 'D'), true);
    assert.equal(r.set(9, 'x'), false);
    assert.deepEqual(r.toArray(), ['b', 'a', 'c', 'D']);
  });

  test('clear empties it and it fills again from the start', () => {
    const r = new RingBuffer<number>(2);
    r.push(1);
    r.push(2);
    r.push(3);
    r.clear();
    assert.equal(r.size, 0);
    assert.equal(r.newest(), undefined);
    assert.equal(r.oldest(), undefined);
    r.push(7);
    assert.deepEqual(r.toArray(), [7]);
  });

  test('rejects a capacity that is not a positive integer', () => {
    assert.throws(() => new RingBuffer(0), /positive integer, got 0/);
    assert.throws(() => new RingBuffer(2.5), /positive integer, got 2.5/);
  });

  test('behaves like an array trimmed to the last `capacity` items', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer(), { maxLength: 40 }), (cap, xs) => {
        const r = new RingBuffer<number>(cap);
        const model: number[] = [];
        for (const x of xs) {
          const evicted = r.push(x);
          model.push(x);
          const expectedEvicted = model.length > cap ? model.shift() : undefined;
          assert.equal(evicted, expectedEvicted);
        }
        assert.deepEqual(r.toArray(), model);
        for (let i = 0; i < model.length; i++) assert.equal(r.get(i), model[i]);
      }),
    );
  });
});
