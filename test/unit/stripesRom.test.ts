// The Stripes test ROM (test/fixtures/roms) that the UI tests debug as "a ROM that is not the demo": reproducible build, and a picture with no black in it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessEmulator } from '../../src/emulators/embedded/embeddedEmulator';

const DIR = join(__dirname, '../fixtures/roms');
const ROM = join(DIR, 'stripes.nes');

describe('Stripes test ROM', () => {
  test('build.sh reproduces stripes.nes byte for byte', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'stripes-'));
    try {
      const out = join(tmp, 'stripes.nes');
      const r = spawnSync('bash', [join(DIR, 'build.sh'), out], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `build.sh failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
      assert.ok(readFileSync(out).equals(readFileSync(ROM)), 'test/fixtures/roms/stripes.nes is stale: run bash test/fixtures/roms/build.sh');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('its screen is four colours of bars that scroll one pixel a frame, with no black', async () => {
    const emu = new InProcessEmulator();
    try {
      await emu.start(ROM, { screen: true });
      let f = await emu.step([0, 0], { screen: true });
      for (let i = 0; i < 5; i++) f = await emu.step([0, 0], { screen: true });
      const px = f.screen!;
      assert.equal(px.length, 256 * 240 * 4);
      const colours = new Map<string, number>();
      let black = 0;
      // jsnes leaves an 8-pixel border black (the TV's overscan): look inside it.
      for (let y = 8; y < 232; y++) for (let x = 8; x < 248; x++) {
        const i = (y * 256 + x) * 4;
        const key = `${px[i]},${px[i + 1]},${px[i + 2]}`;
        if (px[i] + px[i + 1] + px[i + 2] <= 30) black++;
        colours.set(key, (colours.get(key) ?? 0) + 1);
      }
      assert.equal(black, 0);
      assert.equal(colours.size, 4, `colours: ${JSON.stringify([...colours.keys()])}`);
      const next = (await emu.step([0, 0], { screen: true })).screen!;
      const row = (s: Uint8Array, x: number) => Array.from(s.subarray((100 * 256 + x) * 4, (100 * 256 + x) * 4 + 3));
      assert.deepEqual(row(next, 100), row(px, 101), 'the next frame is the same picture moved one pixel left');
    } finally {
      await emu.close();
    }
  });
});
