// NesMachine (jsnes in-thread): determinism, buttons, RAM/screen access, and save states that replay identically.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ButtonPair } from '../../../src/core/buttons';
import { shortHash } from '../../../src/core/episodes/ramHash';
import { NesMachine } from '../../../src/emulators/embedded/nesMachine';
import { EMBEDDED_MAPPERS } from '../../../src/emulators/rom';

const DEMO = join(__dirname, '../../../roms/demo/demo.nes');

/** Seeded button sequence (mulberry32), so every run and every machine sees the same inputs. */
function inputs(seed: number, count: number): ButtonPair[] {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out: ButtonPair[] = [];
  let held: [number, number] = [0, 0];
  for (let i = 0; i < count; i++) {
    // Hold each combination for a few frames, as a player would; START only rarely.
    if (next() < 0.2) held = [Math.floor(next() * 256) & (next() < 0.9 ? 0xf7 : 0xff), Math.floor(next() * 256) & 0xf7];
    out.push(held);
  }
  return out;
}

/**
 * A 64 KB MMC1 (mapper 1) cartridge whose NMI handler keeps state in the mapper and the APU across frames, so a
 * snapshot that missed either would replay differently (the demo, NROM with no sound, cannot show that):
 *
 *   nmi:   strobe pad 1; A -> $02 and, one bit per frame, into MMC1's serial PRG-bank register ($E000)
 *          lda $8000 / sta $01          ; which bank is mapped now (first byte of banks 0-2 is the bank number)
 *          B -> lda #$08 / sta $4003    ; reload pulse 1's length counter (254 half-frames)
 *          lda $4015 / sta $03          ; APU status: is the length counter still running
 *          inc $00 / rti
 *   reset: sei/cld/ldx #$ff/txs; MMC1 reset ($80 -> $8000); enable pulse 1; frame IRQ off; wait 2 vblanks; NMI on
 * Assembled with ca65 at $C000 (the fixed last bank).
 */
function mmc1Rom(): Uint8Array {
  const code =
    'a9018d1640a9008d1640ad1640290185028d00e0ad00808501ad16402901f005a9088d0340ad15408503e600' +
    '4078d8a2ff9aa9808d0080a9018d1540a9408d17402c022010fb2c022010fba9808d00204c50c0';
  const rom = new Uint8Array(16 + 4 * 0x4000);
  rom.set([0x4e, 0x45, 0x53, 0x1a, 4, 0, 0x10, 0]);
  for (let bank = 0; bank < 3; bank++) rom[16 + bank * 0x4000] = bank;
  const fixed = 16 + 3 * 0x4000;
  rom.set(Buffer.from(code, 'hex'), fixed);
  rom.set([0x00, 0xc0, 0x2d, 0xc0, 0x2c, 0xc0], fixed + 0x3ffa); // NMI $C000, RESET $C02D, IRQ -> an RTI
  return rom;
}

function run(m: NesMachine, seq: readonly ButtonPair[]): string[] {
  return seq.map((b) => {
    m.frame(b);
    return shortHash(m.ram());
  });
}

describe('NesMachine', () => {
  let rom: Uint8Array;
  before(async () => {
    rom = new Uint8Array(await readFile(DEMO));
  });

  test('two machines fed the same seeded inputs for 600 frames stay identical (RAM and screen)', async () => {
    const a = await NesMachine.create(rom);
    const b = await NesMachine.create(rom);
    const seq = inputs(1234, 600);
    const start = shortHash(a.ram());
    for (let i = 0; i < seq.length; i++) {
      a.frame(seq[i]);
      b.frame(seq[i]);
      if (i % 60 === 59) {
        assert.equal(shortHash(a.ram()), shortHash(b.ram()), `RAM differs after frame ${i}`);
        assert.equal(shortHash(a.screenRgba()), shortHash(b.screenRgba()), `screen differs after frame ${i}`);
      }
    }
    assert.equal(a.frameCount, 600);
    assert.notEqual(shortHash(a.ram()), start, 'RAM never changed');
  });

  test('buttons reach the game: other inputs give another RAM', async () => {
    const a = await NesMachine.create(rom);
    const b = await NesMachine.create(rom);
    run(a, inputs(1, 300));
    run(b, inputs(2, 300));
    assert.notEqual(shortHash(a.ram()), shortHash(b.ram()));
  });

  test('frame() refuses a bad button mask', async () => {
    const m = await NesMachine.create(rom);
    assert.throws(() => m.frame([256, 0]), /buttons\[0\] must be an integer mask 0-255, got 256/);
    assert.throws(() => m.frame([0, 1.5]), /buttons\[1\] must be an integer mask 0-255, got 1.5/);
    assert.equal(m.frameCount, 0);
  });

  test('ram() and screenRgba() are copies in the documented shapes', async () => {
    const m = await NesMachine.create(rom);
    run(m, inputs(3, 120));
    const ram = m.ram();
    assert.equal(ram.length, 0x800);
    ram.fill(0xaa);
    assert.notDeepEqual(m.ram(), ram, 'ram() must not expose the live memory');
    const screen = m.screenRgba();
    assert.equal(screen.length, 256 * 240 * 4);
    for (let i = 3; i < screen.length; i += 4) assert.equal(screen[i], 255);
    assert.ok(screen.some((v, i) => i % 4 !== 3 && v !== 0), 'the picture is all black after 2 s');
  });

  test('writeRam changes work RAM and refuses addresses outside it', async () => {
    const m = await NesMachine.create(rom);
    m.frame([0, 0]);
    m.writeRam(0x7fe, Uint8Array.of(0x12, 0x34));
    assert.deepEqual([...m.ram().subarray(0x7fe)], [0x12, 0x34]);
    assert.throws(() => m.writeRam(0x7ff, Uint8Array.of(1, 2)), /2 byte\(s\) at address 2047 fall outside work RAM \$0000-\$07FF/);
    assert.throws(() => m.writeRam(-1, Uint8Array.of(1)), /outside work RAM/);
  });

  test('restore replays identically to an uninterrupted run, even after other button presses', async () => {
    const seq = inputs(99, 600);
    const reference = await NesMachine.create(rom);
    const refHashes = run(reference, seq);
    const refScreen = shortHash(reference.screenRgba());

    const m = await NesMachine.create(rom);
    run(m, seq.slice(0, 250));
    const snap = m.snapshot();
    const ramAtSnap = shortHash(m.ram());
    const screenAtSnap = shortHash(m.screenRgba());
    // A different future: other buttons held and released, RAM poked. None of it may leak into the snapshot.
    run(m, inputs(7, 200));
    m.writeRam(0, new Uint8Array(64).fill(0x5a));
    assert.notEqual(shortHash(m.ram()), ramAtSnap);

    for (let pass = 0; pass < 2; pass++) {
      m.restore(snap);
      assert.equal(m.frameCount, 250);
      assert.equal(shortHash(m.ram()), ramAtSnap, `RAM right after restore (pass ${pass})`);
      assert.equal(shortHash(m.screenRgba()), screenAtSnap, `screen right after restore (pass ${pass})`);
      assert.deepEqual(run(m, seq.slice(250)), refHashes.slice(250), `replay after restore (pass ${pass})`);
      assert.equal(shortHash(m.screenRgba()), refScreen);
      assert.equal(m.frameCount, 600);
    }
  });

  test('snapshots taken while buttons are held restore that frame exactly', async () => {
    const m = await NesMachine.create(rom);
    const seq = inputs(5, 400);
    const snaps = [];
    const hashes: string[] = [];
    for (let i = 0; i < seq.length; i++) {
      m.frame(seq[i]);
      hashes.push(shortHash(m.ram()));
      if (i % 50 === 10) snaps.push({ at: i, snap: m.snapshot() });
    }
    // Restore them in reverse order, replaying a stretch from each.
    for (const { at, snap } of snaps.reverse()) {
      m.restore(snap);
      assert.equal(m.frameCount, at + 1);
      assert.deepEqual(run(m, seq.slice(at + 1, at + 31)), hashes.slice(at + 1, at + 31), `replay from frame ${at + 1}`);
    }
  });

  test('reset() power-cycles; snapshots from before the reset still restore', async () => {
    const fresh = await NesMachine.create(rom);
    const m = await NesMachine.create(rom);
    const seq = inputs(11, 200);
    run(m, seq.slice(0, 100));
    const snap = m.snapshot();
    const after = run(m, seq.slice(100));
    m.reset();
    assert.equal(m.frameCount, 0);
    assert.equal(shortHash(m.ram()), shortHash(fresh.ram()));
    assert.deepEqual(run(m, seq.slice(0, 50)), run(fresh, seq.slice(0, 50)));
    m.restore(snap);
    assert.equal(m.frameCount, 100);
    assert.deepEqual(run(m, seq.slice(100)), after);
  });

  test('a snapshot only restores into the machine that made it', async () => {
    const a = await NesMachine.create(rom);
    const b = await NesMachine.create(rom);
    assert.throws(() => b.restore(a.snapshot()), /made by another emulator instance/);
  });

  test('lag: frames that never read the controller are flagged', async () => {
    const m = await NesMachine.create(rom);
    assert.equal(m.lag, false, 'nothing has run yet');
    // Any game waits for the PPU to warm up (two vblanks) before it polls input.
    m.frame([0, 0]);
    assert.equal(m.lag, true);
    const lags = inputs(4, 120).map((b) => (m.frame(b), m.lag));
    assert.ok(lags.includes(false), 'the game never polled its controller in 2 s');
  });

  test('mapper registers and APU state are part of the snapshot (MMC1 serial register, length counter)', async () => {
    // A at random; B (reload the length counter) only on frames 100 and 250, so the counter runs out in between.
    const seq = inputs(21, 400).map(([p1], i): ButtonPair => [(p1 & 0x01) | (i % 150 === 100 ? 0x02 : 0), 0]);
    const m = await NesMachine.create(mmc1Rom());
    const banks = new Set<number>();
    const apuStatus = new Set<number>();
    const hashes = seq.map((b) => {
      m.frame(b);
      banks.add(m.ram()[1]);
      apuStatus.add(m.ram()[3] & 0x01);
      return shortHash(m.ram());
    });
    assert.ok(banks.size >= 3, `the cartridge should switch banks, saw ${[...banks].join(',')}`);
    assert.deepEqual([...apuStatus].sort(), [0, 1], 'the length counter should both run and run out');
    // Snapshot on five consecutive frames so some land mid-way through a 5-write MMC1 sequence.
    const m2 = await NesMachine.create(mmc1Rom());
    run(m2, seq.slice(0, 200));
    for (let at = 200; at < 205; at++) {
      const snap = m2.snapshot();
      run(m2, inputs(at, 37).map(([p1]): ButtonPair => [(p1 & 0x01) | 0x02, 0]));
      m2.restore(snap);
      assert.deepEqual(run(m2, seq.slice(at, at + 60)), hashes.slice(at, at + 60), `replay from frame ${at}`);
      m2.restore(snap);
      m2.frame(seq[at]);
    }
  });

  test('every mapper jsnes supports boots and replays from a snapshot; others are refused', async () => {
    const seq = inputs(8, 40);
    for (const mapper of EMBEDDED_MAPPERS) {
      const patched = rom.slice();
      patched[6] = (patched[6] & 0x0f) | ((mapper & 0x0f) << 4);
      patched[7] = (patched[7] & 0x0f) | (mapper & 0xf0);
      const m = await NesMachine.create(patched);
      run(m, seq.slice(0, 20));
      const snap = m.snapshot();
      const tail = run(m, seq.slice(20));
      run(m, inputs(9, 10));
      m.restore(snap);
      assert.deepEqual(run(m, seq.slice(20)), tail, `mapper ${mapper}`);
    }
    const unsupported = rom.slice();
    unsupported[6] = (unsupported[6] & 0x0f) | 0x60;
    unsupported[7] &= 0x0f;
    await assert.rejects(NesMachine.create(unsupported), /jsnes cannot load this ROM: Unsupported mapper: 6/);
  });
});
