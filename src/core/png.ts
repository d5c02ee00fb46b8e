// PNG encoding (8-bit RGBA, no interlace) on node:zlib alone, and the reader for the files it writes: divergence screens, the icon, tests.
import { crc32, deflateSync, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOR_TYPE_RGBA = 6;

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row by row. */
  pixels: Uint8Array;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

export function encodePng(img: RgbaImage): Buffer {
  const { width, height, pixels } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodePng: width and height must be whole numbers >= 1, got ${width}x${height}`);
  }
  if (pixels.length !== width * height * 4) throw new Error(`encodePng: ${width}x${height} needs ${width * height * 4} bytes, got ${pixels.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = COLOR_TYPE_RGBA;
  // Every row uses filter 0 (none): deflate alone keeps flat pixel art small.
  const stride = width * 4;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    Buffer.from(pixels.buffer, pixels.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/**
 * Images placed left to right with `gap` transparent columns between them, top-aligned (the "side by side" picture).
 * Every image must have the same height.
 */
export function sideBySide(images: readonly RgbaImage[], gap = 8): RgbaImage {
  if (images.length === 0) throw new Error('sideBySide needs at least one image');
  const height = images[0].height;
  for (const im of images) {
    if (im.height !== height) throw new Error(`sideBySide: every image must be ${height} pixels high, got ${im.height}`);
  }
  const width = images.reduce((w, im) => w + im.width, 0) + gap * (images.length - 1);
  const pixels = new Uint8Array(width * height * 4);
  let x0 = 0;
  for (const im of images) {
    for (let y = 0; y < height; y++) {
      pixels.set(im.pixels.subarray(y * im.width * 4, (y + 1) * im.width * 4), (y * width + x0) * 4);
    }
    x0 += im.width + gap;
  }
  return { width, height, pixels };
}

/** Reads a PNG written by encodePng (RGBA, filter 0 rows); anything else is an error naming what differs. */
export function decodePng(png: Uint8Array, fileName = 'PNG'): RgbaImage {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (!buf.subarray(0, 8).equals(SIGNATURE)) throw new Error(`${fileName}: not a PNG (bad signature)`);
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (pos + 8 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if ((crc32(buf.subarray(pos + 4, pos + 8 + len)) >>> 0) !== buf.readUInt32BE(pos + 8 + len)) throw new Error(`${fileName}: bad CRC in ${type}`);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== COLOR_TYPE_RGBA || data[12] !== 0) throw new Error(`${fileName}: only 8-bit RGBA non-interlaced PNGs are read`);
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4 + 1;
  if (raw.length !== height * stride) throw new Error(`${fileName}: image data is ${raw.length} bytes, expected ${height * stride}`);
  const pixels = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    if (raw[y * stride] !== 0) throw new Error(`${fileName}: row ${y} uses PNG filter ${raw[y * stride]}, only 0 is read`);
    pixels.set(raw.subarray(y * stride + 1, (y + 1) * stride), y * width * 4);
  }
  return { width, height, pixels };
}
