// LogThrottle: a flooding source gets a few lines per window and one count of what was left out, nothing queued.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LogThrottle, type LogLevel } from '../../../../src/core/sync/logThrottle';

function recorder() {
  const lines: Array<[LogLevel, string]> = [];
  return { lines, sink: (level: LogLevel, message: string) => { lines.push([level, message]); } };
}

describe('LogThrottle', () => {
  test('lets linesPerWindow lines through per window, then reports the count left out when the next window opens', () => {
    let now = 0;
    const { lines, sink } = recorder();
    const t = new LogThrottle(sink, { linesPerWindow: 3, windowMs: 1000, now: () => now });
    const passed = Array.from({ length: 100 }, (_, i) => t.log('k', 'warn', `line ${i}`));
    assert.equal(passed.filter(Boolean).length, 3);
    assert.deepEqual(lines.map((l) => l[1]), ['line 0', 'line 1', 'line 2']);
    now = 999;
    assert.equal(t.log('k', 'warn', 'still the first window'), false);
    now = 1000;
    assert.equal(t.log('k', 'warn', 'line 101'), true);
    assert.deepEqual(lines.slice(3).map((l) => l[1]), ['(98 more like "k" left out of the log)', 'line 101']);
  });

  test('keys are independent; flush reports what is still counted, once', () => {
    const now = 0;
    const { lines, sink } = recorder();
    const t = new LogThrottle(sink, { linesPerWindow: 1, now: () => now });
    t.log('a', 'warn', 'a1');
    t.log('a', 'warn', 'a2');
    t.log('b', 'info', 'b1');
    assert.deepEqual(lines.map((l) => l[1]), ['a1', 'b1']);
    t.flush();
    t.flush();
    assert.deepEqual(lines.slice(2), [['warn', '(1 more like "a" left out of the log)']]);
  });

  test('refuses a window that would let nothing through', () => {
    assert.throws(() => new LogThrottle(() => undefined, { linesPerWindow: 0 }), /linesPerWindow must be >= 1/);
    assert.throws(() => new LogThrottle(() => undefined, { windowMs: 0 }), /windowMs > 0/);
  });
});
