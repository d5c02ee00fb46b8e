// A fresh FCEUX_HOME for one FCEUX run: its fceux.cfg turns off the on-screen messages FCEUX draws into the picture.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What Lockstep's runs set in fceux.cfg; every other setting keeps FCEUX's default. SDL.ShowGuiMessages 0: no
 * message box over the game. `emu.speedmode("maximum")` otherwise puts "Emulation speed 3200.0%" into the picture of
 * the first 180 frames (rows 212-220, where gui.gdscreenshot and so every screen Lockstep records sees it), and the
 * embedded emulator draws nothing there.
 */
export const FCEUX_CONFIG: Readonly<Record<string, string | number>> = { 'SDL.ShowGuiMessages': 0 };

/**
 * Makes a fresh FCEUX_HOME holding FCEUX_CONFIG. FCEUX (SDL/Qt builds) reads and writes $FCEUX_HOME/.fceux/fceux.cfg,
 * so a run started with this home never reads or changes the user's own configuration, and is started without
 * `--no-config` (which would ignore this file and use the defaults, on-screen messages included).
 */
export function makeFceuxHome(prefix = 'lockstep-fceux-'): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(home, '.fceux'));
  const lines = Object.entries(FCEUX_CONFIG).map(([k, v]) => `${k} = ${v}`);
  writeFileSync(join(home, '.fceux', 'fceux.cfg'), lines.join('\n') + '\n');
  return home;
}
