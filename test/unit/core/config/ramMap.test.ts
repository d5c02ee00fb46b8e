// Tests for RAM maps: parsing with field-named errors, reading values, reward, done flag and lookups.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { RamMap, emptyRamMap, parseRamMap } from '../../../../src/core/config/ramMap';

const DEMO = JSON.stringify({
  name: 'demo',
  variables: [
    { name: 'score_p1', address: '0x0010', size: 1, meaning: 'player 1 score' },
    { name: 'score_p2', address: 17, meaning: 'player 2 score' },
    { name: 'done', address: '0x0012', size: 1 },
    { name: 'timer', address: '0x0020', size: 2 },
    { name: 'vel', address: '0x07FE', size: 2, signed: true },
    { name: 'dx', address: '0x0030', signed: true },
  ],
  reward: [
    { player: 0, variable: 'score_p1', scale: 1 },
    { player: 0, variable: 'score_p2', scale: -0.5 },
    { player: 1, variable: 'score_p2' },
  ],
  done: { variable: 'done', equals: 1 },
});

function ram(writes: Record<number, number>): Uint8Array {
  const r = new Uint8Array(0x800);
  for (const [a, v] of Object.entries(writes)) r[Number(a)] = v;
  return r;
}

function parseError(text: string): string {
  try {
    parseRamMap(text, 'game.rammap.json');
  } catch (e) {
    return (e as Error).message;
  }
  return assert.fail('expected parseRamMap to throw');
}

function mapWith(patch: Record<string, unknown>): string {
  return JSON.stringify({ ...JSON.parse(DEMO), ...patch });
}

describe('ramMap: reading', () => {
  const map = parseRamMap(DEMO, 'demo.rammap.json');

  test('variables in file order, with defaults filled in', () => {
    assert.equal(map.name, 'demo');
    assert.deepEqual(map.names, ['score_p1', 'score_p2', 'done', 'timer', 'vel', 'dx']);
    assert.deepEqual(map.variables[1], { name: 'score_p2', address: 17, size: 1, signed: false, meaning: 'player 2 score' });
  });

  test('read: bytes, little-endian words, signed values', () => {
    const r = ram({ 0x10: 7, 0x11: 200, 0x12: 1, 0x20: 0x34, 0x21: 0x12, 0x7fe: 0xfe, 0x7ff: 0xff, 0x30: 0x80 });
    assert.deepEqual(map.read(r), { score_p1: 7, score_p2: 200, done: 1, timer: 0x1234, vel: -2, dx: -128 });
    assert.equal(map.value('timer', r), 0x1234);
    assert.throws(() => map.value('nope', r), /has no variable "nope"/);
  });

  test('reward is the scaled sum of deltas for that player only', () => {
    const before = ram({ 0x10: 3, 0x11: 10 });
    const after = ram({ 0x10: 5, 0x11: 14 });
    assert.equal(map.reward(0, before, after), 2 * 1 + 4 * -0.5);
    assert.equal(map.reward(1, before, after), 4);
    assert.equal(map.reward(0, after, after), 0);
  });

  test('isDone follows the done condition', () => {
    assert.equal(map.isDone(ram({ 0x12: 1 })), true);
    assert.equal(map.isDone(ram({ 0x12: 2 })), false);
  });

  test('lookup and nameOf by name, number or hex text; a word covers both bytes', () => {
    assert.equal(map.lookup('timer')?.address, 0x20);
    assert.equal(map.lookup(0x21)?.name, 'timer');
    assert.equal(map.lookup('0x0010')?.name, 'score_p1');
    assert.equal(map.lookup('$11')?.name, 'score_p2');
    assert.equal(map.lookup(0x13), undefined);
    assert.equal(map.lookup('missing'), undefined);
    assert.equal(map.nameOf(0x7ff), 'vel');
    assert.equal(map.nameOf(0x500), undefined);
  });

  test('ramRanges merges adjacent and overlapping variables', () => {
    assert.deepEqual(map.ramRanges(), [[0x10, 3], [0x20, 2], [0x30, 1], [0x7fe, 2]]);
  });

  test('RAM that is too short is a clear error, not NaN', () => {
    assert.throws(() => map.read(new Uint8Array(16)), /RAM map demo needs 2048 bytes of RAM, got 16/);
    assert.throws(() => map.reward(0, new Uint8Array(4), new Uint8Array(4)), /needs 2048 bytes/);
  });

  test('done may be a list of conditions (any holds)', () => {
    const m = parseRamMap(mapWith({ done: [{ variable: 'done', equals: 1 }, { variable: 'timer', equals: 0 }] }), 'x.json');
    assert.equal(m.isDone(ram({ 0x20: 0, 0x21: 0 })), true);
    assert.equal(m.isDone(ram({ 0x20: 1 })), false);
  });
});

describe('ramMap: empty map', () => {
  test('reads nothing, rewards nothing, never done', () => {
    const m = emptyRamMap();
    const r = new Uint8Array(0x800).fill(1);
    assert.deepEqual(m.read(r), {});
    assert.equal(m.reward(0, new Uint8Array(0x800), r), 0);
    assert.equal(m.isDone(r), false);
    assert.deepEqual(m.ramRanges(), []);
  });

  test('a file with only variables has no reward and no done flag', () => {
    const m = parseRamMap('{"variables":[{"name":"a","address":0}]}', 'roms/x/game.rammap.json');
    assert.equal(m.name, 'game');
    assert.equal(m.reward(0, ram({}), ram({ 0: 9 })), 0);
    assert.equal(m.isDone(ram({ 0: 1 })), false);
    assert.equal(m.warmupFramesFor('embedded'), 0);
  });
});

describe('ramMap: warmupFrames', () => {
  test('boot frames before episode 0 are read, and bad values are refused naming the field', () => {
    assert.equal(parseRamMap('{"variables":[],"warmupFrames":3}', 'w.rammap.json').warmupFramesFor('fceux'), 3);
    const per = parseRamMap('{"variables":[],"warmupFrames":{"embedded":4,"fceux":5}}', 'w.rammap.json');
    assert.deepEqual([per.warmupFramesFor('embedded'), per.warmupFramesFor('fceux')], [4, 5]);
    assert.throws(() => parseRamMap('{"variables":[],"warmupFrames":{"mesen":2}}', 'w.rammap.json'), /unknown field warmupFrames\.mesen/);
    assert.throws(() => parseRamMap('{"variables":[],"warmupFrames":{"fceux":"5"}}', 'w.rammap.json'), /warmupFrames\.fceux must be an integer/);
    assert.throws(() => parseRamMap('{"variables":[],"warmupFrames":-1}', 'w.rammap.json'), /w\.rammap\.json: warmupFrames must be an integer from 0 to 100000, got -1/);
    assert.throws(() => parseRamMap('{"variables":[],"warmupFrames":1.5}', 'w.rammap.json'), /warmupFrames must be an integer/);
  });
});

describe('ramMap: errors name the file and field', () => {
  test('invalid JSON carries a line when the parser gives a position', () => {
    assert.match(parseError('{\n"variables": [\n{"name": "a" "address": 1}\n]}'), /^game\.rammap\.json: invalid JSON: .*\(line 3\)$/);
    assert.equal(parseError('[]'), 'game.rammap.json: must be a JSON object with "variables", got []');
  });

  test('bad addresses and sizes', () => {
    const v = (variable: Record<string, unknown>) => mapWith({ variables: [...JSON.parse(DEMO).variables.slice(0, 3), variable], reward: [], done: undefined });
    assert.equal(parseError(v({ name: 'x', address: '0x0800' })),
      'game.rammap.json: variables[3].address must be a number or "0x..." hex string in work RAM 0x0000..0x07FF or PRG-RAM 0x6000..0x7FFF (size 1), got "0x0800"');
    assert.match(parseError(v({ name: 'x', address: '0x07FF', size: 2 })), /variables\[3\]\.address must be .* in work RAM 0x0000\.\.0x07FE or PRG-RAM 0x6000\.\.0x7FFE \(size 2\), got "0x07FF"/);
    assert.match(parseError(v({ name: 'x', address: '0x7FFF', size: 2 })), /got "0x7FFF"/);
    assert.match(parseError(v({ name: 'x', address: '0x5FFF' })), /got "0x5FFF"/);
    assert.match(parseError(v({ name: 'x', address: '0x8000' })), /got "0x8000"/);
    assert.match(parseError(v({ name: 'x', address: '10' })), /variables\[3\]\.address must be/);
    assert.match(parseError(v({ name: 'x', address: -1 })), /variables\[3\]\.address must be/);
    assert.match(parseError(v({ name: 'x', address: 1.5 })), /variables\[3\]\.address must be/);
    assert.match(parseError(v({ name: 'x' })), /variables\[3\]\.address must be .* got nothing$/);
    assert.equal(parseError(v({ name: 'x', address: 1, size: 4 })), 'game.rammap.json: variables[3].size must be 1 or 2, got 4');
    assert.match(parseError(v({ name: 'x', address: 1, signed: 'yes' })), /variables\[3\]\.signed must be true or false, got "yes"/);
    assert.match(parseError(v({ name: 'x', address: 1, meaning: 5 })), /variables\[3\]\.meaning must be a string/);
    assert.match(parseError(v({ name: 'x', address: 1, sise: 2 })), /unknown field variables\[3\]\.sise \(allowed: name, address, size/);
  });

  test('PRG-RAM variables ($6000-$7FFF) read from the frame\'s prgRam; a frame without it is a clear error, not a made-up value', () => {
    const map = parseRamMap(JSON.stringify({
      variables: [{ name: 'lives', address: '0x0010' }, { name: 'frames', address: '0x6010' }, { name: 'score', address: 0x7ffe, size: 2, signed: true }],
      reward: [{ variable: 'frames', scale: 2 }],
      done: { variable: 'frames', equals: 9 },
    }), 'save.rammap.json');
    assert.equal(map.needsPrgRam, true);
    assert.equal(parseRamMap(DEMO, 'game.rammap.json').needsPrgRam, false);
    const ram = new Uint8Array(0x800);
    ram[0x10] = 3;
    const prgRam = new Uint8Array(0x2000);
    prgRam[0x10] = 7;
    prgRam[0x1ffe] = 0xfe;
    prgRam[0x1fff] = 0xff;
    assert.deepEqual(map.read({ ram, prgRam }), { lives: 3, frames: 7, score: -2 });
    const later = prgRam.slice();
    later[0x10] = 9;
    assert.equal(map.reward(0, { ram, prgRam }, { ram, prgRam: later }), 4);
    assert.equal(map.isDone({ ram, prgRam }), false);
    assert.equal(map.isDone({ ram, prgRam: later }), true);
    assert.equal(map.lookup('$6010')?.name, 'frames');
    assert.deepEqual(map.ramRanges(), [[0x10, 1]], 'the work-RAM ranges an emulator sends; PRG-RAM travels whole');
    assert.throws(() => map.read(ram), /save: frames is in PRG-RAM \(\$6010\) and this frame carries none/);
  });

  test('names: missing, malformed, duplicate', () => {
    const withVars = (vars: unknown[]) => JSON.stringify({ variables: vars });
    assert.match(parseError(withVars([{ address: 1 }])), /variables\[0\]\.name must be a name of letters/);
    assert.match(parseError(withVars([{ name: '1up', address: 1 }])), /variables\[0\]\.name must be a name .* got "1up"/);
    assert.equal(parseError(withVars([{ name: 'a', address: 1 }, { name: 'b', address: 2 }, { name: 'a', address: 3 }])),
      'game.rammap.json: variables[2].name "a" duplicates variables[0].name');
    assert.match(parseError(withVars(['a'])), /variables\[0\] must be an object/);
    assert.match(parseError('{"variables": {}}'), /variables must be an array/);
  });

  test('reward and done must reference known variables', () => {
    assert.equal(parseError(mapWith({ reward: [{ player: 0, variable: 'lives' }] })),
      'game.rammap.json: reward[0].variable refers to unknown variable "lives" (known: score_p1, score_p2, done, timer, vel, dx)');
    assert.match(parseError(mapWith({ reward: [{ player: 2, variable: 'done' }] })), /reward\[0\]\.player must be 0 or 1, got 2/);
    assert.match(parseError(mapWith({ reward: [{ variable: 'done', scale: 'big' }] })), /reward\[0\]\.scale must be a finite number/);
    assert.match(parseError(mapWith({ reward: { variable: 'done' } })), /reward must be an array/);
    assert.equal(parseError(mapWith({ done: { variable: 'over', equals: 1 } })),
      'game.rammap.json: done.variable refers to unknown variable "over" (known: score_p1, score_p2, done, timer, vel, dx)');
    assert.match(parseError(mapWith({ done: { variable: 'done' } })), /done\.equals must be an integer, got nothing/);
    assert.match(parseError(mapWith({ done: [{ variable: 'done', equals: 1 }, { variable: 'done', equals: 'x' }] })), /done\[1\]\.equals must be an integer/);
    assert.match(parseError(mapWith({ done: { variable: 'done', equals: 1, when: 'always' } })), /unknown field done\.when/);
  });

  test('unknown top-level fields are refused', () => {
    assert.match(parseError(mapWith({ rewards: [] })), /^game\.rammap\.json: unknown field rewards \(allowed: /);
  });

  test('the constructor checks cross references too', () => {
    assert.throws(() => new RamMap({ name: 'm', variables: [], reward: [{ player: 0, variable: 'x', scale: 1 }], done: [] }), /reward refers to unknown variable "x"/);
    assert.throws(() => new RamMap({ name: 'm', variables: [{ name: 'a', address: 0x7ff, size: 2, signed: false }], reward: [], done: [] }), /outside work RAM/);
  });
});

test('the demo ROM\'s RAM map loads and drives reward and done', () => {
  const file = path.join(__dirname, '..', '..', '..', '..', 'roms', 'demo', 'demo.rammap.json');
  const m = parseRamMap(readFileSync(file, 'utf8'), file);
  const score1 = m.lookup('score_p1')!;
  const done = m.lookup('done')!;
  const before = new Uint8Array(0x800);
  const after = before.slice();
  after[score1.address] = 1;
  after[done.address] = 1;
  assert.equal(m.reward(0, before, after), 1);
  assert.equal(m.reward(1, before, after), 0);
  assert.equal(m.isDone(before), false);
  assert.equal(m.isDone(after), true);
});
