// Property-based bad-input tests: random and mutated wire messages, screens, FM2 movies, RAM maps, lockstep.yaml and iNES images never crash a parser.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  MAX_ERROR_CHARS, encode, parseAgentToBridge, parseBridgeToAgent, parseBridgeToEmulator, parseEmulatorToBridge, preview,
  type Parsed,
} from '../../src/bridge/protocolCodec';
import { MAX_MESSAGE_BYTES } from '../../src/bridge/protocol';
import {
  GD_HEADER_BYTES, SCREEN_HEADER_BYTES, STATE_HEADER_BYTES, binaryFrameKind, decodeScreenFrame, decodeStateFrame, downsample,
  encodeScreenFrame, encodeStateFrame, gdToRgba, type StateFrame,
} from '../../src/bridge/screenFrame';
import { parseFm2, writeFm2 } from '../../src/core/episodes/fm2';
import { parseRamMap } from '../../src/core/config/ramMap';
import { ConfigError, SYNC_SETTINGS, defaultSyncConfig, mergeSyncConfig, parseLockstepYaml, type SyncConfig } from '../../src/core/config/config';
import { parseRom } from '../../src/emulators/rom';

const ROOT = join(__dirname, '..', '..');
const DEMO_ROM = new Uint8Array(readFileSync(join(ROOT, 'roms', 'demo', 'demo.nes')));
const DEMO_RAM_MAP = readFileSync(join(ROOT, 'roms', 'demo', 'demo.rammap.json'), 'utf8');
/** Bounded runs: the whole file takes seconds. FUZZ_RUNS scales every property (e.g. FUZZ_RUNS=20000 for a long hunt). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const runs = (factor = 1) => ({ numRuns: Math.max(1, Math.round(RUNS * factor)) });

// ---------- shared helpers ----------

/** Control characters (newlines, NUL, ESC...): never allowed in an error, which ends up in logs, close reasons and terminals. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
/** Wire errors go back to the peer and into logs: C1 controls and line separators are out too. */
// eslint-disable-next-line no-control-regex -- as above
const WIRE_CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A nesting of `depth` arrays as JSON text (JSON.stringify cannot build it: that is the point). */
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/**
 * JSON text of a value that is wrong in some way for most fields: wrong types, edge numbers, long text, deep nesting.
 * Huge values are drawn as short tokens ("«[60000»") and expanded where they are used, so a failure report stays readable.
 */
const rawValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '-1', '-0', '0', '0.5', '1e400', '-1e400', '9007199254740991', '9007199254740992', '9007199254740993',
      '1.7976931348623157e308', '4294967295', '4294967296', '65535', '65536', '255', '256', '""', '" "', 'null', 'true',
      'false', '[]', '{}', '[0]', '[0,0,0]', '"0x10"', '"1"', '"\\u0000\\u001b[31m"', '"A\\nB"', '[["A"]]', '{"format":"gray"}',
      '{"__proto__":{"x":1}}', '"constructor"', '"__proto__"', '"hello"', '"action"',
    ),
  },
  { weight: 2, arbitrary: fc.double({ noNaN: true }).filter(Number.isFinite).map((d) => JSON.stringify(d)) },
  { weight: 2, arbitrary: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map((b) => b.toString()) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 60_000 }).map((n) => `«[${n}»`) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 30_000 }).map((n) => `«{${n}»`) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 200_000 }).map((n) => `«x${n}»`) },
);

/** The JSON text a rawValue token stands for. */
function expand(raw: string): string {
  const m = /^«([[{x])(\d+)»$/.exec(raw);
  if (!m) return raw;
  const n = Number(m[2]);
  return m[1] === '[' ? deepArray(n) : m[1] === '{' ? deepObject(n) : JSON.stringify('x'.repeat(n));
}

/** Object JSON text with one field's value replaced by raw JSON text (which may be too deep for JSON.stringify). */
function withField(obj: Record<string, unknown>, field: string, raw: string): string {
  const marker = JSON.stringify('\u0001MARK\u0001');
  const text = JSON.stringify({ ...obj, [field]: '\u0001MARK\u0001' });
  const at = text.indexOf(marker);
  assert.ok(at >= 0, 'marker not found');
  // Not String.replace: the value may hold "$&"-style patterns.
  return text.slice(0, at) + expand(raw) + text.slice(at + marker.length);
}

/** Character-level damage to a text: flip one character, cut it short, insert junk, or duplicate a slice. */
const textMutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), ch: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), junk: fc.string({ maxLength: 8, unit: 'binary' }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), len: fc.nat({ max: 40 }) }),
);
type TextMutation = typeof textMutation extends fc.Arbitrary<infer T> ? T : never;

function mutateText(text: string, m: TextMutation): string {
  const at = text.length === 0 ? 0 : m.at % (text.length + 1);
  switch (m.kind) {
    case 'flip': return text.slice(0, at) + String.fromCharCode(m.ch) + text.slice(at + 1);
    case 'truncate': return text.slice(0, at);
    case 'insert': return text.slice(0, at) + m.junk + text.slice(at);
    case 'duplicate': return text.slice(0, at) + text.slice(at, at + m.len) + text.slice(at);
    default: {
      const _x: never = m;
      return String(_x);
    }
  }
}

/** Byte-level damage to a binary image. */
const byteMutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), extra: fc.uint8Array({ maxLength: 64 }) }),
);
type ByteMutation = typeof byteMutation extends fc.Arbitrary<infer T> ? T : never;

function mutateBytes(bytes: Uint8Array, m: ByteMutation, headerBias = 0): Uint8Array {
  const len = bytes.length;
  switch (m.kind) {
    case 'flip': {
      const out = bytes.slice();
      // Most interesting bytes are in the header: aim half the flips there.
      const at = headerBias > 0 && m.at % 2 === 0 ? (m.at >> 1) % Math.min(headerBias, len) : m.at % Math.max(1, len);
      if (len > 0) out[at] = m.value;
      return out;
    }
    case 'truncate': return bytes.slice(0, len === 0 ? 0 : m.at % len);
    case 'append': {
      const out = new Uint8Array(len + m.extra.length);
      out.set(bytes);
      out.set(m.extra, len);
      return out;
    }
    default: {
      const _x: never = m;
      return _x;
    }
  }
}

/**
 * Runs a parser that may only throw its documented error type (plain `Error`, not TypeError/RangeError; or ConfigError);
 * returns the error, or undefined when it accepted the input. The error must be one readable line.
 */
function onlyThrows<E extends Error>(errorType: new (...args: never[]) => E, what: string, fn: () => unknown): E | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    const exact = errorType === (Error as unknown) ? (e as Error)?.constructor === Error : e instanceof errorType;
    if (!exact) assert.fail(`${what}: crashed with ${(e as Error)?.constructor?.name ?? typeof e}: ${String((e as Error)?.message ?? e).slice(0, 300)}`);
    const err = e as E;
    assert.ok(err.message.length > 0, `${what}: empty error message`);
    assert.ok(!CONTROL_RE.test(err.message), `${what}: control characters in ${JSON.stringify(err.message.slice(0, 300))}`);
    return err;
  }
}

// ---------- wire protocol (protocolCodec.ts) ----------

type Parser = (text: string) => Parsed<{ type: string }>;

const SAMPLES: Record<string, { parse: Parser; messages: Array<Record<string, unknown>> }> = {
  'emulator→bridge': {
    parse: parseEmulatorToBridge,
    messages: [
      { type: 'hello', role: 'emulator', protocol: 1, token: 'secret', emulator: 'fceux', rom: { name: 'demo.nes', md5: '0123456789abcdef0123456789abcdef' } },
      { type: 'state', frame: 120, timestamp: 1712345678901.5, ram: 'AAEC/w==', lag: false, screen: true },
      { type: 'savestate_ack', op: 'save', slot: 4, frame: 120 },
      { type: 'write_ram_ack', address: 16, length: 2 },
      { type: 'heartbeat', seq: 3, timestamp: 1 },
      { type: 'heartbeat_ack', seq: 3, timestamp: 2 },
      { type: 'ping', id: 7, t0: 1000.5 },
      { type: 'pong', id: 7, t0: 1000.5, t1: 1001.75 },
      { type: 'error', code: 'wrong_frame', message: 'action for frame 12 but FCEUX is at frame 13' },
    ],
  },
  'bridge→emulator': {
    parse: parseBridgeToEmulator,
    messages: [
      { type: 'welcome', protocol: 1, session: 's', ram: [[0, 2048]], screen: true },
      { type: 'action', frame: 120, buttons: [129, 0], screen: false },
      { type: 'savestate', op: 'load', slot: 3 },
      { type: 'write_ram', address: 16, data: 'Bw==' },
      { type: 'reset' },
      { type: 'configure', screen: true, ram: [[16, 4]] },
      { type: 'resync_request', timestamp: 5, reason: 'gap' },
      { type: 'quit', code: 0, reason: 'done' },
    ],
  },
  'agent→bridge': {
    parse: parseAgentToBridge,
    messages: [
      { type: 'hello', role: 'agent', protocol: 1, token: 't', player: 0, name: 'dqn', screen: { format: 'gray', downsample: 4 } },
      { type: 'action', frame: 120, buttons: ['RIGHT', 'A'], info: { value: 0.42 } },
      { type: 'action', frame: 121, buttons: 129 },
      { type: 'terminate', frame: 480 },
      { type: 'resync_request', timestamp: 1718000000300, reason: 'frame gap' },
      { type: 'quit', code: 0, reason: 'bye' },
      { type: 'heartbeat', seq: 12, timestamp: 1718000000123.5 },
      { type: 'error', code: 'x', message: 'y' },
    ],
  },
  'bridge→agent': {
    parse: parseBridgeToAgent,
    messages: [
      { type: 'welcome', protocol: 1, session: 's', player: 0, rom: 'demo.nes', vars: ['score_p1'], maxSteps: 3000, buttons: ['A'], screen: { format: 'rgba', downsample: 1 } },
      { type: 'state', frame: 120, step: 120, episode: 0, timestamp: 1.5, vars: { score_p1: 3 }, reward: 1, terminated: false, truncated: false, info: { lag: false }, screen: true },
      { type: 'episode_end', episode: 0, terminationFrame: 480, rows: 480, reason: 'done_flag', reward: 1 },
    ],
  },
};

/** Every field name any message has: an "unknown" field must not be one of them. */
const KNOWN_FIELDS = new Set([
  ...Object.values(SAMPLES).flatMap((s) => s.messages.flatMap((m) => Object.keys(m))), 'info', 'reason', 'code', 'screen', 'player', 'name', 'token', 'reward', '__proto__',
]);

/** Integer fields that must come out of a successful parse as non-negative safe integers. */
const COUNT_FIELDS = ['frame', 'seq', 'id', 'slot', 'step', 'episode', 'rows', 'terminationFrame', 'length'];

/** Checks one parse result: no throw, short single-line error, or a message whose counters are sane and that round-trips. */
function checkParsed(parse: Parser, text: string): Parsed<{ type: string }> {
  let r: Parsed<{ type: string }>;
  try {
    r = parse(text);
  } catch (e) {
    assert.fail(`parser threw ${(e as Error)?.constructor?.name}: ${String((e as Error)?.message).slice(0, 300)} for ${preview(text, 120)}`);
  }
  if (!r.ok) {
    assert.equal(typeof r.error, 'string');
    assert.ok(r.error.length > 0 && r.error.length <= MAX_ERROR_CHARS, `error length ${r.error.length}`);
    assert.ok(!WIRE_CONTROL_RE.test(r.error), `control characters in error ${JSON.stringify(r.error)}`);
    return r;
  }
  const msg = r.msg as unknown as Record<string, unknown>;
  for (const f of COUNT_FIELDS) {
    if (msg[f] !== undefined) assert.ok(Number.isSafeInteger(msg[f]) && (msg[f] as number) >= 0, `${msg.type}.${f} accepted as ${String(msg[f])}`);
  }
  let text2: string;
  try {
    text2 = encode(r.msg as never);
  } catch (e) {
    // Only free-form `info` objects may be nested deeper than JSON.stringify manages (nothing downstream stringifies them).
    assert.ok(e instanceof RangeError && 'info' in msg, `accepted ${String(msg.type)} cannot be encoded again: ${(e as Error).message}`);
    return r;
  }
  const again = parse(text2);
  assert.ok(again.ok, `re-encoded ${msg.type} does not parse: ${again.ok ? '' : again.error}`);
  // Compared as JSON: a frame id of -0 is accepted as the same frame as 0.
  assert.deepEqual(JSON.parse(encode(again.msg as never)), JSON.parse(text2));
  return r;
}

describe('fuzz: wire protocol decoder (protocolCodec)', () => {
  for (const [direction, { parse, messages }] of Object.entries(SAMPLES)) {
    test(`${direction}: one field set to a wrong value is refused with an error naming <type>.<field>`, () => {
      fc.assert(fc.property(fc.constantFrom(...messages), fc.nat(), rawValue, (msg, pick, raw) => {
        const fields = Object.keys(msg).filter((k) => k !== 'type');
        if (fields.length === 0) return;
        const field = fields[pick % fields.length];
        const r = checkParsed(parse, withField(msg, field, raw));
        if (!r.ok) assert.ok(r.error.includes(`${String(msg.type)}.${field}`), `error ${JSON.stringify(r.error)} does not name ${String(msg.type)}.${field}`);
      }), runs(1));
    });

    test(`${direction}: missing fields, unknown types and extra fields`, () => {
      fc.assert(fc.property(fc.constantFrom(...messages), fc.nat(), rawValue, fc.string({ maxLength: 12 }), (msg, pick, raw, extra) => {
        const fields = Object.keys(msg);
        const dropped = fields[pick % fields.length];
        const { [dropped]: _gone, ...rest } = msg;
        const r = checkParsed(parse, JSON.stringify(rest));
        if (!r.ok) assert.ok(r.error.includes(dropped === 'type' ? 'message type' : `${String(msg.type)}.${dropped}`), r.error);
        // An unknown field is ignored (and dropped), never an error by itself.
        if (!KNOWN_FIELDS.has(extra) && !(extra in msg)) {
          const withExtra = checkParsed(parse, withField(msg, extra, raw));
          assert.ok(withExtra.ok, `extra field ${JSON.stringify(extra)} made a valid ${String(msg.type)} invalid`);
          assert.equal((withExtra.msg as unknown as Record<string, unknown>)[extra], undefined);
        }
        const retyped = checkParsed(parse, withField(msg, 'type', raw));
        if (!retyped.ok && !/^"[a-z_]+"$/.test(raw)) assert.match(retyped.error, /message type/);
      }), runs(1));
    });

    test(`${direction}: flipped, truncated, inserted and duplicated characters`, () => {
      fc.assert(fc.property(fc.constantFrom(...messages), fc.array(textMutation, { minLength: 1, maxLength: 4 }), (msg, muts) => {
        let text = JSON.stringify(msg);
        for (const m of muts) text = mutateText(text, m);
        checkParsed(parse, text);
      }), runs(1.5));
    });
  }

  test('frame ids: accepted exactly when a non-negative safe integer (huge, negative, fractional, strings refused)', () => {
    const frameValue = fc.oneof(
      fc.integer({ min: -1000, max: 1000 }), fc.double({ noNaN: true }), fc.constantFrom(2 ** 53 - 1, 2 ** 53, 2 ** 64, -(2 ** 53), 1e308),
      fc.bigInt({ min: 0n, max: 2n ** 70n }),
    );
    fc.assert(fc.property(frameValue, fc.constantFrom('action', 'terminate'), (value, type) => {
      const raw = typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
      const parsedValue: unknown = JSON.parse(raw);
      const r = checkParsed(parseAgentToBridge, withField({ type, frame: 0, buttons: 1 }, 'frame', raw));
      const valid = typeof parsedValue === 'number' && Number.isSafeInteger(parsedValue) && parsedValue >= 0;
      assert.equal(r.ok, valid, `${type}.frame ${raw}: ${r.ok ? 'accepted' : r.error}`);
      if (!r.ok) assert.match(r.error, new RegExp(`^${type}\\.frame must be a non-negative integer, got `));
    }), runs(2));
  });

  test('hello.protocol: any version outside 1..65535 is refused naming the field (the bridge then refuses every version but 1)', () => {
    fc.assert(fc.property(rawValue, (raw) => {
      const r = checkParsed(parseAgentToBridge, withField({ type: 'hello', role: 'agent', protocol: 1, token: 't' }, 'protocol', raw));
      const v: unknown = (() => { try { return JSON.parse(expand(raw)); } catch { return undefined; } })();
      const valid = typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 0xffff;
      assert.equal(r.ok, valid, `protocol ${preview(raw)}`);
      if (!r.ok) assert.match(r.error, /^hello\.protocol must be an integer in 1\.\.65535, got /);
    }), runs(1));
  });

  test('regression: deeply nested values in any field give a short error instead of a stack overflow', () => {
    // JSON.stringify overflows its stack at a few thousand levels; a 1 MiB message holds up to ~500,000 (one such per direction).
    for (const [direction, { parse, messages }] of Object.entries(SAMPLES)) {
      const cases: Array<[Record<string, unknown>, string, string]> = [[messages[0], Object.keys(messages[0])[1], deepArray(400_000)]];
      for (const msg of messages) {
        for (const field of Object.keys(msg).filter((k) => k !== 'type')) {
          for (const raw of [deepArray(10), deepArray(20_000), deepObject(20_000)]) cases.push([msg, field, raw]);
        }
      }
      for (const [msg, field, raw] of cases) {
        const r = checkParsed(parse, withField(msg, field, raw));
        if (!r.ok) assert.ok(r.error.includes(`${String(msg.type)}.${field}`), `${direction} ${String(msg.type)}.${field}: ${r.error}`);
      }
    }
  });

  test('regression: invalid JSON with newlines, NUL and terminal escapes gives a one-line error without them', () => {
    const r = parseAgentToBridge('{\n\n "type": x\u0000\u001b[31mred\u2028');
    assert.equal(r.ok, false);
    assert.ok(!r.ok && !WIRE_CONTROL_RE.test(r.error), JSON.stringify(r));
    assert.match(!r.ok ? r.error : '', /^agent→bridge message is not valid JSON: /);
  });

  test('oversize text: over 1 MiB is refused by size before JSON parsing', () => {
    const big = JSON.stringify({ type: 'error', code: 'x', message: 'y'.repeat(MAX_MESSAGE_BYTES) });
    const r = checkParsed(parseAgentToBridge, big);
    assert.ok(!r.ok && /too large/.test(r.error), JSON.stringify(r).slice(0, 200));
  });

  test('non-string input (a binary frame handed to the text parser) is an error, not a throw', () => {
    for (const v of [new Uint8Array(4), undefined, null, 42, {}] as unknown[]) {
      const r = parseAgentToBridge(v as string);
      assert.equal(r.ok, false);
    }
  });

  test('preview never throws, whatever it is given', () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const values: unknown[] = [cyclic, 10n, Symbol('s'), () => 1, JSON.parse(deepArray(200_000)), Object.create(null), new Map([[1, 2]])];
    for (const v of values) {
      const s = preview(v);
      assert.equal(typeof s, 'string');
      assert.ok(s.length <= 40, s);
    }
  });
});

// ---------- binary screen frames and states (screenFrame.ts) ----------

function validScreen(frame: number, width: number, height: number, format: 'rgba' | 'gray' | 'gd'): Uint8Array {
  const n = width * height;
  const pixels = format === 'gray' ? new Uint8Array(n) : format === 'rgba' ? new Uint8Array(n * 4) : new Uint8Array(GD_HEADER_BYTES + n * 4);
  if (format === 'gd') pixels.set([0xff, 0xfe, width >> 8, width & 0xff, height >> 8, height & 0xff, 1, 0xff, 0xff, 0xff, 0xff]);
  for (let i = format === 'gd' ? GD_HEADER_BYTES : 0; i < pixels.length; i++) pixels[i] = (i * 37 + frame) & 0xff;
  return encodeScreenFrame({ frame, width, height, format, pixels });
}

const SCREEN_ERROR = /^(screen frame|not a screen frame|not a truecolor GD image|GD image)/;

describe('fuzz: binary screen frames (screenFrame)', () => {
  test('mutated valid frames: decoded exactly as encoded, or refused with an Error saying what is wrong', () => {
    const screen = fc.record({
      frame: fc.nat(), width: fc.integer({ min: 1, max: 24 }), height: fc.integer({ min: 1, max: 24 }),
      format: fc.constantFrom('rgba' as const, 'gray' as const, 'gd' as const),
    });
    fc.assert(fc.property(screen, fc.array(byteMutation, { minLength: 1, maxLength: 3 }), ({ frame, width, height, format }, muts) => {
      let bytes = validScreen(frame, width, height, format);
      for (const m of muts) bytes = mutateBytes(bytes, m, SCREEN_HEADER_BYTES + GD_HEADER_BYTES);
      let decoded: ReturnType<typeof decodeScreenFrame> | undefined;
      const err = onlyThrows(Error, 'decodeScreenFrame', () => { decoded = decodeScreenFrame(bytes); });
      if (err) {
        assert.match(err.message, SCREEN_ERROR);
        return;
      }
      // Accepted: the header describes the bytes exactly, and re-encoding gives them back.
      const d = decoded!;
      assert.deepEqual([...encodeScreenFrame({ ...d, pixels: d.pixels.slice() })], [...bytes]);
      if (d.format === 'gd') assert.equal(onlyThrows(Error, 'gdToRgba', () => gdToRgba(d.pixels)), undefined);
    }), runs(2));
  });

  test('random bytes and headers claiming any size: never more than the 1 MiB limit, never a crash', () => {
    const header = fc.record({
      magic: fc.constantFrom('LSSC', 'LSSD', '\0\0\0\0'), version: fc.constantFrom(0, 1, 2, 255), format: fc.integer({ min: 0, max: 255 }),
      width: fc.integer({ min: 0, max: 0xffff }), height: fc.integer({ min: 0, max: 0xffff }), frame: fc.nat(), body: fc.nat({ max: 70_000 }),
    });
    fc.assert(fc.property(header, (h) => {
      const bytes = new Uint8Array(SCREEN_HEADER_BYTES + h.body);
      const dv = new DataView(bytes.buffer);
      for (let i = 0; i < 4; i++) bytes[i] = h.magic.charCodeAt(i);
      dv.setUint8(4, h.version);
      dv.setUint8(5, h.format);
      dv.setUint16(6, h.width, true);
      dv.setUint16(8, h.height, true);
      dv.setUint32(10, h.frame, true);
      const err = onlyThrows(Error, 'decodeScreenFrame', () => decodeScreenFrame(bytes));
      if (err) assert.match(err.message, SCREEN_ERROR);
      else assert.ok(bytes.length <= MAX_MESSAGE_BYTES);
    }), runs(2));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const err = onlyThrows(Error, 'decodeScreenFrame', () => decodeScreenFrame(bytes));
      if (err) assert.match(err.message, SCREEN_ERROR);
    }), runs(1));
  });

  test('oversize (over 1 MiB) and truncated binary frames are refused by name', () => {
    const full = validScreen(9, 256, 240, 'rgba');
    const over = new Uint8Array(MAX_MESSAGE_BYTES + 1);
    over.set(full);
    assert.throws(() => decodeScreenFrame(over), /screen frame size mismatch: 256x240 rgba needs 245760 pixel bytes, got 1048563/);
    const claimsHuge = full.slice();
    new DataView(claimsHuge.buffer).setUint16(6, 0xffff, true);
    assert.throws(() => decodeScreenFrame(claimsHuge), /over the 1048576-byte limit/);
    assert.throws(() => decodeScreenFrame(full.subarray(0, full.length - 1)), /screen frame truncated: 256x240 rgba needs 245760 pixel bytes, got 245759/);
    assert.throws(() => decodeScreenFrame(full.subarray(0, 5)), /screen frame truncated: 5 bytes/);
  });

  test('binary states (LSST): mutated valid states decode exactly as encoded, or an Error says what is wrong', () => {
    const STATE_ERROR = /^(state frame|not a state frame|screen frame|not a screen frame|not a truecolor GD image|GD image)/;
    const state = fc.record({
      frame: fc.nat(), timestamp: fc.double({ min: 0, max: 4e12, noNaN: true }), lag: fc.boolean(), ramLength: fc.nat({ max: 64 }),
      screen: fc.constantFrom('none', 'inside', 'file'),
    });
    fc.assert(fc.property(state, fc.array(byteMutation, { minLength: 1, maxLength: 3 }), (st, muts) => {
      const s: StateFrame = { frame: st.frame, timestamp: st.timestamp, lag: st.lag, ram: Uint8Array.from({ length: st.ramLength }, (_, i) => i * 7) };
      if (st.screen === 'inside') s.screen = decodeScreenFrame(validScreen(st.frame, 3, 2, 'gray'));
      if (st.screen === 'file') s.screenInFile = true;
      let bytes = encodeStateFrame(s);
      for (const m of muts) bytes = mutateBytes(bytes, m, STATE_HEADER_BYTES);
      assert.ok([undefined, 'state', 'screen'].includes(binaryFrameKind(bytes)));
      let decoded: StateFrame | undefined;
      const err = onlyThrows(Error, 'decodeStateFrame', () => { decoded = decodeStateFrame(bytes); });
      if (err) {
        assert.match(err.message, STATE_ERROR);
        return;
      }
      const d = decoded!;
      const again = encodeStateFrame({ ...d, ram: d.ram.slice(), ...(d.screen ? { screen: { ...d.screen, pixels: d.screen.pixels.slice() } } : {}) });
      assert.deepEqual([...again], [...bytes]);
    }), runs(2));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (body, magic) => {
      const bytes = body.slice();
      if (magic && bytes.length >= 5) bytes.set([0x4c, 0x53, 0x53, 0x54, 1]);
      const err = onlyThrows(Error, 'decodeStateFrame', () => decodeStateFrame(bytes));
      if (err) assert.match(err.message, /^(state frame|not a state frame|screen frame|not a screen frame|not a truecolor GD image|GD image)/);
    }), runs(1));
  });

  test('gdToRgba and downsample refuse bad sizes with an Error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const err = onlyThrows(Error, 'gdToRgba', () => gdToRgba(bytes));
      if (err) assert.match(err.message, /GD image/);
    }), runs(1));
    fc.assert(fc.property(
      fc.integer({ min: -2, max: 20 }), fc.integer({ min: -2, max: 20 }), fc.oneof(fc.integer({ min: -2, max: 9 }), fc.double()),
      fc.nat({ max: 2000 }), fc.constantFrom('rgba' as const, 'gray' as const),
      (w, h, factor, len, format) => {
        const err = onlyThrows(Error, 'downsample', () => downsample(new Uint8Array(len), w, h, factor, format));
        if (err) assert.match(err.message, /^downsample: /);
      }), runs(1));
  });
});

// ---------- FM2 movies (fm2.ts) ----------

const MOVIE = writeFm2({
  romFilename: 'demo', romMd5NoHeaderHex: '0123456789abcdef0123456789abcdef', guid: '01234567-89AB-CDEF-0123-456789ABCDEF',
  frames: [[0x81, 0], [0, 0x42], { commands: 2, ports: [0x10, 0x20] }, [0xff, 0xff]], comment: 'author fuzz',
}).replace('\n|', '\nsubtitle 2 hello\n|');

const FM2_ERROR = /^movie\.fm2:\d+: \S/;

function checkFm2(text: string): void {
  let movie: ReturnType<typeof parseFm2> | undefined;
  const err = onlyThrows(Error, 'parseFm2', () => { movie = parseFm2(text, 'movie.fm2'); });
  if (err) {
    assert.match(err.message, FM2_ERROR);
    assert.ok(!err.message.includes('\n'), `multi-line error ${JSON.stringify(err.message)}`);
    return;
  }
  for (const f of movie!.frames) {
    assert.ok(Number.isSafeInteger(f.commands) && f.commands >= 0, `commands ${f.commands}`);
    for (const p of f.ports) assert.ok(Number.isInteger(p) && p >= 0 && p <= 255, `port mask ${p}`);
  }
  for (const s of movie!.subtitles) assert.ok(Number.isSafeInteger(s.frame) && s.frame >= 0, `subtitle frame ${s.frame}`);
}

describe('fuzz: FM2 parser (fm2.ts)', () => {
  test('the sample parses', () => {
    const m = parseFm2(MOVIE, 'movie.fm2');
    assert.equal(m.frames.length, 4);
    assert.deepEqual(m.subtitles, [{ frame: 2, text: 'hello' }]);
  });

  test('character damage: a movie, or an error naming file and line', () => {
    fc.assert(fc.property(fc.array(textMutation, { minLength: 1, maxLength: 5 }), (muts) => {
      let text = MOVIE;
      for (const m of muts) text = mutateText(text, m);
      checkFm2(text);
    }), runs(2));
  });

  test('line damage: dropped, repeated, swapped and replaced lines, with huge/negative/fractional numbers', () => {
    const lines = MOVIE.split('\n');
    const junkLine = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom('|0|........|........||', '|-1|........|........||', '|99999999999|R.......|........||', '|1.5|........|', '|0|RLDUTSBA|RLDUTSBA|RLDUTSBA|RLDUTSBA|',
        'subtitle 99999999999999999999999 big', 'subtitle -3 neg', 'subtitle 1.5 frac', 'version 2', 'port0 2', 'fourscore 1', 'binary 1',
        'romChecksum base64:AAAA', 'guid nope', 'rerecordCount -1', 'emuVersion 1e9', '\uFEFFversion 3', 'comment \u0000\u001b'),
    );
    const op = fc.oneof(
      fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('repeat' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), to: fc.nat() }),
      fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), line: junkLine }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), line: junkLine }),
    );
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 4 }), (ops) => {
      const ls = [...lines];
      for (const o of ops) {
        const i = o.at % ls.length;
        if (o.kind === 'drop') ls.splice(i, 1);
        else if (o.kind === 'repeat') ls.splice(i, 0, ls[i]);
        else if (o.kind === 'swap') [ls[i], ls[o.to % ls.length]] = [ls[o.to % ls.length], ls[i]];
        else if (o.kind === 'replace') ls[i] = o.line;
        else ls.splice(i, 0, o.line);
        if (ls.length === 0) ls.push('');
      }
      checkFm2(ls.join('\n'));
      checkFm2(ls.join('\r\n'));
    }), runs(2));
  });

  test('random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (text) => checkFm2(text)), runs(1));
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => checkFm2('version 3\n' + text)), runs(1));
  });

  test('regression: a subtitle frame beyond 2^53 is refused naming the line', () => {
    assert.throws(() => parseFm2('version 3\nsubtitle 99999999999999999999999 big\n', 'movie.fm2'), /^Error: movie\.fm2:2: subtitle frame must be a whole number up to 9007199254740991, got "99999999999999999999999"$/);
  });
});

// ---------- RAM maps (ramMap.ts) ----------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path (list of keys/indexes) inside a JSON value, so a mutation can aim at any field. */
function jsonPaths(v: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...jsonPaths(x, [...prefix, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...jsonPaths(x, [...prefix, k]));
  return out;
}

/** The JSON text with the value at `path` replaced by raw JSON text (or removed when raw is undefined). */
function replaceAt(root: Json, path: Array<string | number>, raw: string | undefined): string {
  if (path.length === 0) return raw ?? '';
  const marker = '\u0001MARK\u0001';
  const copy = structuredClone(root) as Json;
  let node = copy as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (raw === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
    return JSON.stringify(copy);
  }
  node[last] = marker;
  const text = JSON.stringify(copy);
  const at = text.indexOf(JSON.stringify(marker));
  assert.ok(at >= 0, 'marker not found');
  return text.slice(0, at) + expand(raw) + text.slice(at + JSON.stringify(marker).length);
}

/** "variables[3].address" for ['variables', 3, 'address']. */
function fieldName(path: Array<string | number>): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

describe('fuzz: RAM-map parser (ramMap.ts)', () => {
  const demo = JSON.parse(DEMO_RAM_MAP) as Json;
  const paths = jsonPaths(demo);

  function checkRamMap(text: string): Error | undefined {
    let map: ReturnType<typeof parseRamMap> | undefined;
    const err = onlyThrows(Error, 'parseRamMap', () => { map = parseRamMap(text, 'game.rammap.json'); });
    if (err) {
      // No length bound: an error may list the map's own (long) variable names, e.g. "known: ...".
      assert.match(err.message, /^game\.rammap\.json: \S/);
      return err;
    }
    const m = map!;
    assert.equal(new Set(m.names).size, m.names.length, 'variable names unique');
    for (const v of m.variables) assert.ok(Number.isInteger(v.address) && v.address >= 0 && v.address + v.size <= 0x800, `${v.name} at ${v.address}`);
    for (const t of m.rewardTerms) assert.ok(m.names.includes(t.variable) && Number.isFinite(t.scale));
    for (const d of m.doneConditions) assert.ok(m.names.includes(d.variable) && Number.isInteger(d.equals));
    for (const emu of ['embedded', 'fceux'] as const) assert.ok(Number.isSafeInteger(m.warmupFramesFor(emu)) && m.warmupFramesFor(emu) >= 0);
    return undefined;
  }

  test('the demo map parses', () => assert.equal(checkRamMap(DEMO_RAM_MAP), undefined));

  test('any field set to a wrong value: an error naming that field (or the map still holds together)', () => {
    fc.assert(fc.property(fc.constantFrom(...paths.filter((p) => p.length > 0)), rawValue, (path, raw) => {
      const err = checkRamMap(replaceAt(demo, path, raw));
      // A renamed (or emptied) variable list breaks references elsewhere (reward, done): those errors name the referring field instead.
      const renamesVariable = path[0] === 'variables' && (path.length <= 2 || path[2] === 'name');
      if (err && !renamesVariable) {
        const named = fieldName(path.slice(0, Math.min(path.length, path[0] === 'done' ? 2 : 3)));
        assert.ok(err.message.includes(named) || err.message.includes(fieldName(path.slice(0, 2))) || err.message.includes(`field ${fieldName(path)}`),
          `error ${JSON.stringify(err.message)} does not name ${named}`);
      }
    }), runs(2));
  });

  test('fields removed, and character damage', () => {
    fc.assert(fc.property(fc.constantFrom(...paths), (path) => { checkRamMap(replaceAt(demo, path, undefined)); }), runs(1));
    fc.assert(fc.property(fc.array(textMutation, { minLength: 1, maxLength: 4 }), (muts) => {
      let text = DEMO_RAM_MAP;
      for (const m of muts) text = mutateText(text, m);
      checkRamMap(text);
    }), runs(1.5));
  });

  test('regression: deeply nested values give an error naming the field instead of a stack overflow', () => {
    for (const path of [['name'], ['variables'], ['variables', 0, 'address'], ['reward', 0, 'scale'], ['done', 'equals'], ['warmupFrames']]) {
      const err = checkRamMap(replaceAt(demo, path, deepArray(200_000)));
      assert.ok(err && err.message.includes(fieldName(path)), `${fieldName(path)}: ${err?.message}`);
    }
  });
});

// ---------- lockstep.yaml (config.ts) ----------

// YAML flow values are close enough to JSON that the same wrong values apply; deep nesting is YAML's own error (tested above the parser).
const NESTED_YAML = [
  'rom: roms/demo/demo.nes',
  'ramMap: roms/demo/demo.rammap.json',
  'maxSteps: 450',
  'synchronization:',
  '  frame_timeout_ms: 100',
  '  max_frame_skip: 2',
  '  mode: lockstep',
  'performance:',
  '  target_fps: 60',
  'recovery:',
  '  max_desync_count: 5',
  '  on_timeout: hold',
  '',
].join('\n');

function checkSync(sync: SyncConfig): void {
  for (const spec of SYNC_SETTINGS) {
    const v = (sync as unknown as Record<string, unknown>)[spec.key];
    if (spec.kind === 'enum') {
      assert.ok(spec.values!.includes(v as string), `${spec.key} = ${String(v)}`);
      continue;
    }
    assert.ok(typeof v === 'number' && Number.isFinite(v) && v <= spec.max! && (spec.minInclusive === false ? v > spec.min! : v >= spec.min!), `${spec.key} = ${String(v)}`);
    if (spec.kind === 'int') assert.ok(Number.isInteger(v), `${spec.key} = ${String(v)}`);
  }
}

function checkYaml(text: string): ConfigError | undefined {
  let parsed: ReturnType<typeof parseLockstepYaml> | undefined;
  const err = onlyThrows(ConfigError, 'parseLockstepYaml', () => { parsed = parseLockstepYaml(text, 'lockstep.yaml'); });
  if (err) {
    assert.match(err.message, /^lockstep\.yaml(:\d+)?: \S/);
    assert.ok(!CONTROL_RE.test(err.message), `control characters in ${JSON.stringify(err.message)}`);
    return err;
  }
  checkSync(parsed!.sync);
  if (parsed!.maxSteps !== undefined) assert.ok(Number.isSafeInteger(parsed!.maxSteps) && parsed!.maxSteps >= 1);
  for (const k of ['rom', 'ramMap', 'record'] as const) if (parsed![k] !== undefined) assert.equal(typeof parsed![k], 'string');
  return undefined;
}

/** A YAML flow value that is wrong in some way for most settings (YAML's own edge cases included). */
const yamlValue = fc.oneof(
  rawValue.filter((r) => !r.startsWith('«')),
  fc.constantFrom('.nan', '.inf', '-.inf', '0x10', '0o17', '1_000', '~', 'yes', 'no', 'on', '!!binary aGVsbG8=', '!!str 5', '!foo bar',
    '2001-12-14t21:59:43.10-05:00', '*undefined_anchor', '&a [*a]', '&b {k: *b}', '"\\e[31m"', '!!omap [ {a: 1} ]', '!!set {a}', '[1, 2', '{a: 1'),
);

describe('fuzz: lockstep.yaml parser (config.ts)', () => {
  test('the sample parses', () => assert.equal(checkYaml(NESTED_YAML), undefined));

  test('every setting, in both layouts, set to a wrong value: a ConfigError naming the key, or a value in range', () => {
    fc.assert(fc.property(fc.constantFrom(...SYNC_SETTINGS), fc.boolean(), yamlValue, (spec, nested, value) => {
      const text = nested ? `${spec.section}:\n  ${spec.yamlKey}: ${value}\n` : `sync:\n  ${spec.key}: ${value}\n`;
      const err = checkYaml(text);
      const label = nested ? `${spec.section}.${spec.yamlKey}` : `sync.${spec.key}`;
      if (err && !/YAML error|alias|anchor/i.test(err.message)) assert.ok(err.message.includes(label), `${JSON.stringify(err.message)} does not name ${label}`);
    }), runs(2));
  });

  test('top-level keys set to wrong values', () => {
    fc.assert(fc.property(fc.constantFrom('rom', 'ramMap', 'ram_map', 'maxSteps', 'max_steps', 'record', 'sync', 'synchronization', 'performance', 'recovery'), yamlValue, (key, value) => {
      const err = checkYaml(`${key}: ${value}\n`);
      if (err && !/YAML error|alias|anchor/i.test(err.message)) assert.ok(err.message.includes(key), `${JSON.stringify(err.message)} does not name ${key}`);
    }), runs(1.5));
  });

  test('character damage to a valid file', () => {
    fc.assert(fc.property(fc.array(textMutation, { minLength: 1, maxLength: 4 }), (muts) => {
      let text = NESTED_YAML;
      for (const m of muts) text = mutateText(text, m);
      checkYaml(text);
    }), runs(2));
  });

  test('random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 120, unit: 'binary' }), (text) => { checkYaml(text); }), runs(1));
  });

  test('regression: self-referencing aliases, unresolved aliases and alias bombs are ConfigErrors', () => {
    const cases: Array<[string, RegExp]> = [
      ['rom: &x [*x]\n', /^lockstep\.yaml:1: rom must be a non-empty path, got /],
      ['sync: &x {frameTimeoutMs: *x}\n', /^lockstep\.yaml:1: sync\.frameTimeoutMs must be an integer in 1\.\.3600000, got /],
      ['rom: *nope\n', /^lockstep\.yaml(:1)?: YAML error: .*nope/],
      ['a: &a [x]\nsync: {frameTimeoutMs: [' + Array(150).fill('*a').join(',') + ']}\n', /^lockstep\.yaml(:\d+)?: YAML error: .*alias/i],
    ];
    for (const [text, re] of cases) {
      const err = checkYaml(text);
      assert.ok(err, `accepted ${JSON.stringify(text)}`);
      assert.match(err.message, re);
    }
  });

  test('regression: !!omap and !!set mappings are not silently taken as empty sections; .nan is shown as NaN', () => {
    assert.match(checkYaml('sync: !!omap [ {frameTimeoutMs: 5} ]\n')?.message ?? 'accepted', /^lockstep\.yaml:1: sync must be a mapping of settings, got /);
    assert.match(checkYaml('recovery: !!set {max_desync_count}\n')?.message ?? 'accepted', /^lockstep\.yaml:1: recovery must be a mapping of settings, got /);
    assert.match(checkYaml('sync: {targetFps: .nan}\n')?.message ?? 'accepted', /sync\.targetFps must be a number > 0 and <= 100000, got NaN$/);
  });

  test('mergeSyncConfig: random overrides give a ConfigError naming the key, or settings all in range', () => {
    const override = fc.dictionary(
      fc.oneof(fc.constantFrom(...SYNC_SETTINGS.map((s) => s.key)), fc.string({ maxLength: 10 })),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.double(), fc.constant(undefined)),
      { maxKeys: 3 },
    );
    fc.assert(fc.property(override, (o) => {
      let merged: SyncConfig | undefined;
      const err = onlyThrows(ConfigError, 'mergeSyncConfig', () => { merged = mergeSyncConfig(defaultSyncConfig(), o as Partial<SyncConfig>); });
      if (err) assert.ok(Object.keys(o).some((k) => err.message.includes(`unknown sync setting "`) || err.message.includes(`setting ${k} `)), err.message);
      else checkSync(merged!);
    }), runs(2));
  });
});

// ---------- iNES images (rom.ts) ----------

describe('fuzz: iNES parser (rom.ts)', () => {
  function checkRom(bytes: Uint8Array): void {
    let info: ReturnType<typeof parseRom> | undefined;
    const err = onlyThrows(Error, 'parseRom', () => { info = parseRom(bytes, 'game.nes'); });
    if (err) {
      assert.match(err.message, /^(Not an NES ROM: game\.nes|Bad NES header in game\.nes|Truncated ROM: game\.nes)[ :]/);
      return;
    }
    const i = info!;
    assert.ok(Number.isInteger(i.mapper) && i.mapper >= 0 && i.mapper <= 4095, `mapper ${i.mapper}`);
    assert.ok(i.prgBanks >= 1 && Number.isSafeInteger(i.prgBanks) && Number.isSafeInteger(i.chrBanks), `banks ${i.prgBanks}/${i.chrBanks}`);
    assert.match(i.md5, /^[0-9a-f]{32}$/);
  }

  test('header bytes flipped, files truncated and extended', () => {
    fc.assert(fc.property(fc.array(byteMutation, { minLength: 1, maxLength: 3 }), (muts) => {
      let bytes: Uint8Array = DEMO_ROM;
      for (const m of muts) bytes = mutateBytes(bytes, m, 16);
      checkRom(bytes);
    }), runs(1));
  });

  test('random headers over a small body (NES 2.0 exponent sizes included)', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.nat({ max: 40_000 }), fc.boolean(), (tail, body, magic) => {
      const bytes = new Uint8Array(16 + body);
      if (magic) bytes.set([0x4e, 0x45, 0x53, 0x1a]);
      bytes.set(tail, 4);
      checkRom(bytes);
    }), runs(1));
  });

  test('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => checkRom(bytes)), runs(1));
  });
});
