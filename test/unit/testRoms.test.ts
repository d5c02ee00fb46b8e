// The project's test ROMs (roms/test): reproducible build, the trailing-bytes variant, and what the power-on probe does on the embedded machine.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NesMachine } from '../../src/emulators/embedded/nesMachine';
import { parseRom } from '../../src/emulators/rom';

const DIR = join(__dirname, '..', '..', 'roms', 'test');
const POWERON = join(DIR, 'poweron.nes');
const TRAILING = join(DIR, 'trailing.nes');
// Addresses from roms/test/poweron.s (and poweron.rammap.json).
const SEEN = 0x0310;
const TICKS = 0x0320;
const POLLS = 0x0324;

describe('test ROMs', () => {
  test('build.sh reproduces poweron.nes, trailing.nes and prgram.nes byte for byte', () => {
    const out = mkdtempSync(join(tmpdir(), 'lockstep-testroms-'));
    try {
      const r = spawnSync('bash', [join(DIR, 'build.sh'), out], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `build.sh failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
      for (const name of ['poweron.nes', 'trailing.nes', 'prgram.nes']) {
        assert.ok(readFileSync(join(out, name)).equals(readFileSync(join(DIR, name))), `roms/test/${name} is stale: run bash roms/test/build.sh`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('prgram.nes writes its signature to PRG-RAM, nametables and palette and holds A=$12 X=$34 Y=$56 SP=$FF in its loop at $C000 on the embedded machine', async () => {
    const m = await NesMachine.create(new Uint8Array(readFileSync(join(DIR, 'prgram.nes'))));
    const counts: number[] = [];
    // The reset code waits for two vblanks before it loads the registers and enters the loop.
    for (let i = 0; i < 3; i++) m.frame([0, 0]);
    for (let i = 0; i < 10; i++) {
      m.frame([0, 0]);
      const r = m.registers();
      assert.deepEqual([r.a, r.x, r.y, r.sp], [0x12, 0x34, 0x56, 0xff], `registers after frame ${i + 4}`);
      assert.ok(r.pc >= 0xc000 && r.pc <= 0xc00a, `PC $${r.pc.toString(16)} is in the loop`);
      assert.equal(r.p & 0x0d, 0x04, 'I set, D and C clear');
      counts.push(m.prgRam()[0x10]);
    }
    const prg = m.prgRam();
    assert.equal(prg.length, 0x2000);
    assert.equal(Buffer.from(prg.subarray(0, 8)).toString('latin1'), 'LOCKSTEP');
    assert.equal(prg[0x1fff], 0x5a);
    assert.ok(counts.every((c, i) => i === 0 || c >= counts[i - 1]) && counts[9] >= 5, `the frame counter at $6010 grows: ${counts}`);
    const nt = m.nametables();
    assert.equal(Buffer.from(nt.subarray(0, 8)).toString('latin1'), 'LOCKSTEP');
    assert.equal(Buffer.from(nt.subarray(0x400, 0x408)).toString('latin1'), 'LOCKSTEP', 'horizontal mirroring: $2400 = $2000');
    assert.deepEqual([nt[0xbff], nt[0xfff], nt[0x7ff]], [0xa5, 0xa5, 0x00]);
    assert.deepEqual([...m.palette().subarray(0, 4)], [0x0f, 0x21, 0x11, 0x01]);
    assert.equal(m.palette()[0x10], 0x0f, '$3F10 mirrors $3F00');
  });

  test('trailing.nes is poweron.nes plus 4 KiB its header does not declare, with the same PRG+CHR identity', () => {
    const base = readFileSync(POWERON);
    const trailing = readFileSync(TRAILING);
    assert.equal(trailing.length, base.length + 4096);
    assert.ok(trailing.subarray(0, base.length).equals(base));
    assert.ok(trailing.subarray(base.length).every((b) => b === 0xa5));
    const a = parseRom(new Uint8Array(base), 'poweron.nes');
    const b = parseRom(new Uint8Array(trailing), 'trailing.nes');
    assert.equal(b.md5NoHeader, a.md5NoHeader);
    assert.notEqual(b.md5, a.md5);
    assert.equal(b.layout?.trailingBytes, 4096);
  });

  test('the embedded machine powers on with FCEUX\'s RAM pattern, gets its first NMI on frame 5 like FCEUX, then polls one frame in three', async () => {
    const m = await NesMachine.create(new Uint8Array(readFileSync(POWERON)));
    const fceuxPattern = Array.from({ length: 16 }, (_, a) => (a & 4 ? 0xff : 0x00));
    assert.deepEqual([...m.ram().subarray(0, 16)], fceuxPattern, 'power-on RAM before any frame');
    const ticks: number[] = [];
    const lags: boolean[] = [];
    for (let i = 0; i < 14; i++) {
      m.frame([0, 0]);
      ticks.push(m.ram()[TICKS]);
      lags.push(m.lag);
    }
    assert.deepEqual([...m.ram().subarray(SEEN, SEEN + 16)], fceuxPattern, 'what the ROM read before writing RAM');
    // Frame ids 1..14: the NMI (ticks +1) first runs on frame 5, as FCEUX 2.6.5 counts; it reads the pad on frames 5, 8, 11, 14.
    assert.deepEqual(ticks, [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(lags.map((l) => (l ? '.' : 'P')).join(''), '....P..P..P..P');
    assert.equal(m.ram()[POLLS], 4);
  });
});
