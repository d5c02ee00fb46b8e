// ROM loading: iNES/NES 2.0 header parsing, checksums, and the one-line errors for bad files.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_MAPPERS, assertMapperSupported, describeRomLayout, parseRom, readRom } from '../../../src/emulators/rom';

const DEMO = join(__dirname, '../../../roms/demo/demo.nes');

/** A synthetic image: a header plus zero-filled PRG/CHR of the given byte sizes. */
function image(header: number[], prgBytes: number, chrBytes: number): Uint8Array {
  const h = new Uint8Array(16);
  h.set([0x4e, 0x45, 0x53, 0x1a]);
  h.set(header, 4);
  const out = new Uint8Array(16 + prgBytes + chrBytes);
  out.set(h);
  return out;
}

describe('rom', () => {
  let dir: string;
  let demo: Uint8Array;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockstep-rom-'));
    demo = new Uint8Array(await readFile(DEMO));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads the demo ROM header and checksums', async () => {
    const { bytes, info } = await readRom(DEMO);
    assert.deepEqual(bytes, demo);
    assert.equal(info.name, 'demo.nes');
    assert.equal(info.mapper, (demo[6] >> 4) | (demo[7] & 0xf0));
    assert.equal(info.prgBanks, demo[4]);
    assert.equal(info.chrBanks, demo[5]);
    assert.equal(info.md5, createHash('md5').update(demo).digest('hex'));
    assert.equal(info.md5NoHeader, createHash('md5').update(demo.subarray(16)).digest('hex'), 'no trainer, no trailing bytes: PRG + CHR is all but the header');
    assert.notEqual(info.md5, info.md5NoHeader);
  });

  test('a missing file is "ROM not found" with its path', async () => {
    const path = join(dir, 'nope.nes');
    await assert.rejects(readRom(path), { message: `ROM not found: ${path}` });
  });

  test('a folder is named as a folder', async () => {
    const path = join(dir, 'folder.nes');
    await mkdir(path);
    await assert.rejects(readRom(path), { message: `ROM path is a folder, not a file: ${path}` });
  });

  test('a text file is not an NES ROM, and the error shows what it starts with', async () => {
    const path = join(dir, 'notes.txt');
    await writeFile(path, 'Hello, this is not a ROM at all\n');
    await assert.rejects(readRom(path), (err: Error) => {
      assert.match(err.message, /^Not an NES ROM: notes\.txt starts with 48 65 6c 6c \("Hell"\) instead of 4e 45 53 1a/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  });

  test('a ZIP archive gets a hint', () => {
    const zip = new Uint8Array(64);
    zip.set([0x50, 0x4b, 0x03, 0x04]);
    assert.throws(() => parseRom(zip, 'game.zip'), /ZIP archive: extract the \.nes file first/);
  });

  test('a file shorter than the header is rejected with its size', () => {
    assert.throws(() => parseRom(new Uint8Array(5), 'tiny.nes'), /^Error: Not an NES ROM: tiny\.nes is only 5 bytes/);
    assert.throws(() => parseRom(new Uint8Array(0), 'empty.nes'), /empty\.nes is only 0 bytes/);
  });

  test('a truncated copy reports its size against what the header promises', async () => {
    const path = join(dir, 'cut.nes');
    await writeFile(path, demo.subarray(0, 10000));
    await assert.rejects(readRom(path), {
      message: `Truncated ROM: cut.nes is 10000 bytes but its header promises ${demo.length} (16 header + ${demo[4] * 16384} PRG + ${demo[5] * 8192} CHR)`,
    });
  });

  test('a trainer counts toward the expected size', () => {
    const rom = image([1, 0, 0x04, 0], 16384, 0);
    assert.throws(() => parseRom(rom, 't.nes'), /is 16400 bytes but its header promises 16912 \(16 header \+ 512 trainer \+ 16384 PRG \+ 0 CHR\)/);
    const full = new Uint8Array(16912);
    full.set(rom.subarray(0, 16));
    assert.equal(parseRom(full, 't.nes').prgBanks, 1);
  });

  test('no PRG ROM is a bad header', () => {
    assert.throws(() => parseRom(image([0, 1, 0, 0], 0, 8192), 'z.nes'), /Bad NES header in z\.nes: it declares no PRG ROM/);
  });

  test('an unsupported mapper (patched into a copy) names the mapper, the file and the supported list', async () => {
    const path = join(dir, 'mapper6.nes');
    const patched = demo.slice();
    patched[6] = (patched[6] & 0x0f) | 0x60;
    patched[7] &= 0x0f;
    await writeFile(path, patched);
    const { info } = await readRom(path);
    assert.equal(info.mapper, 6);
    assert.throws(() => assertMapperSupported(info), {
      message: `Unsupported mapper 6 in mapper6.nes: the embedded emulator supports mappers ${EMBEDDED_MAPPERS.join(',')}`,
    });
    assert.match(EMBEDDED_MAPPERS.join(','), /^0,1,2,3,4,5,7,9,11,34,38,66,71,79,94,118,119,140,180,240,241$/);
    assert.doesNotThrow(() => assertMapperSupported({ ...info, mapper: 4 }));
  });

  test('iNES 1: the high mapper nibble comes from byte 7 unless bytes 8-15 hold junk', () => {
    assert.equal(parseRom(image([1, 1, 0x10, 0x40], 16384, 8192), 'a.nes').mapper, 0x41);
    const junk = image([1, 1, 0x10, 0x40], 16384, 8192);
    junk.set([...'DiskDude!'].map((c) => c.charCodeAt(0)), 7);
    assert.equal(parseRom(junk, 'b.nes').mapper, 0x01);
  });

  test('NES 2.0: 12-bit mapper, size high nibbles and the exponent-multiplier form', () => {
    // Mapper 0x104: low nibble from byte 6, bits 8-11 from byte 8 (iNES 1 has no room for them).
    const plain = image([2, 1, 0x40, 0x08, 0x01, 0x00], 2 * 16384, 8192);
    const p = parseRom(plain, 'n2.nes');
    assert.deepEqual([p.mapper, p.prgBanks, p.chrBanks], [0x104, 2, 1]);
    // PRG as 2^E * (2M+1) with E=15, M=0: 32 KB; CHR as E=12, M=1: 3 * 4 KB = 12 KB (1.5 banks, rounded up).
    const expo = image([(15 << 2) | 0, (12 << 2) | 1, 0x00, 0x08, 0x00, 0xff], 32768, 12288);
    const e = parseRom(expo, 'n2e.nes');
    assert.deepEqual([e.mapper, e.prgBanks, e.chrBanks], [0, 2, 2]);
    assert.throws(() => parseRom(expo.subarray(0, 40000), 'n2e.nes'), /promises 45072/);
  });

  test('the identity is FCEUX\'s: PRG + CHR as declared, without trailing bytes or a trainer; the layout says what was left out', () => {
    const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
    const prgChr = demo.subarray(16);
    const trailing = new Uint8Array(demo.length + 4096).fill(0xa5);
    trailing.set(demo);
    const info = parseRom(trailing, 'trailing.nes');
    assert.equal(info.md5NoHeader, md5(prgChr));
    assert.equal(info.md5, md5(trailing));
    assert.deepEqual(info.layout, { fileBytes: demo.length + 4096, trainerBytes: 0, prgBytes: 0x4000, chrBytes: 0x2000, trailingBytes: 4096 });
    assert.match(describeRomLayout(info), /^trailing\.nes: 28688 bytes = 16 header \+ 16384 PRG \+ 8192 CHR \+ 4096 trailing, not hashed; PRG\+CHR md5 [0-9a-f]{32}$/);

    const trained = new Uint8Array(demo.length + 512);
    trained.set(demo.subarray(0, 16));
    trained[6] |= 0x04;
    trained.fill(0x77, 16, 16 + 512);
    trained.set(prgChr, 16 + 512);
    assert.equal(parseRom(trained, 'trained.nes').md5NoHeader, md5(prgChr));
  });

  test('a PRG size that is not a power of two is hashed rounded up, padded with 0xFF like FCEUX', () => {
    const rom = image([3, 0], 3 * 0x4000, 0);
    rom.fill(0x11, 16);
    const padded = new Uint8Array(4 * 0x4000).fill(0xff);
    padded.fill(0x11, 0, 3 * 0x4000);
    assert.equal(parseRom(rom, 'odd.nes').md5NoHeader, createHash('md5').update(padded).digest('hex'));
  });
});
