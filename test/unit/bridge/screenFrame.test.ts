// Tests for binary screen frames, FCEUX gd screenshot conversion and box downsampling.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  SCREEN_HEADER_BYTES, decodeScreenFrame, downsample, encodeScreenFrame, gdToRgba, type ScreenFormat,
} from '../../../src/bridge/screenFrame';
import { makeGd } from '../gdImage';

describe('screenFrame: encode/decode', () => {
  test('header layout is magic, version, format, LE width/height/frame', () => {
    const pixels = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const bytes = encodeScreenFrame({ frame: 0x01020304, width: 3, height: 2, format: 'gray', pixels });
    assert.deepEqual([...bytes.subarray(0, SCREEN_HEADER_BYTES)], [0x4c, 0x53, 0x53, 0x43, 1, 1, 3, 0, 2, 0, 4, 3, 2, 1]);
    assert.deepEqual([...bytes.subarray(SCREEN_HEADER_BYTES)], [1, 2, 3, 4, 5, 6]);
  });

  test('round trip for every format', () => {
    const formats: ScreenFormat[] = ['rgba', 'gray'];
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 16 }),
      fc.constantFrom(...formats), fc.integer(),
      (frame, width, height, format, seed) => {
        const n = width * height * (format === 'rgba' ? 4 : 1);
        const pixels = Uint8Array.from({ length: n }, (_, i) => (seed + i * 31) & 0xff);
        const back = decodeScreenFrame(encodeScreenFrame({ frame, width, height, format, pixels }));
        assert.deepEqual({ ...back, pixels: [...back.pixels] }, { frame, width, height, format, pixels: [...pixels] });
      }), { numRuns: 100 });
    const gd = makeGd(4, 3, (i) => [0, i, i * 2, i * 3]);
    const back = decodeScreenFrame(encodeScreenFrame({ frame: 7, width: 4, height: 3, format: 'gd', pixels: gd }));
    assert.equal(back.format, 'gd');
    assert.deepEqual([...back.pixels], [...gd]);
  });

  test('decode works on a view with a byte offset (as ws delivers Buffers from a pool)', () => {
    const enc = encodeScreenFrame({ frame: 9, width: 2, height: 1, format: 'gray', pixels: new Uint8Array([10, 20]) });
    const backing = new Uint8Array(enc.length + 5);
    backing.set(enc, 5);
    const back = decodeScreenFrame(backing.subarray(5));
    assert.equal(back.frame, 9);
    assert.deepEqual([...back.pixels], [10, 20]);
  });

  test('clear errors for malformed frames', () => {
    const good = encodeScreenFrame({ frame: 1, width: 2, height: 2, format: 'rgba', pixels: new Uint8Array(16) });
    assert.throws(() => decodeScreenFrame(good.subarray(0, 10)), /truncated: 10 bytes, the header alone is 14/);
    const badMagic = good.slice();
    badMagic[0] = 0x58;
    assert.throws(() => decodeScreenFrame(badMagic), /bad magic 58 53 53 43 \(expected "LSSC"\)/);
    const badVersion = good.slice();
    badVersion[4] = 2;
    assert.throws(() => decodeScreenFrame(badVersion), /version 2 not supported/);
    const badFormat = good.slice();
    badFormat[5] = 9;
    assert.throws(() => decodeScreenFrame(badFormat), /unknown format code 9/);
    assert.throws(() => decodeScreenFrame(good.subarray(0, good.length - 1)), /truncated: 2x2 rgba needs 16 pixel bytes, got 15/);
    const longer = new Uint8Array(good.length + 3);
    longer.set(good);
    assert.throws(() => decodeScreenFrame(longer), /size mismatch: 2x2 rgba needs 16 pixel bytes, got 19/);
    const huge = good.slice();
    huge.set([0xff, 0xff, 0xff, 0xff], 6);
    assert.throws(() => decodeScreenFrame(huge), /over the 1048576-byte limit/);
    const empty = good.slice();
    empty.set([0, 0], 6);
    assert.throws(() => decodeScreenFrame(empty), /empty size 0x2/);
  });

  test('a gd frame whose GD header disagrees with the frame header is refused', () => {
    const gd = makeGd(2, 2, () => [0, 0, 0, 0]);
    const bytes = encodeScreenFrame({ frame: 1, width: 2, height: 2, format: 'gd', pixels: gd });
    bytes[SCREEN_HEADER_BYTES + 3] = 3;
    assert.throws(() => decodeScreenFrame(bytes), /says 2x2 but its GD image is 3x2/);
  });

  test('encode refuses bad input', () => {
    assert.throws(() => encodeScreenFrame({ frame: -1, width: 1, height: 1, format: 'gray', pixels: new Uint8Array(1) }), /frame id/);
    assert.throws(() => encodeScreenFrame({ frame: 2 ** 32, width: 1, height: 1, format: 'gray', pixels: new Uint8Array(1) }), /frame id/);
    assert.throws(() => encodeScreenFrame({ frame: 0, width: 0, height: 1, format: 'gray', pixels: new Uint8Array(0) }), /width must be/);
    assert.throws(() => encodeScreenFrame({ frame: 0, width: 2, height: 2, format: 'rgba', pixels: new Uint8Array(15) }), /needs 16 pixel bytes, got 15/);
    assert.throws(() => encodeScreenFrame({ frame: 0, width: 1, height: 1, format: 'bgr' as ScreenFormat, pixels: new Uint8Array(3) }), /unknown screen format "bgr"/);
    assert.throws(() => encodeScreenFrame({ frame: 0, width: 1024, height: 1024, format: 'rgba', pixels: new Uint8Array(4 << 20) }), /exceeds the 1048576-byte message limit/);
  });
});

describe('screenFrame: gdToRgba', () => {
  test('ARGB with 7-bit alpha (0 opaque, 127 transparent) becomes RGBA', () => {
    const px: Array<[number, number, number, number]> = [[0, 10, 20, 30], [127, 1, 2, 3], [64, 200, 100, 50], [0, 255, 255, 255]];
    // alpha 64 -> round((127 - 64) * 255 / 127) = 126
    const { width, height, rgba } = gdToRgba(makeGd(2, 2, (i) => px[i]));
    assert.equal(width, 2);
    assert.equal(height, 2);
    assert.deepEqual([...rgba], [10, 20, 30, 255, 1, 2, 3, 0, 200, 100, 50, 126, 255, 255, 255, 255]);
    // The same pixels 4-byte aligned (how FceuxEmulator reads its screen file) take the word-at-a-time path.
    const gd = makeGd(2, 2, (i) => px[i]);
    const aligned = new Uint8Array(gd.length + 1).subarray(1);
    aligned.set(gd);
    assert.equal((aligned.byteOffset + 11) % 4, 0);
    assert.deepEqual([...gdToRgba(aligned, new Uint8Array(16)).rgba], [...rgba]);
  });

  test('a full FCEUX-sized screenshot (256x240) converts', () => {
    const { width, height, rgba } = gdToRgba(makeGd(256, 240, (i) => [0, i & 0xff, (i >> 8) & 0xff, 7]));
    assert.equal(width * height * 4, rgba.length);
    assert.deepEqual([...rgba.subarray(4 * 300, 4 * 301)], [300 & 0xff, 1, 7, 255]);
  });

  test('errors for a non-GD string, palette GD, or wrong length', () => {
    const gd = makeGd(2, 2, () => [0, 0, 0, 0]);
    const notGd = gd.slice();
    notGd[1] = 0xff;
    assert.throws(() => gdToRgba(notGd), /not a truecolor GD image: signature ff ff/);
    const palette = gd.slice();
    palette[6] = 0;
    assert.throws(() => gdToRgba(palette), /truecolor flag is 0/);
    assert.throws(() => gdToRgba(gd.subarray(0, gd.length - 4)), /should be 27 bytes, got 23/);
    assert.throws(() => gdToRgba(gd.subarray(0, 5)), /GD image truncated/);
  });
});

describe('screenFrame: downsample', () => {
  const rgba4x2 = new Uint8Array([
    0, 0, 0, 255, 255, 255, 255, 255, 10, 20, 30, 255, 10, 20, 30, 255,
    0, 0, 0, 255, 255, 255, 255, 255, 10, 20, 30, 255, 11, 21, 31, 255,
  ]);

  test('rgba box average, rounded', () => {
    const out = downsample(rgba4x2, 4, 2, 2, 'rgba');
    assert.equal(out.width, 2);
    assert.equal(out.height, 1);
    // (0+255+0+255)/4 = 127.5 -> 128; (10*3+11)/4 = 10.25 -> 10; (20*3+21)/4 = 20.25 -> 20
    assert.deepEqual([...out.pixels], [128, 128, 128, 255, 10, 20, 30, 255]);
  });

  test('gray is luma 0.299/0.587/0.114 averaged over the box', () => {
    const one = downsample(new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255]), 4, 1, 1, 'gray');
    assert.deepEqual([...one.pixels], [76, 150, 29, 255]);
    const box = downsample(rgba4x2, 4, 2, 2, 'gray');
    const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;
    assert.deepEqual([...box.pixels], [
      Math.round((2 * luma(255, 255, 255)) / 4),
      Math.round((3 * luma(10, 20, 30) + luma(11, 21, 31)) / 4),
    ]);
  });

  test('factor 1 rgba is an independent copy', () => {
    const out = downsample(rgba4x2, 4, 2, 1, 'rgba');
    assert.deepEqual(out.pixels, rgba4x2);
    out.pixels[0] = 99;
    assert.equal(rgba4x2[0], 0);
  });

  test('NES screen by 4 and 8', () => {
    const screen = new Uint8Array(256 * 240 * 4).fill(200);
    assert.deepEqual([downsample(screen, 256, 240, 4, 'gray').width, downsample(screen, 256, 240, 4, 'gray').height], [64, 60]);
    const g8 = downsample(screen, 256, 240, 8, 'gray');
    assert.equal(g8.pixels.length, 32 * 30);
    assert.ok(g8.pixels.every((v) => v === 200));
  });

  test('bad arguments', () => {
    assert.throws(() => downsample(rgba4x2, 4, 2, 3, 'rgba'), /factor must be a positive integer dividing 4x2, got 3/);
    assert.throws(() => downsample(rgba4x2, 4, 2, 0, 'gray'), /factor/);
    assert.throws(() => downsample(rgba4x2, 4, 3, 1, 'gray'), /needs 48 bytes, got 32/);
  });
});
