// "Replay Movie": pure planning of a debug launch that replays an FCEUX .fm2 movie (which ROM, which ports, checksum check); no vscode.
import { basename, dirname, join } from 'node:path';
import { fm2ChecksumToMd5, type Fm2Movie } from '../core/episodes/fm2';
import type { LockstepDebugConfiguration } from './romConfiguration';
import type { EmulatorKind } from '../core/ports';

export interface ReplayPlan {
  config: LockstepDebugConfiguration;
  /** A warning to show before starting (e.g. the ROM's checksum differs from the movie's), or undefined. */
  warning?: string;
}

/** ROM files worth trying for a movie: the header's romFilename (with and without .nes) beside the movie, then in the workspace. */
export function romCandidates(moviePath: string, movie: Fm2Movie, workspaceFolders: readonly string[]): string[] {
  const name = movie.header.romFilename ?? basename(moviePath).replace(/\.fm2$/i, '');
  const files = /\.nes$/i.test(name) ? [name] : [`${name}.nes`, name];
  const dirs = [dirname(moviePath), ...workspaceFolders, ...workspaceFolders.map((f) => join(f, 'roms'))];
  return [...new Set(dirs.flatMap((d) => files.map((f) => join(d, f))))];
}

/** The launch configuration replaying a movie on a ROM; warns when the movie was recorded on another ROM. */
export function planReplay(opts: {
  moviePath: string;
  movie: Fm2Movie;
  romPath: string;
  romMd5NoHeader: string;
  emulator: EmulatorKind;
  cwd?: string;
}): ReplayPlan {
  const { moviePath, movie, romPath } = opts;
  const usesPort1 = movie.frames.some((f) => f.ports[1] !== 0);
  const config: LockstepDebugConfiguration = {
    type: 'lockstep',
    request: 'launch',
    name: `Replay ${basename(moviePath)}`,
    rom: romPath,
    emulator: opts.emulator,
    agent: `fm2:${moviePath}`,
    ...(usesPort1 ? { agent2: `fm2:${moviePath}` } : {}),
    stopOnEntry: true,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  };
  let warning: string | undefined;
  const checksum = movie.header.romChecksum;
  if (checksum) {
    let expected: string | undefined;
    try {
      expected = fm2ChecksumToMd5(checksum);
    } catch {
      warning = `${basename(moviePath)} has an unreadable romChecksum (${checksum}); it may not replay correctly on ${basename(romPath)}.`;
    }
    if (expected && expected !== opts.romMd5NoHeader.toLowerCase()) {
      warning = `${basename(moviePath)} was recorded on a ROM with MD5 ${expected}, but ${basename(romPath)} is ${opts.romMd5NoHeader}: the replay will likely desync.`;
    }
  }
  return { config, warning };
}
