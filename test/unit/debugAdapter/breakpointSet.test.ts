// Breakpoint semantics without an adapter: desync filters with conditions, function breakpoints that stop when a condition becomes true, hit counts, RAM watches.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BreakpointSet, dataIdFor, parseDataId } from '../../../src/debugAdapter/breakpoints';
import { StateScope } from '../../../src/debugAdapter/stateScope';
import { parseRamMap } from '../../../src/core/config/ramMap';
import type { DesyncEvent } from '../../../src/core/sync/desyncDetector';

const RAM_MAP = parseRamMap(readFileSync(join(__dirname, '..', '..', '..', 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');
const at = (frame: number, ram = new Uint8Array(0x800)) => new StateScope(RAM_MAP, { frame, episode: 0, step: frame, ram });
const desync = (type: DesyncEvent['type'], gap: number | null): DesyncEvent => ({
  type, frame: 10, expectedFrame: 10, receivedFrame: gap === null ? null : 10 + gap, gap, delayMs: null, clockOffsetMs: null, player: 0, timestamp: 0, message: '',
});

/** The scope a desync condition is evaluated in: the frame plus the event's fields. */
const stops = (b: BreakpointSet, e: DesyncEvent) => b.desyncStops(e, new StateScope(RAM_MAP, { frame: 10, episode: 0, step: 10, ram: new Uint8Array(0x800) }, e));

describe('BreakpointSet', () => {
  test('desync filters: on by default for frame_skip, off for timeout; conditions decide; replacing the set clears old filters', () => {
    const b = new BreakpointSet(RAM_MAP);
    assert.equal(stops(b, desync('frame_skip', 3)).stops, true);
    assert.equal(stops(b, desync('timeout', null)).stops, false);
    const r = b.setExceptionFilters(['timeout'], [{ filterId: 'frame_skip', condition: 'gap > 5' }, { filterId: 'warp', condition: '' }]);
    assert.deepEqual(r.map((x) => x.verified), [true, true, false]);
    assert.match(r[2].message ?? '', /unknown desync filter "warp"/);
    assert.equal(stops(b, desync('frame_skip', 3)).stops, false);
    assert.equal(stops(b, desync('frame_skip', 6)).stops, true);
    assert.equal(stops(b, desync('timeout', null)).stops, true);
    assert.equal(stops(b, desync('frame_rewind', -1)).stops, false, 'not in the new set');
  });

  test('a function breakpoint stops when its condition becomes true, not on every frame it stays true', () => {
    const b = new BreakpointSet(RAM_MAP);
    const [bp] = b.setFunctionBreakpoints([{ name: 'frame >= 3' }], at(0));
    const ram = new Uint8Array(0x800);
    const hits = [1, 2, 3, 4, 5].map((f) => b.checkFrame(ram, ram, at(f))?.reason ?? null);
    assert.deepEqual(hits, [null, null, 'function breakpoint', null, null]);
    b.rebase(at(1));
    assert.equal(b.checkFrame(ram, ram, at(3))?.ids[0], bp.id, 'after going back below 3, reaching 3 again stops again');
  });

  test('a condition that cannot be evaluated for an event stops and says why', () => {
    const b = new BreakpointSet(RAM_MAP);
    b.setExceptionFilters([], [{ filterId: 'timeout', condition: 'ram[gap] > 1' }]);
    const r = stops(b, desync('timeout', null));
    assert.equal(r.stops, true);
    assert.match(r.error ?? '', /condition "ram\[gap\] > 1" failed: ram\[\.\.\.\] needs an integer index, got null/);
  });

  test('hit conditions: "% 2" stops on every second rise; a bad hit condition is refused', () => {
    const b = new BreakpointSet(RAM_MAP);
    const r = b.setFunctionBreakpoints([{ name: 'frame % 10 == 0', hitCondition: '% 2' }, { name: 'frame', hitCondition: 'often' }], at(1));
    assert.equal(r[1].verified, false);
    const ram = new Uint8Array(0x800);
    const stops: number[] = [];
    for (let f = 2; f <= 60; f++) if (b.checkFrame(ram, ram, at(f))) stops.push(f);
    assert.deepEqual(stops, [20, 40, 60]);
  });

  test('data breakpoints stop when a watched byte changes, with before and after values, and only then', () => {
    const b = new BreakpointSet(RAM_MAP);
    const id = dataIdFor({ address: 0x18, length: 1, label: 'p1_x' });
    assert.deepEqual(parseDataId(id), { address: 0x18, length: 1, label: 'p1_x' });
    assert.equal(parseDataId('ram:0x07ff:2'), undefined, 'runs past the end of RAM');
    b.setDataBreakpoints([{ dataId: id, accessType: 'write' }]);
    const before = new Uint8Array(0x800);
    const same = new Uint8Array(0x800);
    same[0x19] = 5;
    assert.equal(b.checkFrame(before, same, at(1)), undefined, 'a neighbouring byte changed');
    const after = new Uint8Array(0x800);
    after[0x18] = 66;
    const hit = b.checkFrame(before, after, at(2));
    assert.deepEqual([hit?.reason, hit?.description], ['data breakpoint', 'Changed p1_x: 0 -> 66']);
    const refused = b.setDataBreakpoints([{ dataId: id, accessType: 'read' }, { dataId: 'x' }]);
    assert.deepEqual(refused.map((x) => x.verified), [false, false]);
  });
});
