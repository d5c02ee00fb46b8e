// Tests for the extension icon: media/icon.png is what scripts/makeIcon.ts draws, a square RGBA PNG with see-through corners.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ICON_GRID, ICON_SCALE, drawIcon } from '../../scripts/makeIcon';
import { decodePng, encodePng } from '../../src/core/png';

const ICON = join(resolve(__dirname, '..', '..'), 'media', 'icon.png');

describe('media/icon.png', () => {
  test('holds exactly the pixels scripts/makeIcon.ts draws (run it after changing the drawing)', () => {
    const onDisk = decodePng(readFileSync(ICON), 'media/icon.png');
    const drawn = drawIcon();
    assert.equal(onDisk.width, ICON_GRID * ICON_SCALE);
    assert.equal(onDisk.height, ICON_GRID * ICON_SCALE);
    assert.ok(Buffer.from(onDisk.pixels).equals(Buffer.from(drawn.pixels)), 'pixels differ from drawIcon()');
  });

  test('has transparent corners and an opaque middle', () => {
    const { width, pixels } = drawIcon();
    const alpha = (x: number, y: number) => pixels[(y * width + x) * 4 + 3];
    for (const [x, y] of [[0, 0], [width - 1, 0], [0, width - 1], [width - 1, width - 1]]) assert.equal(alpha(x, y), 0, `corner ${x},${y}`);
    assert.equal(alpha(width / 2, width / 2), 255);
  });
});

describe('png (src/core/png.ts)', () => {
  test('round-trips an image and rejects a damaged one', () => {
    const img = { width: 3, height: 2, pixels: Uint8Array.from({ length: 24 }, (_, i) => (i * 37) & 0xff) };
    const png = encodePng(img);
    assert.deepEqual(decodePng(png), img);
    const damaged = Buffer.from(png);
    damaged[damaged.length - 20] ^= 0xff;
    assert.throws(() => decodePng(damaged, 'bad.png'), /bad\.png: /);
    assert.throws(() => encodePng({ width: 2, height: 2, pixels: new Uint8Array(3) }), /needs 16 bytes, got 3/);
  });
});
