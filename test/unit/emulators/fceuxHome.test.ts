import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FCEUX_CONFIG, FCEUX_LINUX_CONFIG, fceuxConfig, makeFceuxHome } from '../../../src/emulators/fceux/fceuxHome';

test('a fresh FCEUX home holds .fceux/fceux.cfg with this system\'s settings, in the key = value form FCEUX writes', () => {
  const home = makeFceuxHome('lockstep-test-fceux-home-');
  try {
    const cfg = join(home, '.fceux', 'fceux.cfg');
    assert.ok(existsSync(cfg));
    const expected = Object.entries(fceuxConfig()).map(([k, v]) => `${k} = ${v}\n`).join('');
    assert.equal(readFileSync(cfg, 'utf8'), expected);
    assert.ok(expected.startsWith('SDL.ShowGuiMessages = 0\n'));
    const other = makeFceuxHome('lockstep-test-fceux-home-');
    assert.notEqual(other, home, 'every run gets a home of its own');
    rmSync(other, { recursive: true, force: true });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('on-screen messages are off everywhere; only Linux lowers the GUI thread to SCHED_IDLE, the emulator thread keeping the defaults', () => {
  assert.deepEqual(FCEUX_CONFIG, { 'SDL.ShowGuiMessages': 0 });
  for (const platform of ['darwin', 'win32'] as const) assert.deepEqual(fceuxConfig(platform), FCEUX_CONFIG, platform);
  assert.deepEqual(fceuxConfig('linux'), {
    'SDL.ShowGuiMessages': 0,
    'SDL.SetSchedParam': 1,
    'SDL.GuiSchedPolicy': 5,
    'SDL.GuiSchedPrioRt': 0,
    'SDL.GuiSchedNice': 0,
    'SDL.EmuSchedPolicy': 0,
    'SDL.EmuSchedPrioRt': 0,
    'SDL.EmuSchedNice': 0,
  });
  assert.equal(Object.keys(FCEUX_LINUX_CONFIG).length, 7);
});
