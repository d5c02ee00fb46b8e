// Reads a .zip (such as a .vsix) on node:zlib alone: lists entries from the central directory and extracts them, checking each CRC.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localHeaderOffset: number;
}

/** The entries of a zip, in directory order (no zip64: a .vsix stays far below 4 GB). */
export function listZip(zip: Buffer, fileName = 'zip'): ZipEntry[] {
  let end = -1;
  // The end record is 22 bytes plus a comment of up to 64 KB, so it is searched for backwards.
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === END_OF_DIRECTORY) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error(`${fileName}: not a zip file (no end-of-directory record)`);
  const count = zip.readUInt16LE(end + 10);
  let pos = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(pos) !== DIRECTORY_ENTRY) throw new Error(`${fileName}: damaged central directory at entry ${n}`);
    const nameLength = zip.readUInt16LE(pos + 28);
    const extraLength = zip.readUInt16LE(pos + 30);
    const commentLength = zip.readUInt16LE(pos + 32);
    entries.push({
      name: zip.toString('utf8', pos + 46, pos + 46 + nameLength),
      method: zip.readUInt16LE(pos + 10),
      crc: zip.readUInt32LE(pos + 16),
      compressedSize: zip.readUInt32LE(pos + 20),
      size: zip.readUInt32LE(pos + 24),
      localHeaderOffset: zip.readUInt32LE(pos + 42),
    });
    pos += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** One entry's bytes, inflated and CRC-checked. */
export function readZipEntry(zip: Buffer, entry: ZipEntry, fileName = 'zip'): Buffer {
  const at = entry.localHeaderOffset;
  if (zip.readUInt32LE(at) !== LOCAL_HEADER) throw new Error(`${fileName}: damaged local header for ${entry.name}`);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const raw = zip.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (entry.method === 0) data = Buffer.from(raw);
  else if (entry.method === 8) data = inflateRawSync(raw);
  else throw new Error(`${fileName}: ${entry.name} uses compression method ${entry.method} (only stored and deflate are read)`);
  if (data.length !== entry.size || (crc32(data) >>> 0) !== entry.crc) throw new Error(`${fileName}: ${entry.name} fails its size or CRC check`);
  return data;
}

/** Writes every file entry under `dir`; an entry whose path would leave `dir` is an error. */
export function extractZip(zip: Buffer, dir: string, fileName = 'zip'): string[] {
  const written: string[] = [];
  for (const entry of listZip(zip, fileName)) {
    if (entry.name.endsWith('/')) continue;
    const rel = normalize(entry.name);
    if (rel.startsWith('..' + sep) || rel === '..' || rel.startsWith(sep)) throw new Error(`${fileName}: entry ${entry.name} points outside the folder`);
    const out = join(dir, rel);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, readZipEntry(zip, entry, fileName));
    written.push(entry.name);
  }
  return written;
}
