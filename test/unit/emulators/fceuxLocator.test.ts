// locateFceux with an injected file system and environment: explicit path, PATH search per platform, fallbacks, the install hint.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { locateFceux, lockstepLuaPath, type LocatorDeps } from '../../../src/emulators/fceux/fceuxLocator';

function deps(platform: NodeJS.Platform, env: Record<string, string | undefined>, executables: string[]): LocatorDeps {
  const set = new Set(executables);
  return { platform, env, isExecutable: (p) => set.has(p) };
}

describe('locateFceux', () => {
  test('an explicit fceuxPath wins when it is executable', () => {
    const d = deps('linux', { PATH: '/usr/bin' }, ['/opt/fx/fceux', '/usr/bin/fceux']);
    assert.equal(locateFceux('/opt/fx/fceux', d), '/opt/fx/fceux');
  });

  test('an explicit fceuxPath that is not executable is an error naming it, not a silent PATH fallback', () => {
    const d = deps('linux', { PATH: '/usr/bin' }, ['/usr/bin/fceux']);
    assert.throws(() => locateFceux('/opt/missing/fceux', d), /fceuxPath "\/opt\/missing\/fceux" is not an executable file/);
  });

  test('a blank fceuxPath counts as unset', () => {
    const d = deps('linux', { PATH: '/usr/bin' }, ['/usr/bin/fceux']);
    assert.equal(locateFceux('  ', d), '/usr/bin/fceux');
  });

  test('PATH is searched in order, skipping empty entries', () => {
    const d = deps('linux', { PATH: ':/home/me/bin:/usr/local/bin:/usr/bin' }, ['/usr/local/bin/fceux', '/usr/bin/fceux']);
    assert.equal(locateFceux(undefined, d), '/usr/local/bin/fceux');
  });

  test('Debian puts fceux in /usr/games, often not on PATH', () => {
    const d = deps('linux', { PATH: '/usr/local/bin:/usr/bin:/bin' }, ['/usr/games/fceux']);
    assert.equal(locateFceux(undefined, d), '/usr/games/fceux');
  });

  test('macOS: Homebrew locations', () => {
    const d = deps('darwin', { PATH: '/usr/bin:/bin' }, ['/opt/homebrew/bin/fceux']);
    assert.equal(locateFceux(undefined, d), '/opt/homebrew/bin/fceux');
  });

  test('Windows: semicolon-separated Path with backslashes, and the fceux64.exe name', () => {
    const d = deps('win32', { Path: 'C:\\Windows;C:\\Games\\fceux' }, ['C:\\Games\\fceux\\fceux64.exe']);
    assert.equal(locateFceux(undefined, d), 'C:\\Games\\fceux\\fceux64.exe');
  });

  test('nothing found: one line telling how to install FCEUX or set fceuxPath', () => {
    const d = deps('linux', { PATH: '/usr/bin' }, []);
    assert.throws(() => locateFceux(undefined, d), (err: Error) => {
      assert.match(err.message, /^FCEUX not found: install it \(Debian\/Ubuntu: sudo apt-get install fceux lua-socket; macOS: .+; Windows: .+\) or set "fceuxPath"$/);
      return true;
    });
  });

  test('no PATH at all still checks the usual places', () => {
    const d = deps('linux', {}, ['/usr/bin/fceux']);
    assert.equal(locateFceux(undefined, d), '/usr/bin/fceux');
  });
});

describe('lockstepLuaPath', () => {
  test('points at the shipped lua/lockstep.lua of this package', () => {
    const p = lockstepLuaPath();
    assert.match(p, /[/\\]lua[/\\]lockstep\.lua$/);
    assert.ok(existsSync(p), `${p} exists`);
  });

  test('is relative to the given package root', () => {
    assert.equal(lockstepLuaPath('/opt/lockstep'), '/opt/lockstep/lua/lockstep.lua');
  });
});
