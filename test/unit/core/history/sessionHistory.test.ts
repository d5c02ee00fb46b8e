// Tests for the session history through the runtime on the demo ROM (jsnes in process): travel to any frame of any
// episode, the determinism guard, thinning under a budget, replaying a finished episode forward to the present.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InProcessEmulator } from '../../../../src/emulators/embedded/embeddedEmulator';
import { LockstepRuntime } from '../../../../src/core/runtime/runtime';
import { defaultSyncConfig } from '../../../../src/core/config/config';
import { parseRamMap } from '../../../../src/core/config/ramMap';
import { RandomAgent } from '../../../../src/agents/randomAgent';
import { NondeterminismError } from '../../../../src/core/history/nondeterminismError';
import type { ReplayResult, ReplayWrite } from '../../../../src/core/history/timeTravelPort';
import { hasScreen, type StepOptions } from '../../../../src/core/ports';
import type { SessionHistoryOptions } from '../../../../src/core/history/sessionHistory';

const ROOT = join(__dirname, '..', '..', '..', '..');
const ROM = join(ROOT, 'roms', 'demo', 'demo.nes');
const RAM_MAP = parseRamMap(readFileSync(join(ROOT, 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');

/** The embedded emulator, except that every replay from a keyframe comes back with one RAM byte changed. */
class PerturbingEmulator extends InProcessEmulator {
  perturb: { state: number; address: number } | undefined;
  override async replay(id: number, buttons: Uint8Array, writes: ReplayWrite[], options?: StepOptions): Promise<ReplayResult> {
    const r = await super.replay(id, buttons, writes, options);
    const p = this.perturb;
    if (p && p.state * 0x800 < r.rams.length) r.rams[p.state * 0x800 + p.address] ^= 0x40;
    return r;
  }
}

async function session(opts: { maxSteps: number; frames: number; history?: SessionHistoryOptions; emulator?: InProcessEmulator }) {
  const logs: string[] = [];
  const rt = new LockstepRuntime(
    { emulator: opts.emulator ?? new InProcessEmulator(), agents: [new RandomAgent({ seed: 7 }), undefined], ramMap: RAM_MAP, sync: defaultSyncConfig() },
    { romPath: ROM, maxSteps: opts.maxSteps, stepBackDepth: 600, history: opts.history ?? { keyframeEvery: 16 } },
  );
  rt.events.on('log', (e) => logs.push(e.message));
  await rt.start();
  for (let i = 0; i < opts.frames; i++) await rt.advance();
  return { rt, h: rt.sessionHistory!, logs };
}

describe('session history', () => {
  test('travel reaches any frame of any episode with exactly the RAM that was held there', async () => {
    const { rt, h } = await session({ maxSteps: 100, frames: 650 });
    try {
      assert.equal(h.episodes.length, 7);
      assert.equal(h.headTick, rt.currentTick);
      // Every 37th tick, oldest first, plus both sides of every episode boundary.
      const ticks = [0, 99, 100, 101, 199, 200, 517, ...Array.from({ length: 17 }, (_, i) => i * 37)];
      for (const t of ticks) {
        const want = h.stateAt(t);
        const frame = await rt.sessionHistory!.restore(t);
        assert.deepEqual(frame.frame.ram, h.ramAt(t), `tick ${t}`);
        assert.equal(frame.frame.frame, want.frame);
      }
      // Through the runtime: episode counters follow.
      await rt.travelTo(250);
      assert.equal(rt.episodeIndex, 2);
      assert.equal(rt.stepIndex, 50);
      assert.ok(rt.replayingPast, 'an earlier episode is read-only past');
    } finally {
      await rt.close();
    }
  });

  test('step back from the first frame of an episode goes to the last frame of the previous one', async () => {
    const { rt, h } = await session({ maxSteps: 60, frames: 130 });
    try {
      const start = h.episodes[2].firstTick;
      await rt.travelTo(start);
      assert.equal(rt.episodeIndex, 2);
      assert.equal(rt.stepIndex, 0);
      const back = await rt.stepBack(1);
      assert.equal(rt.episodeIndex, 1);
      assert.equal(rt.stepIndex, 59);
      assert.deepEqual(back.ram, h.ramAt(start - 1));
    } finally {
      await rt.close();
    }
  });

  test('going forward from a finished episode replays its recorded frames to the present, then the agents run again', async () => {
    const { rt, h } = await session({ maxSteps: 50, frames: 120 });
    try {
      const head = h.headTick;
      const headRam = h.ramAt(head);
      await rt.travelTo(30);
      for (let t = 31; t <= head; t++) {
        const o = await rt.advance();
        assert.equal(o.row, undefined, 'replaying the past records no row');
        assert.equal(rt.currentTick, t);
      }
      assert.equal(rt.replayingPast, false);
      assert.deepEqual(rt.current!.ram, headRam);
      const live = await rt.advance();
      assert.ok(live.row, 'at the present a frame is run and recorded again');
      assert.equal(h.headTick, head + 1);
    } finally {
      await rt.close();
    }
  });

  test('travel shows the picture seen live at that frame, keyframes included; a screen asked for after a travel too', async () => {
    // Screens shown from the start: every frame carries its picture (keyframes every 16 ticks keep none).
    const rt = new LockstepRuntime(
      { emulator: new InProcessEmulator(), agents: [new RandomAgent({ seed: 3 }), undefined], ramMap: RAM_MAP, sync: defaultSyncConfig() },
      { romPath: ROM, maxSteps: 100, history: { keyframeEvery: 16 } },
    );
    rt.setScreensShown(true);
    try {
      await rt.start();
      const ticks = new Set([0, 16, 48, 99, 100, 101, 116, 148, 150, 250]);
      const live = new Map<number, Uint8Array>([[0, rt.current!.screen!.slice()]]);
      for (let i = 0; i < 300; i++) {
        await rt.advance();
        if (ticks.has(rt.currentTick)) live.set(rt.currentTick, rt.current!.screen!.slice());
      }
      for (const [tick, screen] of live) {
        await rt.travelTo(tick);
        assert.deepEqual(rt.current!.screen, screen, `screen of tick ${tick}`);
      }
      // Tick 148 holds a keyframe without its picture: restored without screens, nothing runs a frame.
      const h = rt.sessionHistory!;
      assert.equal((await h.restore(148)).pictureKnown, false);
      rt.setScreensShown(false);
      await rt.travelTo(148);
      assert.equal(hasScreen(rt.current!), false);
      rt.setScreensShown(true);
      const shown = await rt.refreshScreen();
      assert.deepEqual(shown!.screen, live.get(148), 'the picture of tick 148, not the one the emulator showed before');
      assert.deepEqual(shown!.ram, h.ramAt(148));
    } finally {
      await rt.close();
    }
  });

  test('the determinism guard: a replay that differs in one byte stops with the first differing frame and byte', async () => {
    const emulator = new PerturbingEmulator();
    const { rt, h } = await session({ maxSteps: 200, frames: 300, emulator });
    try {
      const target = 230;
      const k = Math.floor((target - 200) / 16) * 16 + 200; // keyframes every 16 ticks from the episode start (tick 200)
      emulator.perturb = { state: 3, address: 0x0123 };
      const before = rt.currentTick;
      const err = await rt.travelTo(target).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof NondeterminismError, `expected NondeterminismError, got ${String(err)}`);
      assert.match(err.message, /^this run is not deterministic here: /);
      assert.equal(err.at.tick, k + 3);
      assert.equal(err.at.episode, 1);
      assert.equal(err.at.step, k + 3 - 200);
      assert.equal(err.differingBytes, 1);
      assert.equal(err.differences[0].address, 0x0123);
      assert.equal(err.differences[0].replayed, err.differences[0].recorded ^ 0x40);
      assert.match(err.message, /\$0123 recorded [0-9a-f]{2} replayed [0-9a-f]{2}/);
      // Nothing moved: the runtime still holds the present, the history is whole.
      assert.equal(rt.currentTick, before);
      assert.equal(h.headTick, before);
      emulator.perturb = undefined;
      await rt.travelTo(target);
      assert.deepEqual(rt.current!.ram, h.ramAt(target));
    } finally {
      await rt.close();
    }
  });

  test('over the budget, older keyframes are thinned (still reachable), then the oldest episodes go and say so', async () => {
    const { rt, h, logs } = await session({ maxSteps: 100, frames: 1400, history: { keyframeEvery: 4, budgetBytes: 2_600_000 } });
    try {
      await new Promise((r) => setTimeout(r, 50));
      const stats = await h.stats();
      assert.ok(logs.some((l) => /older keyframe\(s\) thinned/.test(l)), logs.join('\n'));
      assert.ok(stats.keyframes < 1400 / 4, `thinned: ${stats.keyframes} keyframes`);
      const oldest = h.oldestTick;
      await rt.travelTo(oldest + 3);
      assert.deepEqual(rt.current!.ram, h.ramAt(oldest + 3));
      if (oldest > 0) {
        assert.ok(logs.some((l) => /is no longer reachable/.test(l)));
        await assert.rejects(rt.travelTo(oldest - 1), /outside the reachable history/);
      }
    } finally {
      await rt.close();
    }
  });
});
