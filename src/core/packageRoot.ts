// Finds Lockstep's own install folder (works from src/ under tsx and from the dist/ bundle) for shipped files: demo ROM, Lua script, models.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function findPackageRoot(startDir: string = __dirname): string {
  let dir = startDir;
  while (true) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'lockstep-nes') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the lockstep-nes package folder above ${startDir}`);
    dir = parent;
  }
}

export function demoRomPath(root = findPackageRoot()): string {
  return join(root, 'roms', 'demo', 'demo.nes');
}
