// Binary frames on the bridge links: screens ("LSSC" header + pixels) and emulator states ("LSST"); FCEUX gd screenshots to RGBA; box downsampling.
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

/** Throws "not <what>: bad magic <hex>" unless `bytes` starts with `magic` (the caller checked there are four bytes). */
export function checkMagic(bytes: Uint8Array, magic: readonly number[], what: string, name: string): void {
  for (let i = 0; i < magic.length; i++) {
    if (bytes[i] !== magic[i]) {
      const got = Array.from(bytes.subarray(0, magic.length), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new Error(`not ${what}: bad magic ${got} (expected "${name}")`);
    }
  }
}

/** The little-endian unsigned 32-bit integer at `at` (the caller checked that four bytes are there). */
export function u32le(bytes: Uint8Array, at: number): number {
  return bytes[at] + bytes[at + 1] * 0x100 + bytes[at + 2] * 0x10000 + bytes[at + 3] * 0x1000000;
}

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
  checkMagic(bytes, MAGIC_BYTES, 'a screen frame', SCREEN_MAGIC);
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

/** GD's 7-bit alpha (0 opaque .. 127 transparent) as an 8-bit RGBA alpha. */
const GD_ALPHA: Uint8Array = Uint8Array.from({ length: 128 }, (_, a) => (a === 0 ? 255 : Math.round(((127 - a) * 255) / 127)));
/** The same alpha already in the top byte of a little-endian RGBA word. */
const GD_ALPHA_WORD: Int32Array = Int32Array.from(GD_ALPHA, (a) => a << 24);
const OPAQUE_WORD = GD_ALPHA_WORD[0];
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * An FCEUX gd screenshot (A,R,G,B per pixel, A 0 = opaque .. 127 = transparent) to RGBA, written into `into` when
 * given (width*height*4 bytes the caller hands over, e.g. allocated ahead of time), else into a new array.
 */
export function gdToRgba(gdBytes: Uint8Array, into?: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const { width, height } = readGdHeader(gdBytes);
  const n = width * height;
  const expected = GD_HEADER_BYTES + n * 4;
  if (gdBytes.length !== expected) {
    throw new Error(`GD image ${width}x${height} should be ${expected} bytes, got ${gdBytes.length}`);
  }
  if (into && into.length !== n * 4) throw new Error(`gdToRgba: a ${width}x${height} image needs ${n * 4} RGBA bytes, the target has ${into.length}`);
  // Every byte is written below, so the zero-fill of a new Uint8Array is wasted work on a quarter megabyte per frame.
  const rgba = into ?? new Uint8Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n * 4);
  // This runs for every frame of a lockstep run with screens: one 32-bit store per pixel instead of four byte stores,
  // and one 32-bit load too when the pixels sit 4-byte aligned (FceuxEmulator reads its screen file that way).
  const start = gdBytes.byteOffset + GD_HEADER_BYTES;
  const wordOut = LITTLE_ENDIAN && rgba.byteOffset % 4 === 0;
  if (wordOut && start % 4 === 0) {
    // Little-endian A,R,G,B reads as B<<24|G<<16|R<<8|A: a shift right by 8 leaves exactly RGBA's R, G and B.
    const src = new Int32Array(gdBytes.buffer, start, n);
    const out = new Int32Array(rgba.buffer, rgba.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const v = src[i];
      // FCEUX's screenshots are opaque (GD alpha 0): no table lookup for those.
      out[i] = (v & 0x7f) === 0 ? (v >>> 8) | OPAQUE_WORD : (v >>> 8) | GD_ALPHA_WORD[v & 0x7f];
    }
  } else if (wordOut) {
    const out = new Int32Array(rgba.buffer, rgba.byteOffset, n);
    for (let i = 0, s = GD_HEADER_BYTES; i < n; i++, s += 4) {
      out[i] = gdBytes[s + 1] | (gdBytes[s + 2] << 8) | (gdBytes[s + 3] << 16) | GD_ALPHA_WORD[gdBytes[s] & 0x7f];
    }
  } else {
    for (let i = 0, s = GD_HEADER_BYTES, d = 0; i < n; i++, s += 4, d += 4) {
      rgba[d] = gdBytes[s + 1];
      rgba[d + 1] = gdBytes[s + 2];
      rgba[d + 2] = gdBytes[s + 3];
      rgba[d + 3] = GD_ALPHA[gdBytes[s] & 0x7f];
    }
  }
  return { width, height, rgba };
}

// ---- binary emulator states ("LSST"): the per-frame state of the emulator link without JSON or base64 ----

/** A frame's state as the emulator link carries it in binary (what the JSON `state` message says, plus its screen). */
export interface StateFrame {
  /** The frame about to run. */
  frame: number;
  /** Emulator wall clock in ms (epoch-based); the wire keeps whole microseconds. */
  timestamp: number;
  lag: boolean;
  /** The welcome's RAM ranges, concatenated. */
  ram: Uint8Array;
  /** The screen of `frame`, when screens are on and it travels inside the message. */
  screen?: ScreenFrame;
  /** The screen of `frame` was written to the screen file the welcome named (as an "LSSC" frame) instead. */
  screenInFile?: boolean;
}

export const STATE_MAGIC = 'LSST';
export const STATE_FRAME_VERSION = 1;
/** magic(4) version(1) flags(1) reserved(2) frame(4) timestamp in µs (u64 as low u32, high u32) ram length(4), little-endian. */
export const STATE_HEADER_BYTES = 24;
/** flags: bit 0 lag, bit 1 a screen frame follows the RAM inside the same message, bit 2 the screen is in the screen file. */
const STATE_FLAG_LAG = 1;
const STATE_FLAG_SCREEN = 2;
const STATE_FLAG_SCREEN_FILE = 4;
const STATE_MAGIC_BYTES = [0x4c, 0x53, 0x53, 0x54];
/** RAM of a state lies in the 16-bit CPU address space. */
const MAX_STATE_RAM = 0x10000;
const MAX_TIMESTAMP_US = Number.MAX_SAFE_INTEGER;
const TWO_32 = 2 ** 32;

/** What a binary message on a bridge link is, by its magic: a state, a screen, or neither. */
export function binaryFrameKind(bytes: Uint8Array): 'state' | 'screen' | undefined {
  if (bytes.length < 4 || bytes[0] !== 0x4c || bytes[1] !== 0x53 || bytes[2] !== 0x53) return undefined;
  if (bytes[3] === STATE_MAGIC_BYTES[3]) return 'state';
  if (bytes[3] === MAGIC_BYTES[3]) return 'screen';
  return undefined;
}

export function encodeStateFrame(s: StateFrame): Uint8Array {
  if (!Number.isInteger(s.frame) || s.frame < 0 || s.frame > 0xffffffff) {
    throw new Error(`state frame id must be an integer in 0..4294967295, got ${s.frame}`);
  }
  const us = Math.round(s.timestamp * 1000);
  if (!Number.isFinite(s.timestamp) || us < 0 || us > MAX_TIMESTAMP_US) {
    throw new Error(`state timestamp must be a non-negative number of ms below 2^53 µs, got ${s.timestamp}`);
  }
  if (s.ram.length > MAX_STATE_RAM) throw new Error(`state RAM of ${s.ram.length} bytes exceeds the ${MAX_STATE_RAM}-byte address space`);
  if (s.screen && s.screen.frame !== s.frame) throw new Error(`state for frame ${s.frame} carries a screen for frame ${s.screen.frame}`);
  if (s.screen && s.screenInFile) throw new Error(`state for frame ${s.frame} cannot carry its screen both inside and in the screen file`);
  const screen = s.screen ? encodeScreenFrame(s.screen) : undefined;
  const size = STATE_HEADER_BYTES + s.ram.length + (screen?.length ?? 0);
  if (size > MAX_MESSAGE_BYTES) throw new Error(`state frame of ${size} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte message limit`);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(STATE_MAGIC_BYTES, 0);
  dv.setUint8(4, STATE_FRAME_VERSION);
  dv.setUint8(5, (s.lag ? STATE_FLAG_LAG : 0) | (screen ? STATE_FLAG_SCREEN : 0) | (s.screenInFile ? STATE_FLAG_SCREEN_FILE : 0));
  dv.setUint32(8, s.frame, true);
  dv.setUint32(12, us % TWO_32, true);
  dv.setUint32(16, Math.floor(us / TWO_32), true);
  dv.setUint32(20, s.ram.length, true);
  out.set(s.ram, STATE_HEADER_BYTES);
  if (screen) out.set(screen, STATE_HEADER_BYTES + s.ram.length);
  return out;
}

/** Parses a binary state; `ram` and the screen's pixels are views into `bytes` (no copy). Throws a clear error for anything malformed. */
export function decodeStateFrame(bytes: Uint8Array): StateFrame {
  if (bytes.length < STATE_HEADER_BYTES) {
    throw new Error(`state frame truncated: ${bytes.length} bytes, the header alone is ${STATE_HEADER_BYTES}`);
  }
  checkMagic(bytes, STATE_MAGIC_BYTES, 'a state frame', STATE_MAGIC);
  // Read byte by byte, without a DataView: every state on a lockstep round trip comes through here.
  const version = bytes[4];
  if (version !== STATE_FRAME_VERSION) throw new Error(`state frame version ${version} not supported (expected ${STATE_FRAME_VERSION})`);
  const flags = bytes[5];
  if ((flags & ~(STATE_FLAG_LAG | STATE_FLAG_SCREEN | STATE_FLAG_SCREEN_FILE)) !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new Error(`state frame has unknown flags ${flags.toString(2)} or a non-zero reserved field`);
  }
  if ((flags & STATE_FLAG_SCREEN) && (flags & STATE_FLAG_SCREEN_FILE)) {
    throw new Error('state frame says its screen is both inside the message and in the screen file');
  }
  const frame = u32le(bytes, 8);
  const us = u32le(bytes, 12) + u32le(bytes, 16) * TWO_32;
  if (us > MAX_TIMESTAMP_US) throw new Error(`state frame timestamp ${us} µs is beyond 2^53`);
  const ramLength = u32le(bytes, 20);
  if (ramLength > MAX_STATE_RAM) throw new Error(`state frame claims ${ramLength} bytes of RAM, over the ${MAX_STATE_RAM}-byte address space`);
  const ramEnd = STATE_HEADER_BYTES + ramLength;
  if (bytes.length < ramEnd) throw new Error(`state frame truncated: ${ramLength} bytes of RAM announced, ${bytes.length - STATE_HEADER_BYTES} present`);
  const out: StateFrame = { frame, timestamp: us / 1000, lag: (flags & STATE_FLAG_LAG) !== 0, ram: bytes.subarray(STATE_HEADER_BYTES, ramEnd) };
  if (flags & STATE_FLAG_SCREEN) {
    if (bytes.length === ramEnd) throw new Error(`state frame ${frame} announces a screen but ends after its RAM`);
    const screen = decodeScreenFrame(bytes.subarray(ramEnd));
    if (screen.frame !== frame) throw new Error(`state frame ${frame} carries a screen for frame ${screen.frame}`);
    out.screen = screen;
  } else if (bytes.length !== ramEnd) {
    throw new Error(`state frame size mismatch: ${ramEnd} bytes expected, got ${bytes.length}`);
  }
  if (flags & STATE_FLAG_SCREEN_FILE) out.screenInFile = true;
  return out;
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
