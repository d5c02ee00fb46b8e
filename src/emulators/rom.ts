// Reads and validates iNES / NES 2.0 ROM files (header, size, mapper, checksums) for every emulator backend.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { RomInfo, RomLayout } from '../core/ports';

/** Mappers jsnes 3.0.0 implements (its mapper table); anything else throws inside jsnes. */
export const EMBEDDED_MAPPERS: readonly number[] = [
  0, 1, 2, 3, 4, 5, 7, 9, 11, 34, 38, 66, 71, 79, 94, 118, 119, 140, 180, 240, 241,
];

const HEADER_SIZE = 16;
const TRAINER_SIZE = 512;
const PRG_UNIT = 0x4000;
const CHR_UNIT = 0x2000;
const MAGIC = [0x4e, 0x45, 0x53, 0x1a] as const;

/** Parses an iNES or NES 2.0 image; throws a one-line error naming the file and the problem. */
export function parseRom(bytes: Uint8Array, name: string): RomInfo {
  if (bytes.length < HEADER_SIZE) {
    throw new Error(
      `Not an NES ROM: ${name} is only ${bytes.length} bytes (an iNES file starts with a 16-byte header "NES\\x1a")`,
    );
  }
  if (MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error(`Not an NES ROM: ${name} starts with ${describeStart(bytes)} instead of 4e 45 53 1a ("NES\\x1a")`);
  }
  const header = bytes.subarray(0, HEADER_SIZE);
  const hasTrainer = (header[6] & 0x04) !== 0;
  const isNes2 = (header[7] & 0x0c) === 0x08;
  const { mapper, prgBytes, chrBytes } = isNes2 ? nes2Layout(header) : ines1Layout(header);
  if (prgBytes === 0) throw new Error(`Bad NES header in ${name}: it declares no PRG ROM (byte 4 is 0)`);

  const expected = HEADER_SIZE + (hasTrainer ? TRAINER_SIZE : 0) + prgBytes + chrBytes;
  if (bytes.length < expected) {
    const parts = [`16 header`, hasTrainer ? `512 trainer` : '', `${prgBytes} PRG`, `${chrBytes} CHR`].filter(Boolean);
    throw new Error(
      `Truncated ROM: ${name} is ${bytes.length} bytes but its header promises ${expected} (${parts.join(' + ')})`,
    );
  }
  const trainerBytes = hasTrainer ? TRAINER_SIZE : 0;
  const layout: RomLayout = { fileBytes: bytes.length, trainerBytes, prgBytes, chrBytes, trailingBytes: bytes.length - expected };
  return {
    name,
    md5: md5Hex(bytes),
    md5NoHeader: fceuxMd5(bytes, HEADER_SIZE + trainerBytes, prgBytes, chrBytes, isNes2 && header[9] >> 4 === 0x0f),
    mapper,
    prgBanks: Math.ceil(prgBytes / PRG_UNIT),
    chrBanks: Math.ceil(chrBytes / CHR_UNIT),
    layout,
  };
}

/**
 * The MD5 FCEUX gives a cartridge: it loads PRG into a buffer rounded up to a power of two (0xFF where the file has
 * nothing), CHR after it the same way (an exponent-form NES 2.0 CHR size is not rounded), and hashes both buffers. So
 * header, trainer and trailing bytes never count; for the usual power-of-two sizes this is the MD5 of the declared
 * PRG + CHR bytes. (FCEUX reads odd-sized PRG unrounded for a few mappers; those files are rare and not modelled.)
 */
function fceuxMd5(bytes: Uint8Array, start: number, prgBytes: number, chrBytes: number, chrExponentForm: boolean): string {
  const prgHashed = powerOfTwoAtLeast(prgBytes);
  const chrHashed = chrExponentForm ? chrBytes : powerOfTwoAtLeast(chrBytes);
  const image = new Uint8Array(prgHashed + chrHashed).fill(0xff);
  image.set(bytes.subarray(start, Math.min(bytes.length, start + prgHashed)), 0);
  if (chrHashed > 0) image.set(bytes.subarray(Math.min(bytes.length, start + prgHashed), Math.min(bytes.length, start + prgHashed + chrHashed)), prgHashed);
  return md5Hex(image);
}

function powerOfTwoAtLeast(n: number): number {
  if (n === 0) return 0;
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** One line on what an identity covers in this file, for messages where two identities differ. */
export function describeRomLayout(info: RomInfo): string {
  const l = info.layout;
  if (!l) return `${info.name} (md5 ${info.md5NoHeader})`;
  const parts = [`16 header`, l.trainerBytes ? `${l.trainerBytes} trainer` : '', `${l.prgBytes} PRG`, `${l.chrBytes} CHR`, l.trailingBytes ? `${l.trailingBytes} trailing, not hashed` : ''];
  return `${info.name}: ${l.fileBytes} bytes = ${parts.filter(Boolean).join(' + ')}; PRG+CHR md5 ${info.md5NoHeader}`;
}

/** Reads a ROM file and parses its header; missing files and bad images reject with one clear line. */
export async function readRom(path: string): Promise<{ bytes: Uint8Array; info: RomInfo }> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`ROM not found: ${path}`);
    if (code === 'EISDIR') throw new Error(`ROM path is a folder, not a file: ${path}`);
    throw new Error(`Cannot read ROM ${path}: ${(err as Error).message}`);
  }
  const bytes = new Uint8Array(buffer); // an exact-size copy: it is posted to a worker, which clones the whole buffer
  return { bytes, info: parseRom(bytes, basename(path)) };
}

/** Throws when a backend cannot run this ROM's mapper; `backend` names it in the message. */
export function assertMapperSupported(
  info: RomInfo,
  supported: readonly number[] = EMBEDDED_MAPPERS,
  backend = 'the embedded emulator',
): void {
  if (!supported.includes(info.mapper)) {
    throw new Error(`Unsupported mapper ${info.mapper} in ${info.name}: ${backend} supports mappers ${supported.join(',')}`);
  }
}

function ines1Layout(h: Uint8Array): { mapper: number; prgBytes: number; chrBytes: number } {
  // Old dumps often carry junk (e.g. "DiskDude!") in bytes 7-15; like jsnes, trust byte 7 only when 8-15 are zero,
  // so both agree on the mapper number.
  const tailClean = h.subarray(8, 16).every((b) => b === 0);
  const mapper = (h[6] >> 4) | (tailClean ? h[7] & 0xf0 : 0);
  return { mapper, prgBytes: h[4] * PRG_UNIT, chrBytes: h[5] * CHR_UNIT };
}

function nes2Layout(h: Uint8Array): { mapper: number; prgBytes: number; chrBytes: number } {
  const mapper = (h[6] >> 4) | (h[7] & 0xf0) | ((h[8] & 0x0f) << 8);
  return {
    mapper,
    prgBytes: nes2RomSize(h[4], h[9] & 0x0f, PRG_UNIT),
    chrBytes: nes2RomSize(h[5], h[9] >> 4, CHR_UNIT),
  };
}

/** NES 2.0 size: 12-bit unit count, or exponent-multiplier form 2^E * (2M+1) bytes when the high nibble is 0xF. */
function nes2RomSize(lsb: number, msbNibble: number, unit: number): number {
  if (msbNibble === 0x0f) return 2 ** (lsb >> 2) * ((lsb & 0x03) * 2 + 1);
  return ((msbNibble << 8) | lsb) * unit;
}

function describeStart(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 4);
  const hex = [...head].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = [...head].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  const hint = head[0] === 0x50 && head[1] === 0x4b ? ', a ZIP archive: extract the .nes file first' : '';
  return `${hex} (${JSON.stringify(text)}${hint})`;
}

function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}
