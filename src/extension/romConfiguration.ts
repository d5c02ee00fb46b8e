// Debug configurations Lockstep makes itself: "Debug ROM" on a .nes file, and F5 with no launch.json (pure, no vscode).
import { basename, relative, sep } from 'node:path';

export interface LockstepDebugConfiguration {
  type: 'lockstep';
  request: 'launch' | 'attach';
  name: string;
  [key: string]: unknown;
}

/**
 * A launch of one ROM, stopped on its first frame, driven by a random agent until the user picks another. It captures
 * screens: a debugger for a game must show the game, and these sessions have no launch.json to ask for it.
 */
export function debugRomConfiguration(romPath: string, cwd?: string): LockstepDebugConfiguration {
  return {
    type: 'lockstep',
    request: 'launch',
    name: `Debug ${basename(romPath)}`,
    rom: romPath,
    agent: 'random',
    stopOnEntry: true,
    ...(cwd ? { cwd } : {}),
  };
}

/**
 * Run and Debug's dynamic configurations: one per .nes file of the workspace folder, named after the ROM and written with
 * `${workspaceFolder}` so a configuration saved to launch.json still works when the folder moves.
 */
export function dynamicRomConfigurations(romPaths: readonly string[], folder?: string): LockstepDebugConfiguration[] {
  return [...romPaths].sort((a, b) => a.localeCompare(b)).map((rom) => {
    const rel = folder ? relative(folder, rom) : undefined;
    const inside = rel !== undefined && rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep);
    const c = debugRomConfiguration(inside ? `\${workspaceFolder}/${rel.split(sep).join('/')}` : rom);
    return { ...c, name: `Lockstep: ${inside ? rel.split(sep).join('/') : basename(rom)}` };
  });
}

/** The machine-scoped `lockstep.fceuxPath` setting fills in fceuxPath for launches; launch.json's own fceuxPath wins. */
export function applyFceuxPathSetting(config: Record<string, unknown>, setting: string | undefined): Record<string, unknown> {
  if (config.request !== 'launch' || config.fceuxPath !== undefined || !setting?.trim()) return config;
  return { ...config, fceuxPath: setting.trim() };
}

/**
 * Fills in what VS Code leaves out: F5 without launch.json gives an empty configuration (debug the active .nes file, or
 * the demo ROM), and relative paths need the workspace folder.
 */
export function completeConfiguration(
  config: Record<string, unknown>,
  context: { activeFile?: string; folder?: string },
): Record<string, unknown> {
  if (!config.type && !config.request && !config.name) {
    if (context.activeFile && /\.nes$/i.test(context.activeFile)) return debugRomConfiguration(context.activeFile, context.folder);
    return { type: 'lockstep', request: 'launch', name: 'Lockstep: demo ROM', agent: 'random', stopOnEntry: true, ...(context.folder ? { cwd: context.folder } : {}) };
  }
  const out = { ...config };
  if (out.cwd === undefined && context.folder) out.cwd = context.folder;
  return out;
}
