// Finds the FCEUX executable (explicit path, PATH, usual install places) and the Lua bridge script shipped with Lockstep.
import { accessSync, constants, statSync } from 'node:fs';
import { join, posix, win32 } from 'node:path';
import { findPackageRoot } from '../../core/packageRoot';

/** What the locator looks at; injected so tests need no real FCEUX install. */
export interface LocatorDeps {
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  /** True when `path` is a regular file this process may execute. */
  isExecutable(path: string): boolean;
}

export const FCEUX_INSTALL_HINT =
  'install it (Debian/Ubuntu: sudo apt-get install fceux lua-socket; macOS: brew install fceux, plus LuaSocket for Lua 5.1; ' +
  'Windows: FCEUX 2.6 or newer from https://fceux.com, with fceux64.exe on PATH) or set "fceuxPath"';

const WELL_KNOWN: Partial<Record<NodeJS.Platform, readonly string[]>> = {
  linux: ['/usr/games/fceux', '/usr/bin/fceux', '/usr/local/bin/fceux', '/snap/bin/fceux'],
  darwin: ['/opt/homebrew/bin/fceux', '/usr/local/bin/fceux', '/Applications/fceux.app/Contents/MacOS/fceux'],
  win32: ['C:\\Program Files\\fceux\\fceux64.exe', 'C:\\Program Files\\fceux\\fceux.exe', 'C:\\Program Files (x86)\\fceux\\fceux.exe'],
};

function executableNames(platform: NodeJS.Platform): readonly string[] {
  return platform === 'win32' ? ['fceux64.exe', 'fceux.exe', 'qfceux.exe'] : ['fceux'];
}

export function defaultLocatorDeps(): LocatorDeps {
  return {
    env: process.env,
    platform: process.platform,
    isExecutable(path) {
      try {
        if (!statSync(path).isFile()) return false;
        accessSync(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * The FCEUX executable to run: `fceuxPath` when given (it must exist), else the first `fceux` on PATH, else a
 * well-known install location. Throws one line saying how to install FCEUX when none is found.
 */
export function locateFceux(fceuxPath: string | undefined, deps: LocatorDeps = defaultLocatorDeps()): string {
  if (fceuxPath !== undefined && fceuxPath.trim() !== '') {
    if (deps.isExecutable(fceuxPath)) return fceuxPath;
    throw new Error(`fceuxPath "${fceuxPath}" is not an executable file: fix the setting, or remove it to search PATH`);
  }
  const path = deps.platform === 'win32' ? win32 : posix;
  const pathVar = deps.env.PATH ?? deps.env.Path ?? '';
  for (const dir of pathVar.split(path.delimiter)) {
    if (dir === '') continue;
    for (const name of executableNames(deps.platform)) {
      const candidate = path.join(dir, name);
      if (deps.isExecutable(candidate)) return candidate;
    }
  }
  for (const candidate of WELL_KNOWN[deps.platform] ?? []) {
    if (deps.isExecutable(candidate)) return candidate;
  }
  throw new Error(`FCEUX not found: ${FCEUX_INSTALL_HINT}`);
}

/** Absolute path of lua/lockstep.lua in the installed package (the same from src/ under tsx and from dist/). */
export function lockstepLuaPath(packageRoot: string = findPackageRoot()): string {
  return join(packageRoot, 'lua', 'lockstep.lua');
}
