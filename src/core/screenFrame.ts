// Binary screen frames on the bridge links ("LSSC" header + pixels), FCEUX gd screenshots to RGBA, and box downsampling.
import { MAX_MESSAGE_BYTES } from './protocol';

/** rgba: 4 bytes per pixel; gray: 1 byte (luma); gd: an FCEUX `gui.gdscreenshot()` string, 11-byte GD header + ARGB. */
export type ScreenFormat = 'rgba' | 'gray' | 'gd';

export interface ScreenFrame {
  /** Frame id of the state this screen belongs to, so the receiver can pair them. */
  frame: number;
  width: number;
  height: number;
  format: ScreenFormat;
  pixels: Uint8Array;
}

export const SCREEN_MAGIC = 'LSSC';
export const SCREEN_FRAME_VERSION = 1;
/** magic(4) version(1) format(1) width(2) height(2) frame(4), little-endian. */
export const SCREEN_HEADER_BYTES = 14;
export const GD_HEADER_BYTES = 11;

const FORMAT_CODES: Record<ScreenFormat, number> = { rgba: 0, gray: 1, gd: 2 };
const FORMAT_BY_CODE: readonly ScreenFormat[] = ['rgba', 'gray', 'gd'];
const MAGIC_BYTES = [0x4c, 0x53, 0x53, 0x43];

function pixelBytes(format: ScreenFormat, width: number, height: number): number {
  switch (format) {
    case 'rgba': return width * height * 4;
    case 'gray': return width * height;
    case 'gd': return GD_HEADER_BYTES + width * height * 4;
    default: {
      const _x: never = format;
      throw new Error(`unknown screen format ${String(_x)}`);
    }
  }
}

function checkDimension(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > 0xffff) throw new Error(`screen frame ${name} must be an integer in 1..65535, got ${v}`);
}

export function encodeScreenFrame(s: ScreenFrame): Uint8Array {
  if (!Number.isInteger(s.frame) || s.frame < 0 || s.frame > 0xffffffff) {
    throw new Error(`screen frame id must be an integer in 0..4294967295, got ${s.frame}`);
  }
  checkDimension('width', s.width);
  checkDimension('height', s.height);
  const code = FORMAT_CODES[s.format];
  if (code === undefined) throw new Error(`unknown screen format ${JSON.stringify(s.format)} (expected rgba, gray or gd)`);
  const expected = pixelBytes(s.format, s.width, s.height);
  if (s.pixels.length !== expected) {
    throw new Error(`screen frame ${s.width}x${s.height} ${s.format} needs ${expected} pixel bytes, got ${s.pixels.length}`);
  }
  if (SCREEN_HEADER_BYTES + expected > MAX_MESSAGE_BYTES) {
    throw new Error(`screen frame of ${SCREEN_HEADER_BYTES + expected} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte message limit`);
  }
  const out = new Uint8Array(SCREEN_HEADER_BYTES + expected);
  const dv = new DataView(out.buffer);
  out.set(MAGIC_BYTES, 0);
  dv.setUint8(4, SCREEN_FRAME_VERSION);
  dv.setUint8(5, code);
  dv.setUint16(6, s.width, true);
  dv.setUint16(8, s.height, true);
  dv.setUint32(10, s.frame, true);
  out.set(s.pixels, SCREEN_HEADER_BYTES);
  return out;
}

/** Parses a binary screen frame; `pixels` is a view into `bytes` (no copy). Throws a clear error for anything malformed. */
export function decodeScreenFrame(bytes: Uint8Array): ScreenFrame {
  if (bytes.length < SCREEN_HEADER_BYTES) {
    throw new Error(`screen frame truncated: ${bytes.length} bytes, the header alone is ${SCREEN_HEADER_BYTES}`);
  }
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC_BYTES[i]) {
      const got = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new Error(`not a screen frame: bad magic ${got} (expected "${SCREEN_MAGIC}")`);
    }
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint8(4);
  if (version !== SCREEN_FRAME_VERSION) throw new Error(`screen frame version ${version} not supported (expected ${SCREEN_FRAME_VERSION})`);
  const format = FORMAT_BY_CODE[dv.getUint8(5)];
  if (format === undefined) throw new Error(`screen frame has unknown format code ${dv.getUint8(5)} (0 rgba, 1 gray, 2 gd)`);
  const width = dv.getUint16(6, true);
  const height = dv.getUint16(8, true);
  const frame = dv.getUint32(10, true);
  if (width === 0 || height === 0) throw new Error(`screen frame has empty size ${width}x${height}`);
  const expected = pixelBytes(format, width, height);
  if (SCREEN_HEADER_BYTES + expected > MAX_MESSAGE_BYTES) {
    throw new Error(`screen frame ${width}x${height} ${format} would be ${SCREEN_HEADER_BYTES + expected} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit`);
  }
  const got = bytes.length - SCREEN_HEADER_BYTES;
  if (got < expected) throw new Error(`screen frame truncated: ${width}x${height} ${format} needs ${expected} pixel bytes, got ${got}`);
  if (got > expected) throw new Error(`screen frame size mismatch: ${width}x${height} ${format} needs ${expected} pixel bytes, got ${got}`);
  const pixels = bytes.subarray(SCREEN_HEADER_BYTES);
  if (format === 'gd') {
    const gd = readGdHeader(pixels);
    if (gd.width !== width || gd.height !== height) {
      throw new Error(`screen frame says ${width}x${height} but its GD image is ${gd.width}x${gd.height}`);
    }
  }
  return { frame, width, height, format, pixels };
}

function readGdHeader(gd: Uint8Array): { width: number; height: number } {
  if (gd.length < GD_HEADER_BYTES) throw new Error(`GD image truncated: ${gd.length} bytes, the header alone is ${GD_HEADER_BYTES}`);
  // 0xFFFE marks a truecolor GD 2.x image, the only kind gui.gdscreenshot() writes.
  if (gd[0] !== 0xff || gd[1] !== 0xfe) {
    throw new Error(`not a truecolor GD image: signature ${gd[0].toString(16)} ${gd[1].toString(16)} (expected ff fe)`);
  }
  if (gd[6] !== 1) throw new Error(`not a truecolor GD image: truecolor flag is ${gd[6]}`);
  const width = (gd[2] << 8) | gd[3];
  const height = (gd[4] << 8) | gd[5];
  if (width === 0 || height === 0) throw new Error(`GD image has empty size ${width}x${height}`);
  return { width, height };
}

/** An FCEUX gd screenshot (A,R,G,B per pixel, A 0 = opaque .. 127 = transparent) to RGBA. */
export function gdToRgba(gdBytes: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const { width, height } = readGdHeader(gdBytes);
  const n = width * height;
  const expected = GD_HEADER_BYTES + n * 4;
  if (gdBytes.length !== expected) {
    throw new Error(`GD image ${width}x${height} should be ${expected} bytes, got ${gdBytes.length}`);
  }
  const rgba = new Uint8Array(n * 4);
  for (let i = 0, s = GD_HEADER_BYTES, d = 0; i < n; i++, s += 4, d += 4) {
    const a = gdBytes[s] & 0x7f;
    rgba[d] = gdBytes[s + 1];
    rgba[d + 1] = gdBytes[s + 2];
    rgba[d + 2] = gdBytes[s + 3];
    rgba[d + 3] = a === 0 ? 255 : Math.round(((127 - a) * 255) / 127);
  }
  return { width, height, rgba };
}

/**
 * Box-averages an RGBA image by an integer factor that divides both sides; 'gray' gives one luma byte per pixel
 * (0.299 R + 0.587 G + 0.114 B, averaged over the box, rounded).
 */
export function downsample(
  rgba: Uint8Array, width: number, height: number, factor: number, format: 'rgba' | 'gray',
): { width: number; height: number; pixels: Uint8Array } {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`downsample: bad image size ${width}x${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new Error(`downsample: ${width}x${height} RGBA needs ${width * height * 4} bytes, got ${rgba.length}`);
  }
  if (!Number.isInteger(factor) || factor < 1 || width % factor !== 0 || height % factor !== 0) {
    throw new Error(`downsample: factor must be a positive integer dividing ${width}x${height}, got ${factor}`);
  }
  const ow = width / factor;
  const oh = height / factor;
  const area = factor * factor;
  const rowStride = width * 4;
  if (format === 'gray') {
    const out = new Uint8Array(ow * oh);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let r = 0, g = 0, b = 0;
        for (let y = oy * factor, ye = y + factor; y < ye; y++) {
          for (let p = y * rowStride + ox * factor * 4, pe = p + factor * 4; p < pe; p += 4) {
            r += rgba[p];
            g += rgba[p + 1];
            b += rgba[p + 2];
          }
        }
        out[oy * ow + ox] = Math.round((0.299 * r + 0.587 * g + 0.114 * b) / area);
      }
    }
    return { width: ow, height: oh, pixels: out };
  }
  if (factor === 1) return { width, height, pixels: rgba.slice() };
  const out = new Uint8Array(ow * oh * 4);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let y = oy * factor, ye = y + factor; y < ye; y++) {
        for (let p = y * rowStride + ox * factor * 4, pe = p + factor * 4; p < pe; p += 4) {
          r += rgba[p];
          g += rgba[p + 1];
          b += rgba[p + 2];
          a += rgba[p + 3];
        }
      }
      const d = (oy * ow + ox) * 4;
      out[d] = Math.round(r / area);
      out[d + 1] = Math.round(g / area);
      out[d + 2] = Math.round(b / area);
      out[d + 3] = Math.round(a / area);
    }
  }
  return { width: ow, height: oh, pixels: out };
}
