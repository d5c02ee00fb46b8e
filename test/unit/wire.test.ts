// Tests that the Python client and the Lua script hold the wire constants generated from the TypeScript protocol (scripts/makeWire.ts), and use no copies of their own.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLOSE, MAX_MESSAGE_BYTES } from '../../src/bridge/protocol';
import { LUA_BEGIN, LUA_END, LUA_FILE, PYTHON_FILE, WIRE, expectedWireFiles, luaWithWire, pythonWire } from '../../scripts/makeWire';

const ROOT = resolve(__dirname, '..', '..');
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

/**
 * Lines of code (comments and the generated block left out) that hold one of the protocol's close codes as a number.
 * 1000 (normal) also converts seconds to milliseconds, so it counts only as a close's or a quit's argument.
 */
function closeCodeLiterals(text: string, comment: string, skipBlock: boolean): string[] {
  const patterns = Object.values(CLOSE).map((c) => c === CLOSE.normal
    ? /(close\w*\([^)]*|["']?code["']?\s*[:=]\s*)\b1000\b/
    : new RegExp(`\\b${c}\\b`));
  let inBlock = false;
  const hits: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (skipBlock && line.startsWith(LUA_BEGIN)) inBlock = true;
    if (!inBlock) {
      const code = line.split(comment)[0];
      if (patterns.some((p) => p.test(code))) hits.push(`${i + 1}: ${line.trim()}`);
    }
    if (skipBlock && line.startsWith(LUA_END)) inBlock = false;
  });
  return hits;
}

describe('generated wire constants', () => {
  test('the generated files are up to date with the TypeScript protocol (else run npm run wire)', () => {
    for (const [rel, text] of Object.entries(expectedWireFiles(ROOT))) {
      assert.ok(read(rel) === text, `${rel} is stale: run npm run wire`);
    }
  });

  test('a changed constant makes the files stale', () => {
    const changed = { ...WIRE, maxMessageBytes: MAX_MESSAGE_BYTES * 2 };
    assert.notEqual(read(PYTHON_FILE), pythonWire(changed));
    assert.notEqual(read(LUA_FILE), luaWithWire(read(LUA_FILE), changed));
  });

  test('the size cap is the same number in TypeScript, Python and Lua', () => {
    assert.match(read(PYTHON_FILE), new RegExp(`^MAX_MESSAGE_BYTES = ${MAX_MESSAGE_BYTES}$`, 'm'));
    assert.match(read(LUA_FILE), new RegExp(`^  max_message_bytes = ${MAX_MESSAGE_BYTES},$`, 'm'));
  });

  test('a Lua script without its markers is refused with a message naming them', () => {
    assert.throws(() => luaWithWire('local x = 1\n'), /BEGIN WIRE CONSTANTS.*END WIRE CONSTANTS/);
    const twice = `${LUA_BEGIN}\n${LUA_END}\n${LUA_BEGIN}\n${LUA_END}\n`;
    assert.throws(() => luaWithWire(twice), /exactly one/);
  });

  test('neither the Lua script nor the Python client spells a close code as a number outside the generated constants', () => {
    assert.deepEqual(closeCodeLiterals(read(LUA_FILE), '--', true), []);
    for (const f of ['client.py', 'env.py', 'buttons.py', 'screen.py', 'spaces.py', '__init__.py']) {
      assert.deepEqual(closeCodeLiterals(read(`clients/python/lockstep_client/${f}`), '#', false), [], f);
    }
  });
});
