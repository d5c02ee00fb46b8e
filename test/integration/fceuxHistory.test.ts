// The session history on a real headless FCEUX (keyframes are its in-memory savestates): travel across episodes, step
// back over an episode start, the determinism guard holding on replays.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoRomPath } from '../../src/core/packageRoot';
import { FceuxEmulator } from '../../src/emulators/fceux/fceuxEmulator';
import { LockstepRuntime } from '../../src/core/runtime/runtime';
import { defaultSyncConfig } from '../../src/core/config/config';
import { parseRamMap } from '../../src/core/config/ramMap';
import { RandomAgent } from '../../src/agents/randomAgent';
import { processAlive } from './processAlive';

const ROM = demoRomPath();
const RAM_MAP = parseRamMap(readFileSync(join(__dirname, '..', '..', 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');

describe('session history on FCEUX', () => {
  test('any frame of an earlier episode comes back with the RAM held then; step back from an episode start enters the previous one', { timeout: 240_000 }, async () => {
    const emulator = new FceuxEmulator({ stepTimeoutMs: 10_000, connectTimeoutMs: 20_000 });
    const rt = new LockstepRuntime(
      { emulator, agents: [new RandomAgent({ seed: 5 }), new RandomAgent({ seed: 6 })], ramMap: RAM_MAP, sync: defaultSyncConfig() },
      { romPath: ROM, maxSteps: 300, history: {} },
    );
    let pid: number | undefined;
    try {
      await rt.start();
      pid = emulator.pid;
      for (let i = 0; i < 1500; i++) await rt.advance();
      const h = rt.sessionHistory!;
      assert.equal(h.episodes.length, 6);
      assert.equal(h.headTick, 1500);
      for (const tick of [0, 7, 299, 300, 301, 455, 611, 899, 1003, 1200, 1499]) {
        await rt.travelTo(tick);
        const s = h.stateAt(tick);
        assert.deepEqual(rt.current!.ram, h.ramAt(tick), `tick ${tick}`);
        assert.equal(rt.current!.frame, s.frame);
        assert.equal(rt.episodeIndex, s.episode);
        assert.equal(rt.stepIndex, s.step);
      }
      await rt.travelTo(900);
      assert.equal(rt.episodeIndex, 3);
      assert.equal(rt.stepIndex, 0);
      await rt.stepBack(1);
      assert.equal(rt.episodeIndex, 2);
      assert.equal(rt.stepIndex, 299);
      assert.deepEqual(rt.current!.ram, h.ramAt(899));
    } finally {
      await rt.close();
    }
    if (pid !== undefined) assert.equal(processAlive(pid), false, `FCEUX ${pid} still running after close()`);
  });
});
