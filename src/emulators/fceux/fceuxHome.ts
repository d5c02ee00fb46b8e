// A fresh FCEUX_HOME for one FCEUX run: its fceux.cfg turns off the on-screen messages FCEUX draws into the picture and, on Linux, lets FCEUX's GUI thread run only on a CPU nothing else wants.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What Lockstep's runs set in fceux.cfg on every system; every other setting keeps FCEUX's default. SDL.ShowGuiMessages
 * 0: no message box over the game. `emu.speedmode("maximum")` otherwise puts "Emulation speed 3200.0%" into the picture
 * of the first 180 frames (rows 212-220, where gui.gdscreenshot and so every screen Lockstep records sees it), and the
 * embedded emulator draws nothing there.
 */
export const FCEUX_CONFIG: Readonly<Record<string, string | number>> = { 'SDL.ShowGuiMessages': 0 };

/**
 * What Lockstep's runs also set on Linux. SDL.SetSchedParam 1 with SDL.GuiSchedPolicy 5 (SCHED_IDLE, priority 0, nice
 * unchanged): FCEUX's GUI thread runs only when no other thread wants a CPU. Each time a frame finishes it polls input
 * and copies the picture (80-100 µs a frame on the 2-vCPU machine of the README's figures, most of it SDL looking up
 * the keys of unbound gamepad buttons), just when lockstep.lua has sent the state and Lockstep works out the next
 * action; with two CPUs it otherwise takes the one Lockstep or FCEUX's emulator thread needs next. The emulator thread
 * keeps FCEUX's defaults (SCHED_OTHER, priority 0, nice 0), written out because SetSchedParam applies both threads'
 * keys. Lowering a thread to SCHED_IDLE needs no privilege. Other systems keep FCEUX's defaults: their scheduling
 * policies have other numbers, and Windows builds ignore these keys.
 */
export const FCEUX_LINUX_CONFIG: Readonly<Record<string, string | number>> = {
  'SDL.SetSchedParam': 1,
  'SDL.GuiSchedPolicy': 5,
  'SDL.GuiSchedPrioRt': 0,
  'SDL.GuiSchedNice': 0,
  'SDL.EmuSchedPolicy': 0,
  'SDL.EmuSchedPrioRt': 0,
  'SDL.EmuSchedNice': 0,
};

/** The settings a run on `platform` writes into its fceux.cfg. */
export function fceuxConfig(platform: NodeJS.Platform = process.platform): Readonly<Record<string, string | number>> {
  return platform === 'linux' ? { ...FCEUX_CONFIG, ...FCEUX_LINUX_CONFIG } : FCEUX_CONFIG;
}

/**
 * Makes a fresh FCEUX_HOME holding fceuxConfig(). FCEUX (SDL/Qt builds) reads and writes $FCEUX_HOME/.fceux/fceux.cfg,
 * so a run started with this home never reads or changes the user's own configuration, and is started without
 * `--no-config` (which would ignore this file and use the defaults, on-screen messages included).
 */
export function makeFceuxHome(prefix = 'lockstep-fceux-'): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(home, '.fceux'));
  const lines = Object.entries(fceuxConfig()).map(([k, v]) => `${k} = ${v}`);
  writeFileSync(join(home, '.fceux', 'fceux.cfg'), lines.join('\n') + '\n');
  return home;
}
