// Debug configurations Lockstep makes itself: "Debug ROM" on a .nes file, and F5 with no launch.json (pure, no vscode).
import { basename } from 'node:path';

export interface LockstepDebugConfiguration {
  type: 'lockstep';
  request: 'launch' | 'attach';
  name: string;
  [key: string]: unknown;
}

/** A launch of one ROM, stopped on its first frame, driven by a random agent until the user picks another. */
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
