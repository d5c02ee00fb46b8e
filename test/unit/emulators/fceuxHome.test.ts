import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FCEUX_CONFIG, makeFceuxHome } from '../../../src/emulators/fceux/fceuxHome';

test('a fresh FCEUX home holds .fceux/fceux.cfg with on-screen messages off, in the key = value form FCEUX writes', () => {
  const home = makeFceuxHome('lockstep-test-fceux-home-');
  try {
    const cfg = join(home, '.fceux', 'fceux.cfg');
    assert.ok(existsSync(cfg));
    assert.equal(readFileSync(cfg, 'utf8'), 'SDL.ShowGuiMessages = 0\n');
    assert.deepEqual(FCEUX_CONFIG, { 'SDL.ShowGuiMessages': 0 });
    const other = makeFceuxHome('lockstep-test-fceux-home-');
    assert.notEqual(other, home, 'every run gets a home of its own');
    rmSync(other, { recursive: true, force: true });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
