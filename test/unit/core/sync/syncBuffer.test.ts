// Unit tests for SyncBuffer: pairing by frame id or nearest timestamp, sync quality, capacity eviction and desync marks.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SyncBuffer } from '../../../../src/core/sync/syncBuffer';

describe('SyncBuffer', () => {
  test('pairs the state with the nearest-timestamp screen and reports the gap as sync quality', () => {
    const b = new SyncBuffer<string, string>(10);
    b.addState({ frame: 1, timestamp: 1000, state: 's1' });
    b.addState({ frame: 2, timestamp: 1016, state: 's2' });
    b.addState({ frame: 3, timestamp: 1033, state: 's3' });
    // Untagged captures, as the seed's screen grabber makes them.
    b.addScreen({ frame: null, timestamp: 1003, screen: 'A' });
    b.addScreen({ frame: null, timestamp: 1020, screen: 'B' });
    b.addScreen({ frame: null, timestamp: 1030, screen: 'C' });
    assert.deepEqual(b.pair(1), { frame: 1, state: 's1', screen: 'A', screenFrame: null, syncQualityMs: 3 });
    assert.deepEqual(b.pair(2), { frame: 2, state: 's2', screen: 'B', screenFrame: null, syncQualityMs: 4 });
    assert.deepEqual(b.pair(3), { frame: 3, state: 's3', screen: 'C', screenFrame: null, syncQualityMs: 3 });
    assert.equal(b.pair(4), null);
  });

  test('a screen tagged with the same frame wins over a nearer timestamp, with quality 0', () => {
    const b = new SyncBuffer<string, string>(4);
    b.addState({ frame: 5, timestamp: 100, state: 's5' });
    b.addScreen({ frame: 4, timestamp: 100, screen: 'four' });
    b.addScreen({ frame: 5, timestamp: 140, screen: 'five' });
    assert.deepEqual(b.pair(5), { frame: 5, state: 's5', screen: 'five', screenFrame: 5, syncQualityMs: 0 });
    b.addState({ frame: 6, timestamp: 150, state: 's6' });
    const p = b.pair(6);
    assert.equal(p?.screen, 'five');
    assert.equal(p?.screenFrame, 5, 'reports which frame the borrowed screen shows');
    assert.equal(p?.syncQualityMs, 10);
  });

  test('syncQualityMs is pair().syncQualityMs without reading any screen', () => {
    const b = new SyncBuffer<string, string>(8);
    let reads = 0;
    const screen = (frame: number | null, timestamp: number) => ({ frame, timestamp, get screen() { reads++; return 'x'; } });
    b.addState({ frame: 1, timestamp: 1000, state: 's1' });
    b.addState({ frame: 2, timestamp: 1016, state: 's2' });
    b.addState({ frame: 3, timestamp: 1033, state: 's3' });
    assert.equal(b.syncQualityMs(1), null, 'no screen yet');
    b.addScreen(screen(null, 1003));
    b.addScreen(screen(2, 1030));
    const got = [1, 2, 3, 4].map((f) => b.syncQualityMs(f));
    assert.equal(reads, 0, 'no screen was read');
    assert.deepEqual(got, [1, 2, 3, 4].map((f) => b.pair(f)?.syncQualityMs ?? null));
    assert.deepEqual(got, [3, 0, 3, null]);
  });

  test('without screens a pair has no screen and no quality', () => {
    const b = new SyncBuffer<number, string>(2);
    b.addState({ frame: 0, timestamp: 0, state: 42 });
    assert.deepEqual(b.pair(0), { frame: 0, state: 42, screen: null, screenFrame: null, syncQualityMs: null });
  });

  test('evicts the oldest states and screens beyond capacity', () => {
    const b = new SyncBuffer<number, number>(3);
    for (let f = 0; f < 5; f++) {
      b.addState({ frame: f, timestamp: f * 10, state: f });
      b.addScreen({ frame: f, timestamp: f * 10, screen: f });
    }
    assert.equal(b.size, 3);
    assert.equal(b.capacity, 3);
    assert.deepEqual(b.states().map((s) => s.frame), [2, 3, 4]);
    assert.deepEqual(b.screens().map((s) => s.frame), [2, 3, 4]);
    assert.equal(b.pair(1), null);
    assert.equal(b.pair(2)?.screen, 2);
    assert.equal(b.latest()?.frame, 4);
  });

  test('markDesync annotates the buffered state; clear empties both rings', () => {
    const b = new SyncBuffer<string, string>(5);
    b.addState({ frame: 9, timestamp: 0, state: 'x' });
    b.markDesync(9, 'frame_skip');
    b.markDesync(9, 'timeout');
    b.markDesync(123, 'timeout');
    assert.deepEqual(b.getState(9)?.desync, ['frame_skip', 'timeout']);
    b.addScreen({ frame: 9, timestamp: 0, screen: 'y' });
    b.clear();
    assert.equal(b.size, 0);
    assert.equal(b.screenCount, 0);
    assert.equal(b.latest(), undefined);
    assert.equal(b.pair(9), null);
  });

  test('after a rewind the newest state for a frame id is the one paired', () => {
    const b = new SyncBuffer<string, string>(10);
    for (let f = 0; f < 4; f++) b.addState({ frame: f, timestamp: f, state: `old${f}` });
    b.addState({ frame: 2, timestamp: 100, state: 'new2' });
    assert.equal(b.pair(2)?.state, 'new2');
    assert.equal(b.pair(3)?.state, 'old3');
  });

  test('rejects a capacity that is not a positive integer, naming the setting', () => {
    assert.throws(() => new SyncBuffer(0), /capacity \(sync.syncBufferSize\) must be a positive integer, got 0/);
  });

  test('pair agrees with a brute-force search for any insertion order', () => {
    const entry = fc.record({ frame: fc.integer({ min: 0, max: 12 }), timestamp: fc.integer({ min: 0, max: 200 }) });
    const screenEntry = fc.record({ frame: fc.option(fc.integer({ min: 0, max: 12 })), timestamp: fc.integer({ min: 0, max: 200 }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(entry, { maxLength: 15 }), fc.array(screenEntry, { maxLength: 15 }), fc.boolean(), (cap, states, screens, sorted) => {
        if (sorted) {
          states.sort((a, b) => a.frame - b.frame);
          screens.sort((a, b) => a.timestamp - b.timestamp);
        }
        const b = new SyncBuffer<number, number>(cap);
        states.forEach((s, i) => b.addState({ ...s, state: i }));
        screens.forEach((s, i) => b.addScreen({ ...s, screen: i }));
        const keptStates = states.map((s, i) => ({ ...s, state: i })).slice(-cap);
        const keptScreens = screens.map((s, i) => ({ ...s, screen: i })).slice(-cap);
        for (let f = 0; f <= 12; f++) {
          const got = b.pair(f);
          const st = [...keptStates].reverse().find((s) => s.frame === f);
          if (!st) {
            assert.equal(got, null);
            continue;
          }
          assert.ok(got);
          assert.equal(got.state, st.state);
          const exact = [...keptScreens].reverse().find((s) => s.frame === f);
          if (exact) {
            assert.equal(got.screen, exact.screen);
            assert.equal(got.syncQualityMs, 0);
          } else if (keptScreens.length === 0) {
            assert.equal(got.screen, null);
          } else {
            const best = Math.min(...keptScreens.map((s) => Math.abs(s.timestamp - st.timestamp)));
            assert.equal(got.syncQualityMs, best);
            const chosen = keptScreens.find((s) => s.screen === got.screen)!;
            assert.equal(Math.abs(chosen.timestamp - st.timestamp), best);
            assert.equal(got.screenFrame, chosen.frame);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
