// Tests for binary emulator states ("LSST"), the binary frame kinds, gdToRgba's aligned fast path and the welcome's speed-up fields.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  GD_HEADER_BYTES, STATE_HEADER_BYTES, binaryFrameKind, decodeStateFrame, encodeScreenFrame,
  encodeStateFrame, gdToRgba, type StateFrame,
} from '../../../src/bridge/screenFrame';
import { parseBridgeToEmulator } from '../../../src/bridge/protocolCodec';
import { makeGd } from '../gdImage';

/** The conversion rule spelled out per byte, to check the fast paths against. */
function referenceRgba(gd: Uint8Array): number[] {
  const out: number[] = [];
  for (let s = GD_HEADER_BYTES; s < gd.length; s += 4) {
    const a = gd[s] & 0x7f;
    out.push(gd[s + 1], gd[s + 2], gd[s + 3], a === 0 ? 255 : Math.round(((127 - a) * 255) / 127));
  }
  return out;
}

const ram = Uint8Array.from({ length: 2048 }, (_, i) => (i * 13 + 5) & 0xff);

describe('stateFrame: encode/decode', () => {
  test('header layout: magic, version, flags, reserved, LE frame, timestamp in µs (u64), RAM length', () => {
    const bytes = encodeStateFrame({ frame: 0x01020304, timestamp: 1718000000123.456, lag: true, ram: new Uint8Array([9, 8, 7]) });
    assert.deepEqual([...bytes.subarray(0, 12)], [0x4c, 0x53, 0x53, 0x54, 1, 1, 0, 0, 4, 3, 2, 1]);
    const dv = new DataView(bytes.buffer);
    assert.equal(dv.getBigUint64(12, true), 1718000000123456n);
    assert.equal(dv.getUint32(20, true), 3);
    assert.deepEqual([...bytes.subarray(STATE_HEADER_BYTES)], [9, 8, 7]);
    assert.equal(bytes.length, STATE_HEADER_BYTES + 3);
  });

  test('round trip without a screen, with a screen inside, and with the screen in the screen file', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 2 ** 40 }), fc.boolean(), fc.integer({ min: 0, max: 300 }),
      (frame, us, lag, ramLength) => {
        const r = ram.subarray(0, ramLength);
        const back = decodeStateFrame(encodeStateFrame({ frame, timestamp: us / 1000, lag, ram: r }));
        assert.deepEqual({ ...back, ram: [...back.ram] }, { frame, timestamp: us / 1000, lag, ram: [...r] });
      }), { numRuns: 200 });
    const gd = makeGd(4, 2, (i) => [0, i, 2 * i, 3 * i]);
    const withScreen = decodeStateFrame(encodeStateFrame({
      frame: 77, timestamp: 5, lag: false, ram, screen: { frame: 77, width: 4, height: 2, format: 'gd', pixels: gd },
    }));
    assert.equal(withScreen.screen?.format, 'gd');
    assert.deepEqual([withScreen.screen?.width, withScreen.screen?.height, withScreen.screen?.frame], [4, 2, 77]);
    assert.deepEqual([...withScreen.screen!.pixels], [...gd]);
    assert.deepEqual([...withScreen.ram], [...ram]);
    assert.equal(withScreen.screenInFile, undefined);
    const inFile = decodeStateFrame(encodeStateFrame({ frame: 78, timestamp: 5, lag: true, ram, screenInFile: true }));
    assert.deepEqual([inFile.screenInFile, inFile.screen, inFile.lag], [true, undefined, true]);
  });

  test('decode works on a view with a byte offset, and its RAM is a view (no copy)', () => {
    const enc = encodeStateFrame({ frame: 3, timestamp: 1, lag: false, ram: new Uint8Array([1, 2]) });
    const backing = new Uint8Array(enc.length + 7);
    backing.set(enc, 7);
    const back = decodeStateFrame(backing.subarray(7));
    assert.deepEqual([back.frame, ...back.ram], [3, 1, 2]);
    backing[7 + STATE_HEADER_BYTES] = 99;
    assert.equal(back.ram[0], 99);
  });

  test('clear errors for malformed states', () => {
    const good = encodeStateFrame({ frame: 1, timestamp: 2, lag: false, ram: new Uint8Array(4) });
    assert.throws(() => decodeStateFrame(good.subarray(0, 20)), /state frame truncated: 20 bytes, the header alone is 24/);
    const magic = good.slice();
    magic[3] = 0x43;
    assert.throws(() => decodeStateFrame(magic), /not a state frame: bad magic 4c 53 53 43 \(expected "LSST"\)/);
    const version = good.slice();
    version[4] = 2;
    assert.throws(() => decodeStateFrame(version), /state frame version 2 not supported/);
    const flags = good.slice();
    flags[5] = 8;
    assert.throws(() => decodeStateFrame(flags), /unknown flags 1000/);
    const reserved = good.slice();
    reserved[7] = 1;
    assert.throws(() => decodeStateFrame(reserved), /non-zero reserved field/);
    const both = good.slice();
    both[5] = 6;
    assert.throws(() => decodeStateFrame(both), /both inside the message and in the screen file/);
    assert.throws(() => decodeStateFrame(good.subarray(0, good.length - 1)), /4 bytes of RAM announced, 3 present/);
    const longer = new Uint8Array(good.length + 2);
    longer.set(good);
    assert.throws(() => decodeStateFrame(longer), /size mismatch: 28 bytes expected, got 30/);
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(20, 0x10001, true);
    assert.throws(() => decodeStateFrame(huge), /claims 65537 bytes of RAM/);
    const farFuture = good.slice();
    new DataView(farFuture.buffer).setUint32(16, 0x00200000, true);
    assert.throws(() => decodeStateFrame(farFuture), /timestamp .* beyond 2\^53/);
    const noScreen = good.slice();
    noScreen[5] = 2;
    assert.throws(() => decodeStateFrame(noScreen), /announces a screen but ends after its RAM/);
  });

  test('a screen inside must be a valid screen frame for the same frame id', () => {
    const screen = encodeScreenFrame({ frame: 6, width: 1, height: 1, format: 'gray', pixels: new Uint8Array([5]) });
    const head = encodeStateFrame({ frame: 5, timestamp: 0, lag: false, ram: new Uint8Array(0) });
    const bytes = new Uint8Array(head.length + screen.length);
    bytes.set(head);
    bytes.set(screen, head.length);
    bytes[5] = 2;
    assert.throws(() => decodeStateFrame(bytes), /state frame 5 carries a screen for frame 6/);
    bytes[head.length] = 0x58; // the screen's magic
    assert.throws(() => decodeStateFrame(bytes), /not a screen frame: bad magic/);
  });

  test('mangled bytes (flips, cuts, junk appended) give a decoded state or a plain Error, never anything else', () => {
    const screen = { frame: 9, width: 2, height: 2, format: 'gd' as const, pixels: makeGd(2, 2, (i) => [0, i, i, i]) };
    const good = encodeStateFrame({ frame: 9, timestamp: 12.5, lag: true, ram: ram.subarray(0, 40), screen });
    fc.assert(fc.property(
      fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
      fc.nat({ max: good.length }), fc.uint8Array({ maxLength: 8 }),
      (flips, cut, junk) => {
        const bytes = new Uint8Array(cut + junk.length);
        bytes.set(good.subarray(0, cut));
        bytes.set(junk, cut);
        for (const f of flips) if (bytes.length) bytes[f.at % bytes.length] = f.value;
        try {
          const d = decodeStateFrame(bytes);
          assert.equal(d.ram.length, new DataView(bytes.buffer).getUint32(20, true));
        } catch (e) {
          assert.equal((e as Error).constructor, Error, `only plain Errors: ${String(e)}`);
        }
      }), { numRuns: 500 });
  });

  test('encode refuses bad input', () => {
    const s: StateFrame = { frame: 1, timestamp: 1, lag: false, ram: new Uint8Array(1) };
    assert.throws(() => encodeStateFrame({ ...s, frame: 2 ** 32 }), /frame id must be an integer/);
    assert.throws(() => encodeStateFrame({ ...s, timestamp: -1 }), /timestamp must be/);
    assert.throws(() => encodeStateFrame({ ...s, timestamp: Number.NaN }), /timestamp must be/);
    assert.throws(() => encodeStateFrame({ ...s, ram: new Uint8Array(0x10001) }), /exceeds the 65536-byte address space/);
    const screen = { frame: 2, width: 1, height: 1, format: 'gray' as const, pixels: new Uint8Array(1) };
    assert.throws(() => encodeStateFrame({ ...s, screen }), /carries a screen for frame 2/);
    assert.throws(() => encodeStateFrame({ ...s, screen: { ...screen, frame: 1 }, screenInFile: true }), /both inside and in the screen file/);
  });

  test('binaryFrameKind tells states from screens by their magic', () => {
    assert.equal(binaryFrameKind(encodeStateFrame({ frame: 1, timestamp: 1, lag: false, ram: new Uint8Array(1) })), 'state');
    assert.equal(binaryFrameKind(encodeScreenFrame({ frame: 1, width: 1, height: 1, format: 'gray', pixels: new Uint8Array(1) })), 'screen');
    assert.equal(binaryFrameKind(new Uint8Array([0x4c, 0x53, 0x53, 0x58])), undefined);
    assert.equal(binaryFrameKind(new Uint8Array([0x4c, 0x53])), undefined);
  });
});

describe('gdToRgba: fast paths agree with the per-byte rule', () => {
  test('any alpha, every alignment of the source (aligned uses 32-bit loads, the others byte loads)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 7 }), fc.integer(), fc.integer({ min: 0, max: 3 }),
      (w, h, seed, shift) => {
        const gd = makeGd(w, h, (i) => {
          const v = Math.imul(seed ^ i, 2654435761) >>> 0;
          return [v & 0x7f, (v >>> 7) & 0xff, (v >>> 15) & 0xff, (v >>> 23) & 0xff];
        });
        const backing = new Uint8Array(gd.length + 4);
        backing.set(gd, shift);
        const { rgba } = gdToRgba(backing.subarray(shift, shift + gd.length));
        assert.deepEqual([...rgba], referenceRgba(gd));
      }), { numRuns: 200 });
  });

  test('a full screen converted from an aligned view is independent of the source', () => {
    const gd = makeGd(256, 240, (i) => [i % 3 === 0 ? 0 : 64, i & 0xff, (i >> 8) & 0xff, (i * 7) & 0xff]);
    const backing = new Uint8Array(gd.length + 1);
    backing.set(gd, 1); // pixels at offset 12: aligned
    const view = backing.subarray(1);
    const { rgba } = gdToRgba(view);
    assert.deepEqual([...rgba.subarray(0, 8)], referenceRgba(gd).slice(0, 8));
    assert.deepEqual([...rgba], referenceRgba(gd));
    backing.fill(0);
    assert.deepEqual([...rgba.subarray(0, 4)], referenceRgba(gd).slice(0, 4), 'the RGBA is a copy');
  });
});

describe('welcome: optional binaryState and screenFile', () => {
  const base = { type: 'welcome', protocol: 1, session: 's', ram: [[0, 2048]], screen: true };

  test('both are optional, and kept when valid', () => {
    const plain = parseBridgeToEmulator(JSON.stringify(base));
    assert.ok(plain.ok);
    assert.deepEqual(plain.msg, base);
    const fast = parseBridgeToEmulator(JSON.stringify({ ...base, binaryState: true, screenFile: '/tmp/x/lockstep-screen-ab12.gd' }));
    assert.ok(fast.ok);
    assert.deepEqual(fast.msg, { ...base, binaryState: true, screenFile: '/tmp/x/lockstep-screen-ab12.gd' });
  });

  test('wrong types are refused with the field named', () => {
    const a = parseBridgeToEmulator(JSON.stringify({ ...base, binaryState: 'yes' }));
    assert.ok(!a.ok);
    assert.match(a.error, /^welcome\.binaryState must be true or false/);
    const b = parseBridgeToEmulator(JSON.stringify({ ...base, screenFile: '' }));
    assert.ok(!b.ok);
    assert.match(b.error, /^welcome\.screenFile must be a non-empty string/);
  });
});
