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
import { hasScreen, type EmulatorFrame } from '../../src/core/ports';
import { NondeterminismError } from '../../src/core/history/nondeterminismError';
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

  test('travel shows the screen seen live at that frame, keyframes included (they keep no picture in FCEUX); a screen asked for after a travel too', { timeout: 240_000 }, async () => {
    const emulator = new FceuxEmulator({ stepTimeoutMs: 10_000, connectTimeoutMs: 20_000 });
    const rt = new LockstepRuntime(
      { emulator, agents: [new RandomAgent({ seed: 3 }), new RandomAgent({ seed: 4 })], ramMap: RAM_MAP, sync: defaultSyncConfig() },
      { romPath: ROM, maxSteps: 100, history: {} },
    );
    rt.setScreensShown(true);
    try {
      await rt.start();
      // Keyframes every 24 ticks from each episode start (ticks 0, 100, 200, ...): 24, 124, 172, 224, 248, 324, 348,
      // 424 keep no picture. Early ticks too: FCEUX runs with its on-screen messages off (fceuxHome.ts), so the first
      // 180 frames' pictures carry no "Emulation speed" box that a replay long after would not draw.
      const ticks = new Set([1, 24, 50, 99, 124, 150, 172, 200, 201, 224, 248, 250, 299, 300, 301, 324, 348, 424, 450]);
      const live = new Map<number, Uint8Array>();
      for (let i = 0; i < 500; i++) {
        await rt.advance();
        if (ticks.has(rt.currentTick)) live.set(rt.currentTick, rt.current!.screen!.slice());
      }
      assert.equal(live.size, ticks.size);
      for (const [tick, screen] of live) {
        await rt.travelTo(tick);
        assert.deepEqual(rt.current!.screen, screen, `screen of tick ${tick}`);
      }
      const h = rt.sessionHistory!;
      assert.equal((await h.restore(348)).pictureKnown, false, 'tick 348 is a keyframe without its picture');
      rt.setScreensShown(false);
      await rt.travelTo(348);
      assert.equal(hasScreen(rt.current!), false);
      rt.setScreensShown(true);
      const shown = await rt.refreshScreen();
      assert.deepEqual(shown!.screen, live.get(348), 'the picture of tick 348, not the one FCEUX showed before');
      assert.deepEqual(shown!.ram, h.ramAt(348));
    } finally {
      await rt.close();
    }
  });

  test('the determinism guard checks every frame FCEUX replays in one request: one byte changed stops the travel at that frame', { timeout: 240_000 }, async () => {
    const emulator = new PerturbingFceux({ stepTimeoutMs: 10_000, connectTimeoutMs: 20_000 });
    const rt = new LockstepRuntime(
      { emulator, agents: [new RandomAgent({ seed: 8 }), undefined], ramMap: RAM_MAP, sync: defaultSyncConfig() },
      { romPath: ROM, maxSteps: 200, history: {} },
    );
    try {
      await rt.start();
      for (let i = 0; i < 300; i++) await rt.advance();
      const h = rt.sessionHistory!;
      // Tick 230: keyframe 224 (every 24 ticks from the episode start at 200), then 6 replayed frames.
      emulator.perturb = { state: 4, address: 0x0042 };
      const err = await rt.travelTo(230).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof NondeterminismError, `expected NondeterminismError, got ${String(err)}`);
      assert.equal(err.at.tick, 228);
      assert.equal(err.differences[0].address, 0x0042);
      assert.equal(rt.currentTick, 300, 'the runtime still holds the present');
      emulator.perturb = undefined;
      await rt.travelTo(230);
      assert.deepEqual(rt.current!.ram, h.ramAt(230));
    } finally {
      await rt.close();
    }
  });
});

/** Real FCEUX, except that a replay's state `state` comes back with one RAM byte changed. */
class PerturbingFceux extends FceuxEmulator {
  perturb: { state: number; address: number } | undefined;
  override async replaySnapshot(...args: Parameters<FceuxEmulator['replaySnapshot']>): Promise<EmulatorFrame[]> {
    const states = await super.replaySnapshot(...args);
    const p = this.perturb;
    if (p && p.state < states.length) states[p.state].ram[p.address] ^= 0x40;
    return states;
  }
}
