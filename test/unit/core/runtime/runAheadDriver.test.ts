// Tests for the run-ahead engine on the demo ROM (jsnes in process): prediction, rollback and fast-forward, window, pending done flag, input rules.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InProcessEmulator } from '../../../../src/emulators/embedded/embeddedEmulator';
import { RunAheadEngine, type FrameEndKind, type RunAheadEvent, type RunAheadFrame } from '../../../../src/core/runtime/runAheadDriver';
import { EpisodeRecorder } from '../../../../src/core/episodes/episodeRecorder';
import { parseRamMap } from '../../../../src/core/config/ramMap';
import { ramHash } from '../../../../src/core/episodes/ramHash';
import { BUTTON } from '../../../../src/core/buttons';
import { LockstepRuntime } from '../../../../src/core/runtime/runtime';
import type { EpisodeEnd, FrameRow } from '../../../../src/core/runtime/rows';
import { defaultSyncConfig, mergeSyncConfig, type SyncConfig } from '../../../../src/core/config/config';
import type { AgentAction, AgentPort, Observation } from '../../../../src/core/ports';
import type { DesyncEvent } from '../../../../src/core/sync/desyncDetector';
import type { EmulatorFrame, EmulatorPort } from '../../../../src/core/ports';

const ROOT = join(__dirname, '..', '..', '..', '..');
const ROM = join(ROOT, 'roms', 'demo', 'demo.nes');
const RAM_MAP = parseRamMap(readFileSync(join(ROOT, 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');
const { LEFT, RIGHT } = BUTTON;

/** Controller 1 changes direction every 16 frames, controller 2 cycles left/right/none every 8. */
const pattern = (c: number, f: number) => (c === 0 ? ((f >> 4) & 1 ? RIGHT : LEFT) : [LEFT, RIGHT, 0][(f >> 3) % 3]);

async function boot(): Promise<{ emu: InProcessEmulator; first: EmulatorFrame }> {
  const emu = new InProcessEmulator();
  let { first } = await emu.start(ROM);
  for (let i = 0; i < 4; i++) first = await emu.step([0, 0]);
  return { emu, first };
}

function rowFor(start: number, extraEnd?: (f: RunAheadFrame) => FrameEndKind | null) {
  return (f: RunAheadFrame): { row: FrameRow; end: FrameEndKind | null } => ({
    row: {
      episode: f.episode, step: f.frame - start, frame: f.frame, timestamp: f.before.timestamp, buttons: [...f.buttons],
      rewards: [RAM_MAP.reward(0, f.before.ram, f.after.ram), RAM_MAP.reward(1, f.before.ram, f.after.ram)],
      terminated: false, truncated: false, held: [false, false], manual: [false, false], wasSpeculative: false,
      agentLatencyMs: [null, null], vars: RAM_MAP.read(f.before.ram), info: {}, ramFingerprint: ramHash(f.before.ram).slice(0, 16),
    },
    end: extraEnd?.(f) ?? null,
  });
}

/** The same frames in plain lockstep: final RAM and per-frame fingerprints. */
async function reference(n: number, input: (c: number, f: number) => number): Promise<{ ram: string; prints: string[] }> {
  const { emu, first } = await boot();
  let cur = first;
  const prints: string[] = [];
  for (let i = 0; i < n; i++) {
    prints.push(ramHash(cur.ram).slice(0, 16));
    cur = await emu.step([input(0, cur.frame), input(1, cur.frame)]);
  }
  await emu.close();
  return { ram: ramHash(cur.ram), prints };
}

async function make(opts: { players?: number[]; maxRunAhead?: number; end?: (f: RunAheadFrame) => FrameEndKind | null; fixedInput?: (c: number, f: number) => number; wrap?: (e: EmulatorPort) => EmulatorPort } = {}) {
  const { emu, first } = await boot();
  const events: RunAheadEvent[] = [];
  const sink = new EpisodeRecorder();
  const eng = new RunAheadEngine({
    emulator: opts.wrap ? opts.wrap(emu) : emu, episode: 0, first, players: opts.players ?? [0, 1], rowFor: rowFor(first.frame, opts.end),
    sink, maxRunAhead: opts.maxRunAhead ?? 8, fixedInput: opts.fixedInput, onEvent: (e) => events.push(e),
  });
  return { emu, first, eng, sink, events };
}

describe('run-ahead engine: prediction and rollback', () => {
  test('with every input known in advance no frame is predicted and rows are final at once', async () => {
    const { emu, first, eng, sink } = await make();
    for (let f = first.frame; f < first.frame + 40; f++) for (const c of [0, 1]) eng.supply(c, f, { buttons: pattern(c, f) });
    for (let i = 0; i < 40; i++) assert.ok(await eng.stepHead());
    assert.equal(eng.stats.predictedFrames, 0);
    assert.equal(eng.speculativeFrames, 0);
    assert.equal(sink.confirmedRows.length, 40);
    assert.equal(ramHash(eng.head.ram), (await reference(40, pattern)).ram);
    await emu.close();
  });

  test('late inputs equal to the prediction confirm the speculative rows without a rollback', async () => {
    const { emu, first, eng, sink } = await make({ maxRunAhead: 16 });
    for (let i = 0; i < 10; i++) await eng.stepHead();
    assert.equal(eng.speculativeFrames, 10);
    assert.equal(sink.confirmedRows.length, 0);
    assert.equal(sink.speculativeRows.size, 10);
    for (let f = first.frame; f < first.frame + 10; f++) for (const c of [0, 1]) eng.supply(c, f, { buttons: 0, latencyMs: 3 });
    await eng.reconcile();
    assert.equal(eng.stats.rollbacks, 0);
    assert.equal(sink.confirmedRows.length, 10);
    assert.deepEqual(sink.confirmedRows[0].agentLatencyMs, [3, 3]);
    await emu.close();
  });

  test('a late input that differs restores that frame\'s snapshot and fast-forwards: same state as if it had been on time', async () => {
    const { emu, first, eng, sink, events } = await make({ maxRunAhead: 30 });
    const s = first.frame;
    for (let f = s; f < s + 5; f++) for (const c of [0, 1]) eng.supply(c, f, { buttons: pattern(c, f) });
    for (let i = 0; i < 25; i++) await eng.stepHead();
    assert.equal(eng.head.frame, s + 25);
    assert.equal(eng.confirmedFrame, s + 5);
    for (let f = s + 5; f < s + 25; f++) for (const c of [0, 1]) eng.supply(c, f, { buttons: pattern(c, f) });
    await eng.reconcile();
    const rb = events.find((e) => e.type === 'rollback');
    assert.ok(rb && rb.type === 'rollback');
    let firstWrong = s + 5;
    while ([0, 1].every((c) => pattern(c, firstWrong) === pattern(c, s + 4))) firstWrong++;
    assert.equal(rb.frame, firstWrong, 'the first frame run on a wrong prediction');
    assert.ok(firstWrong < s + 25);
    assert.equal(eng.head.frame, s + 25, 'fast-forward returns to the old head');
    assert.equal(eng.confirmedFrame, s + 25);
    assert.equal(sink.confirmedRows.length, 25);
    const ref = await reference(25, pattern);
    assert.equal(ramHash(eng.head.ram), ref.ram);
    assert.deepEqual(sink.confirmedRows.map((r) => r.ramFingerprint), ref.prints);
    await emu.close();
  });

  test('prediction repeats each controller\'s last confirmed buttons', async () => {
    const { emu, first, eng, sink } = await make();
    eng.supply(0, first.frame, { buttons: RIGHT });
    eng.supply(1, first.frame, { buttons: LEFT });
    for (let i = 0; i < 4; i++) await eng.stepHead();
    assert.deepEqual([...sink.speculativeRows.values()].map((r) => r.buttons), [[RIGHT, LEFT], [RIGHT, LEFT], [RIGHT, LEFT]]);
    await emu.close();
  });

  test('the window stops the head maxRunAhead frames past the last confirmed frame', async () => {
    const { emu, eng } = await make({ maxRunAhead: 3 });
    for (let i = 0; i < 10; i++) await eng.stepHead();
    assert.equal(eng.speculativeFrames, 3);
    assert.equal(eng.canRunAhead, false);
    assert.equal(await eng.stepHead(), undefined);
    await emu.close();
  });

  test('controllers without an agent take fixedInput once per frame, and rollbacks replay the same buttons', async () => {
    const asked: number[] = [];
    const { emu, first, eng, sink } = await make({ players: [0], maxRunAhead: 10, fixedInput: (c, f) => { asked.push(f); return c === 1 ? RIGHT : 0; } });
    for (let i = 0; i < 6; i++) await eng.stepHead();
    eng.supply(0, first.frame + 5, { buttons: LEFT });
    await eng.reconcile();
    assert.equal(eng.stats.rollbacks, 1);
    assert.deepEqual(asked, [0, 1, 2, 3, 4, 5].map((i) => first.frame + i), 'asked once per frame despite the replay');
    assert.ok(sink.confirmedRows.every((r) => r.buttons[1] === RIGHT));
    assert.deepEqual(sink.confirmedRows.slice(0, 5).map((r) => r.held[0]), [true, true, true, true, true], 'the gap before an answer counts as held');
    await emu.close();
  });
});

describe('run-ahead engine: ends and input rules', () => {
  test('a done flag seen on a predicted frame holds the head until confirmed; a rollback that removes it lets the episode go on', async () => {
    const s = (await boot()).first.frame;
    const doneAt = s + 6;
    const { emu, eng, sink } = await make({ players: [0], maxRunAhead: 20, end: (f) => (f.frame === doneAt && f.buttons[0] === 0 ? 'done_flag' : null) });
    for (let i = 0; i < 20; i++) await eng.stepHead();
    assert.equal(eng.head.frame, doneAt + 1, 'nothing runs past a pending done flag');
    assert.equal(eng.termination.frame, null, 'a predicted done flag is not an agreed end');
    eng.supply(0, doneAt, { buttons: RIGHT });
    await eng.reconcile();
    assert.equal(eng.termination.frame, null);
    assert.equal(eng.head.frame, doneAt + 1, 'the replay runs to the old head');
    assert.equal(await eng.stepHead() !== undefined, true, 'the head may move on');
    assert.equal(sink.confirmedRows.length, 7);
    await emu.close();
  });

  test('a confirmed done flag fixes the termination after that frame', async () => {
    const s = (await boot()).first.frame;
    const { emu, eng, sink } = await make({ players: [0], maxRunAhead: 20, end: (f) => (f.frame === s + 6 ? 'done_flag' : null) });
    for (let i = 0; i < 20; i++) await eng.stepHead();
    eng.supply(0, s + 6, { buttons: 0 });
    await eng.reconcile();
    assert.equal(eng.termination.frame, s + 7);
    assert.equal(eng.complete, true);
    assert.equal(sink.confirmedRows.length, 7);
    await emu.close();
  });

  test('an end agreed while a frame is running excludes that frame and puts the head back on the termination frame', async () => {
    const ref: { eng?: RunAheadEngine } = {};
    let stopAt = -1;
    const built = await make({
      maxRunAhead: 0,
      wrap: (e) => new Proxy(e, {
        get(target, prop, receiver) {
          if (prop === 'step') {
            return async (b: readonly [number, number], o?: { screen?: boolean }) => {
              const before = ref.eng!.head.frame;
              const next = await target.step(b, o);
              if (before === stopAt) ref.eng!.proposeTermination(stopAt, 'max_steps', 'player 2');
              return next;
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      }),
    });
    const eng = (ref.eng = built.eng);
    const s = built.first.frame;
    stopAt = s + 10;
    for (let f = s; f < s + 40; f++) for (const c of [0, 1]) eng.supply(c, f, { buttons: pattern(c, f) });
    await eng.reconcile();
    assert.equal(eng.head.frame, s + 10);
    assert.equal(built.sink.confirmedRows.length, 10);
    assert.equal(eng.complete, true);
    assert.equal(ramHash(eng.head.ram), (await reference(10, pattern)).ram);
    await built.emu.close();
  });

  test('supply: gaps count as held, old frames are stale, bad buttons and foreign controllers are refused by name', async () => {
    const { emu, first, eng } = await make({ players: [0] });
    const s = first.frame;
    assert.equal(eng.supply(0, s, { buttons: RIGHT }), 'accepted');
    assert.equal(eng.supply(0, s + 3, { buttons: LEFT }), 'accepted');
    assert.equal(eng.nextUnconfirmed(0), s + 4);
    assert.equal(eng.supply(0, s + 1, { buttons: 0 }), 'stale');
    assert.throws(() => eng.supply(0, s + 4, { buttons: 256 }), /buttons for controller 1 at frame \d+ must be a mask 0-255, got 256/);
    assert.throws(() => eng.supply(1, s, { buttons: 0 }), /controller 2 is not driven by an agent/);
    eng.proposeTermination(s + 6, 'max_steps', 'test');
    assert.equal(eng.supply(0, s + 9, { buttons: 0 }), 'past_termination');
    assert.equal(eng.nextUnconfirmed(0), s + 6, 'held only up to the end');
    assert.equal(eng.stats.inputsPastTermination, 1);
    await emu.close();
  });

  test('operations cannot overlap', async () => {
    const { emu, eng } = await make();
    const a = eng.stepHead();
    await assert.rejects(eng.reconcile(), /reconcile called while stepHead is running/);
    await a;
    await emu.close();
  });
});

/** Answers only when told to: the runtime runs ahead on predictions meanwhile. */
class ManualAgent implements AgentPort {
  readonly name = 'manual';
  readonly wantsScreen = false;
  readonly waiting: Array<{ obs: Observation; resolve: (a: AgentAction) => void }> = [];
  act(obs: Observation): Promise<AgentAction> {
    return new Promise((resolve) => this.waiting.push({ obs, resolve }));
  }
  answer(buttons: number, frameOffset = 0): void {
    const w = this.waiting.shift()!;
    w.resolve({ frame: w.obs.frame + frameOffset, buttons });
  }
  async close(): Promise<void> {}
}

function runAheadRuntime(agent: AgentPort, sync: Partial<SyncConfig> = {}, sink = new EpisodeRecorder()) {
  const rt = new LockstepRuntime(
    { emulator: new InProcessEmulator(), agents: [agent], ramMap: RAM_MAP, sync: mergeSyncConfig(defaultSyncConfig(), { mode: 'runahead', frameTimeoutMs: 10_000, ...sync }) },
    { romPath: ROM, recorder: sink, runAheadFrames: 8 },
  );
  return { rt, sink };
}

describe('runtime in run-ahead mode', () => {
  test('the head runs ahead of a silent agent up to the window; rows stay speculative until answers come', async () => {
    const agent = new ManualAgent();
    const { rt, sink } = runAheadRuntime(agent);
    const first = await rt.start();
    for (let i = 0; i < 8; i++) assert.equal((await rt.advance()).advanced, true);
    assert.equal(rt.current!.frame, first.frame + 8);
    assert.equal(rt.confirmedFrame, first.frame);
    assert.equal(sink.speculativeRows.size, 8);
    assert.equal(agent.waiting.length, 1, 'one question at a time, about the head when it was idle');
    agent.answer(RIGHT);
    await rt.advance();
    assert.ok(rt.runAheadStats.rollbacks >= 1, 'RIGHT differs from the predicted nothing');
    assert.equal(sink.confirmedRows.length, 1);
    assert.equal(sink.confirmedRows[0].buttons[0], RIGHT);
    await rt.close();
  });

  test('stopEpisode promotes the frames run ahead and ends the episode once; the next advance starts the next episode', async () => {
    const agent = new ManualAgent();
    const { rt, sink } = runAheadRuntime(agent);
    const first = await rt.start();
    const ends: EpisodeEnd[] = [];
    rt.events.on('episodeEnd', (e) => ends.push(e));
    for (let i = 0; i < 5; i++) await rt.advance();
    const end = await rt.stopEpisode();
    assert.equal(end?.reason, 'stopped');
    assert.equal(end?.rows, 5);
    const done = sink.finished as Array<{ rows: FrameRow[] }>;
    assert.equal(done[0].rows.length, 5);
    assert.ok(done[0].rows.every((r) => r.wasSpeculative));
    const o = await rt.advance();
    assert.equal(o.episodeEnd, undefined);
    assert.equal(rt.episodeIndex, 1);
    assert.equal(rt.current!.frame, first.frame, 'the next episode starts from the start state');
    assert.equal(ends.length, 1);
    await rt.close();
  });

  test('a RAM write drops the frames run ahead, edits the confirmed state, and marks the episode\'s movie as not exact', async () => {
    const agent = new ManualAgent();
    const { rt, sink } = runAheadRuntime(agent);
    const first = await rt.start();
    await rt.advance();
    agent.answer(0);
    for (let i = 0; i < 4; i++) await rt.advance();
    assert.equal(rt.confirmedFrame, first.frame + 1);
    assert.equal(rt.current!.frame, first.frame + 5);
    await rt.writeRam(0x16, new Uint8Array([9]));
    assert.equal(rt.current!.frame, first.frame + 1, 'back on the last confirmed frame');
    assert.equal(sink.speculativeRows.size, 0);
    assert.equal(RAM_MAP.read(rt.current!.ram).score_p1, 9);
    const o = await rt.advance();
    assert.equal(o.row?.vars.score_p1, 9, 'the next frame starts from the written RAM');
    await rt.stopEpisode();
    const fin = (sink.finished as Array<{ externalEdits: string[] }>)[0];
    assert.match(fin.externalEdits[0], /1 byte\(s\) written at \$0016/);
    await rt.close();
  });

  test('an answer tagged with another frame is a desync (frame_skip), not an input', async () => {
    const agent = new ManualAgent();
    const { rt, sink } = runAheadRuntime(agent);
    await rt.start();
    const desyncs: DesyncEvent[] = [];
    rt.events.on('desync', (e) => desyncs.push(e));
    await rt.advance();
    agent.answer(RIGHT, 7);
    await rt.advance();
    assert.deepEqual(desyncs.map((d) => [d.type, d.gap]), [['frame_skip', 7]]);
    assert.equal(sink.confirmedRows.length, 0);
    assert.equal(agent.waiting.length, 1, 'asked again (resync)');
    await rt.close();
  });
});
