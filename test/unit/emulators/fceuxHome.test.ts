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
  const linux = fceuxConfig('linux');
  assert.equal(linux['SDL.ShowGuiMessages'], 0);
  assert.equal(linux['SDL.SetSchedParam'], 1, 'FCEUX applies the scheduling keys only with SetSchedParam');
  // Linux's SCHED_IDLE is policy 5, and takes priority 0; SCHED_OTHER is 0.
  assert.deepEqual([linux['SDL.GuiSchedPolicy'], linux['SDL.GuiSchedPrioRt'], linux['SDL.GuiSchedNice']], [5, 0, 0]);
  assert.deepEqual([linux['SDL.EmuSchedPolicy'], linux['SDL.EmuSchedPrioRt'], linux['SDL.EmuSchedNice']], [0, 0, 0]);
  assert.deepEqual(Object.keys(linux).sort(), [...Object.keys(FCEUX_CONFIG), ...Object.keys(FCEUX_LINUX_CONFIG)].sort());
});
