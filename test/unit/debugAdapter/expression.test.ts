// The breakpoint/console expression language: grammar, precedence, nulls, names over a frame and a desync event, and that nothing is ever eval'd.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ExpressionError, formatValue, parseExpression, truthy, unknownNames, type ExpressionScope, type Value } from '../../../src/debugAdapter/expression';
import { StateScope, knownNames, INDEXABLE_NAMES } from '../../../src/debugAdapter/stateScope';
import { parseRamMap } from '../../../src/core/config/ramMap';
import type { DesyncEvent } from '../../../src/core/sync/desyncDetector';

const RAM_MAP = parseRamMap(readFileSync(join(__dirname, '..', '..', '..', 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');

const vars = (v: Record<string, Value>): ExpressionScope => ({
  get: (n) => (Object.prototype.hasOwnProperty.call(v, n) ? v[n] : undefined),
  index: () => undefined,
});
const ev = (text: string, scope: ExpressionScope = vars({})) => parseExpression(text).evaluate(scope);

describe('expression: grammar and arithmetic', () => {
  test('numbers in decimal, 0x, $ and 0b; arithmetic and precedence like C for + - * / %', () => {
    assert.equal(ev('12 + 0x0C + $0c + 0b1100'), 48);
    assert.equal(ev('2 + 3 * 4'), 14);
    assert.equal(ev('(2 + 3) * 4'), 20);
    assert.equal(ev('7 % 4 - -1'), 4);
    assert.equal(ev('1 << 4 | 1'), 17);
    assert.equal(ev('~0 & 0xff'), 255);
    assert.equal(ev('1.5 * 2'), 3);
  });

  test('bitwise operators bind tighter than comparisons (as in Python), so masks need no parentheses', () => {
    assert.equal(ev('pad1 & 0x80 != 0', vars({ pad1: 0x81 })), true);
    assert.equal(ev('pad1 & 0x40 == 0x40', vars({ pad1: 0x81 })), false);
  });

  test('comparisons, logic and truthiness', () => {
    assert.equal(ev('3 > 2 && 2 >= 2 && 1 < 2 && 2 <= 2 && 1 != 2 && 2 == 2'), true);
    assert.equal(ev('0 || 5 > 9'), false);
    assert.equal(ev('!0'), true);
    assert.equal(ev('!(1 == 1) || true'), true);
    assert.equal(truthy(0), false);
    assert.equal(truthy(''), false);
    assert.equal(truthy(null), false);
    assert.equal(truthy(2), true);
  });

  test('&& and || short-circuit: an unknown name on the untaken side is not evaluated', () => {
    assert.equal(ev('false && nosuch > 1'), false);
    assert.equal(ev('true || nosuch > 1'), true);
    assert.throws(() => ev('true && nosuch > 1'), /unknown name "nosuch"/);
  });

  test('strings compare with == and !=; null (a missing field) makes orderings false, not errors', () => {
    assert.equal(ev("type == 'frame_skip'", vars({ type: 'frame_skip' })), true);
    assert.equal(ev('type != "timeout"', vars({ type: 'frame_skip' })), true);
    assert.equal(ev('gap > 5', vars({ gap: null })), false);
    assert.equal(ev('gap < 5', vars({ gap: null })), false);
    assert.equal(ev('gap == null', vars({ gap: null })), true);
    assert.equal(ev('gap + 1', vars({ gap: null })), null);
  });

  test('errors point at the problem: "=", unknown characters, calls, unbalanced brackets, division by zero, strings in arithmetic', () => {
    const bad: Array<[string, RegExp]> = [
      ['frame = 3', /"=" at column 7: use "==" to compare/],
      ['frame # 3', /unexpected character "#" at column 7/],
      ['max(1, 2)', /function calls are not supported/],
      ['(1 + 2', /expected "\)" at column 7/],
      ['ram[1', /expected "\]" to close ram\[/],
      ['1 +', /needs a value at the end/],
      ['', /empty expression/],
      ['1 2', /unexpected number 2 at column 3/],
      ['12abc', /malformed number "12abc"/],
      ["'open", /unterminated string/],
    ];
    for (const [text, re] of bad) assert.throws(() => parseExpression(text), (e: unknown) => e instanceof ExpressionError && re.test((e as Error).message), text);
    assert.throws(() => ev('1 / 0'), /division by zero/);
    assert.throws(() => ev('"a" * 2'), /"\*" needs numbers, got "a"/);
  });

  test('deep nesting and very long input are refused instead of overflowing the stack', () => {
    assert.throws(() => parseExpression('('.repeat(500) + '1' + ')'.repeat(500)), /nested too deeply/);
    assert.throws(() => parseExpression('1+'.repeat(1500) + '1'), /too long/);
  });

  test('it is not JavaScript: no property access, no globals, no code runs', () => {
    assert.throws(() => ev('process.exit(1)'), /function calls are not supported/);
    assert.throws(() => ev('constructor'), /unknown name "constructor"/);
    assert.throws(() => ev('this'), /unknown name "this"/);
    const source = readFileSync(join(__dirname, '..', '..', '..', 'src', 'debugAdapter', 'expression.ts'), 'utf8');
    assert.doesNotMatch(source, /\beval\s*\(|new\s+Function\b/);
  });

  test('integer arithmetic agrees with JavaScript for random operands (+ - * & | ^ and comparisons)', () => {
    const ops = ['+', '-', '*', '&', '|', '^', '<', '>', '==', '!='] as const;
    fc.assert(fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), fc.constantFrom(...ops), (a, b, op) => {
      const js: Record<(typeof ops)[number], (x: number, y: number) => number | boolean> = {
        '+': (x, y) => x + y, '-': (x, y) => x - y, '*': (x, y) => x * y, '&': (x, y) => x & y, '|': (x, y) => x | y,
        '^': (x, y) => x ^ y, '<': (x, y) => x < y, '>': (x, y) => x > y, '==': (x, y) => x === y, '!=': (x, y) => x !== y,
      };
      return ev(`a ${op} b`, vars({ a, b })) === js[op](a, b);
    }));
  });

  test('formatValue shows numbers in decimal and hex', () => {
    assert.equal(formatValue(64), '64 (0x40)');
    assert.equal(formatValue(-3), '-3');
    assert.equal(formatValue('x'), '"x"');
    assert.equal(formatValue(null), 'null');
  });
});

describe('expression: names over a frame and a desync event', () => {
  const ram = new Uint8Array(0x800);
  ram[0x10] = 0x34;
  ram[0x11] = 0x12;
  ram[0x16] = 3;
  ram[0x18] = 64;
  const state = { frame: 1200, episode: 2, step: 56, ram };
  const event: DesyncEvent = {
    type: 'frame_skip', frame: 1200, expectedFrame: 1200, receivedFrame: 1203, gap: 3, delayMs: null, clockOffsetMs: null,
    player: 1, timestamp: 0, message: 'm',
  };

  test('frame, episode and step are Lockstep\'s own counters; RAM-map names read RAM; vars.NAME reaches a shadowed one', () => {
    const s = new StateScope(RAM_MAP, state);
    assert.equal(ev('frame == 1200 && episode == 2 && step == 56', s), true);
    assert.equal(ev('score_p1 >= 3', s), true);
    assert.equal(ev('p1_x', s), 64);
    assert.equal(ev('vars.frame', s), 0x1234, 'the demo RAM map has its own 16-bit "frame"');
    assert.equal(ev('ram[0x05] > 10', s), false);
    assert.equal(ev('ram[$18] == p1_x', s), true);
    assert.equal(ev('ram16[0x10]', s), 0x1234);
    assert.throws(() => ev('ram[0x800]', s), /outside work RAM \$0000-\$07FF/);
    assert.throws(() => ev('ram16[0x7ff]', s), /outside work RAM/);
  });

  test('desync fields: gap, delayMs, receivedFrame, player (0-based) and controller (1-based)', () => {
    const s = new StateScope(RAM_MAP, state, event);
    assert.equal(ev('gap > 5', s), false);
    assert.equal(ev('gap == 3 && receivedFrame - expectedFrame == gap', s), true);
    assert.equal(ev('delayMs > 250', s), false);
    assert.equal(ev('player == 1 && controller == 2', s), true);
    assert.equal(ev("type == 'frame_skip' && score_p1 == 3", s), true);
  });

  test('unknownNames checks names before a breakpoint is accepted, with a suggestion', () => {
    const known = knownNames(RAM_MAP, false);
    assert.deepEqual(unknownNames(parseExpression('scroe_p1 > 1'), known, INDEXABLE_NAMES), ['unknown name "scroe_p1" (did you mean score_p1?)']);
    assert.deepEqual(unknownNames(parseExpression('gap > 1'), known, INDEXABLE_NAMES), ['unknown name "gap"']);
    assert.deepEqual(unknownNames(parseExpression('gap > 1'), knownNames(RAM_MAP, true), INDEXABLE_NAMES), []);
    assert.deepEqual(unknownNames(parseExpression('mem[1]'), known, INDEXABLE_NAMES), ['"mem" cannot be indexed (indexable: ram, ram16)']);
  });
});
