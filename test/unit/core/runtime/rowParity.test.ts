// Row parity at episode boundaries (the seed's scenario: max steps 450, a stalled player catching up by fast-forward) and run-ahead vs lockstep.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessEmulator } from '../../../../src/emulators/embedded/embeddedEmulator';
import { RunAheadEngine, type FrameEndKind, type RunAheadEvent, type RunAheadFrame } from '../../../../src/core/runtime/runAheadDriver';
import { createEpisodeRecorder, type EpisodeManifest } from '../../../../src/core/episodes/episodeWriter';
import { EpisodeRecorder, type FinishedEpisode } from '../../../../src/core/episodes/episodeRecorder';
import { LockstepRuntime } from '../../../../src/core/runtime/runtime';
import type { FrameRow } from '../../../../src/core/runtime/rows';
import { defaultSyncConfig, mergeSyncConfig, type SyncConfig } from '../../../../src/core/config/config';
import { parseRamMap } from '../../../../src/core/config/ramMap';
import { ramHash } from '../../../../src/core/episodes/ramHash';
import { BUTTON } from '../../../../src/core/buttons';
import { RandomAgent } from '../../../../src/agents/randomAgent';
import { ScriptedAgent } from '../../../../src/agents/scriptedAgent';
import type { AgentAction, AgentPort, Observation } from '../../../../src/core/ports';
import type { EmulatorPort, RomInfo } from '../../../../src/core/ports';

const ROOT = join(__dirname, '..', '..', '..', '..');
const ROM = join(ROOT, 'roms', 'demo', 'demo.nes');
const RAM_MAP = parseRamMap(readFileSync(join(ROOT, 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');
const { LEFT, RIGHT } = BUTTON;
const MAX_STEPS = 450;
const STALL = 440;
const PARTNER_HEAD = 512;

const pattern = (c: number, f: number) => (c === 0 ? ((f >> 4) & 1 ? RIGHT : LEFT) : [LEFT, RIGHT, 0][(f >> 3) % 3]);
const tmp = () => mkdtempSync(join(tmpdir(), 'lockstep-parity-'));

function rowFor(maxSteps: number | null) {
  return (f: RunAheadFrame): { row: FrameRow; end: FrameEndKind | null } => {
    const truncated = maxSteps !== null && f.frame + 1 >= maxSteps;
    return {
      row: {
        episode: f.episode, step: f.frame, frame: f.frame, timestamp: f.before.timestamp, buttons: [...f.buttons],
        rewards: [0, 0], terminated: false, truncated, held: [false, false], manual: [false, false], wasSpeculative: false,
        agentLatencyMs: [null, null], vars: RAM_MAP.read(f.before.ram), info: {}, ramFingerprint: ramHash(f.before.ram).slice(0, 16),
      },
      end: truncated ? 'max_steps' : null,
    };
  };
}

/** Plain lockstep from power-on: the state after n frames with these inputs. */
async function referenceRam(n: number, input: (c: number, f: number) => number): Promise<string> {
  const emu = new InProcessEmulator();
  let { first: cur } = await emu.start(ROM);
  while (cur.frame < n) cur = await emu.step([input(0, cur.frame), input(1, cur.frame)]);
  await emu.close();
  return ramHash(cur.ram);
}

/** Calls `hook(frame)` before the emulator runs each frame (to deliver a partner's message mid fast-forward). */
function withStepHook(emu: EmulatorPort, hook: (frame: number) => void): EmulatorPort {
  let held = 0;
  return new Proxy(emu, {
    get(target, prop, receiver) {
      if (prop === 'step') {
        return async (b: readonly [number, number], o?: { screen?: boolean }) => {
          hook(held);
          const next = await target.step(b, o);
          held = next.frame;
          return next;
        };
      }
      if (prop === 'loadSnapshot') {
        return async (h: { id: number; frame: number }, o?: { screen?: boolean }) => {
          const f = await target.loadSnapshot(h, o);
          held = f.frame;
          return f;
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

interface Scenario {
  /** The stalled side runs ahead on predictions (true) or sits frozen like a background tab (false). */
  runsAhead: boolean;
  /** The engine detects max steps itself (its own row for frame 449 is truncated). */
  ownMaxSteps: boolean;
  /** When the partner's end (frame 450) arrives: before the catch-up, during the fast-forward at this frame, or never. */
  partnerEnd: 'before' | { duringFrame: number } | 'never';
  /** Player 1 comes back with its buffered inputs (true) or never (its frames are promoted at the boundary). */
  resumes: boolean;
}

async function seedScenario(s: Scenario) {
  const emu = new InProcessEmulator();
  const { rom, first } = await emu.start(ROM);
  assert.equal(first.frame, 0);
  const dir = tmp();
  const { recorder } = await createEpisodeRecorder(dir, { rom, ramMap: RAM_MAP, session: '', flushEvery: 32 });
  const events: RunAheadEvent[] = [];
  const ref: { eng?: RunAheadEngine } = {};
  const partnerSaysEnd = () => ref.eng!.proposeTermination(MAX_STEPS, 'max_steps', 'player 2');
  const hooked = typeof s.partnerEnd === 'object' ? withStepHook(emu, (f) => { if (f === (s.partnerEnd as { duringFrame: number }).duringFrame) partnerSaysEnd(); }) : emu;
  const eng = (ref.eng = new RunAheadEngine({
    emulator: hooked, episode: 0, first, players: [0, 1], rowFor: rowFor(s.ownMaxSteps ? MAX_STEPS : null), sink: recorder,
    maxRunAhead: s.runsAhead ? 64 : 0, onEvent: (e) => events.push(e),
  }));
  // Player 2 kept playing up to frame 512: its inputs are buffered. Player 1 went to the background near frame 440.
  for (let f = 0; f < PARTNER_HEAD; f++) eng.supply(1, f, { buttons: pattern(1, f) });
  for (let f = 0; f < STALL; f++) eng.supply(0, f, { buttons: pattern(0, f) });
  while (eng.canRunAhead) await eng.stepHead();
  assert.equal(eng.confirmedFrame, STALL);
  assert.equal(eng.head.frame, s.runsAhead ? MAX_STEPS : STALL);
  if (s.partnerEnd === 'before') partnerSaysEnd();
  if (s.resumes) {
    for (let f = STALL; f < PARTNER_HEAD; f++) eng.supply(0, f, { buttons: pattern(0, f) });
    await eng.reconcile();
  } else {
    assert.equal(eng.atBoundary, true);
    await eng.promoteAtBoundary();
  }
  assert.equal(eng.complete, true, 'every frame below the termination has its row');
  assert.equal(eng.head.frame, MAX_STEPS, 'the emulator holds the termination frame');
  await recorder.endEpisode(
    { episode: 0, terminationFrame: eng.termination.frame!, rows: eng.confirmedFrame, reason: 'max_steps', startFrame: 0, returns: eng.returns },
    eng.head.ram,
  );
  const jsonl = readFileSync(join(dir, 'episode-0000.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const manifest = JSON.parse(readFileSync(join(dir, 'episode-0000.json'), 'utf8')) as EpisodeManifest;
  const headRam = ramHash(eng.head.ram);
  await emu.close();
  return { jsonl, manifest, events, eng, headRam };
}

function assertParity(jsonl: Array<{ frame: number; step: number }>, manifest: EpisodeManifest) {
  assert.equal(jsonl.length, 450, 'exactly max_steps rows');
  assert.notEqual(jsonl.length, 451);
  assert.deepEqual(jsonl.map((r) => r.frame), Array.from({ length: 450 }, (_, i) => i), 'frames 0-449');
  assert.ok(jsonl.every((r) => r.frame < 450));
  assert.equal(manifest.rows, 450);
  assert.equal(manifest.terminationFrame, 450);
  assert.equal((jsonl.at(-1) as { truncated?: boolean }).truncated, true);
}

describe('row parity: the seed scenario (max steps 450, player 1 stalls near 440, player 2 buffered to 512)', () => {
  test('boundary known before the catch-up: the fast-forward is capped at 450 -> 450 rows, same state as lockstep', async () => {
    const r = await seedScenario({ runsAhead: false, ownMaxSteps: false, partnerEnd: 'before', resumes: true });
    assertParity(r.jsonl, r.manifest);
    const ff = r.events.find((e) => e.type === 'fastForward');
    assert.ok(ff && ff.type === 'fastForward');
    assert.deepEqual([ff.from, ff.to, ff.target, ff.cap], [440, 450, 450, 450]);
    assert.equal(r.eng.stats.inputsPastTermination, PARTNER_HEAD - MAX_STEPS, 'player 1\'s inputs past the end are dropped');
    assert.equal(r.manifest.finalRamSha256, await referenceRam(450, pattern));
    assert.equal(r.jsonl.filter((x) => x.wasSpeculative).length, 0);
  });

  test('boundary arriving in the middle of the fast-forward is honoured -> 450 rows', async () => {
    const r = await seedScenario({ runsAhead: false, ownMaxSteps: false, partnerEnd: { duringFrame: 445 }, resumes: true });
    assertParity(r.jsonl, r.manifest);
    const ff = r.events.find((e) => e.type === 'fastForward');
    assert.ok(ff && ff.type === 'fastForward');
    assert.equal(ff.target, PARTNER_HEAD, 'no end was known when it started: it aimed at the partner\'s frame');
    assert.equal(ff.cap, null);
    assert.equal(ff.to, 450);
    assert.equal(ff.stoppedBy, 'termination');
    assert.equal(r.manifest.finalRamSha256, await referenceRam(450, pattern));
  });

  test('boundary arriving while frame 450 itself runs: that frame is undone, not stored -> 450 rows (never 451)', async () => {
    const r = await seedScenario({ runsAhead: false, ownMaxSteps: false, partnerEnd: { duringFrame: 450 }, resumes: true });
    assertParity(r.jsonl, r.manifest);
    assert.equal(r.headRam, await referenceRam(450, pattern), 'the state is back at the termination frame');
    assert.equal(r.manifest.finalRamSha256, r.headRam);
  });

  test('the stalled side had run ahead on predictions: rollback at the first wrong one, fast-forward to 450 -> 450 rows', async () => {
    const r = await seedScenario({ runsAhead: true, ownMaxSteps: true, partnerEnd: 'before', resumes: true });
    assertParity(r.jsonl, r.manifest);
    const rb = r.events.find((e) => e.type === 'rollback');
    assert.ok(rb && rb.type === 'rollback');
    assert.ok(rb.frame >= STALL && rb.frame < MAX_STEPS);
    assert.equal(r.manifest.finalRamSha256, await referenceRam(450, pattern));
    assert.equal(r.jsonl.filter((x) => x.wasSpeculative).length, 0);
  });

  test('player 1 never comes back: its frames are promoted as they ran, only below 450 -> 450 rows, 10 speculative', async () => {
    const r = await seedScenario({ runsAhead: true, ownMaxSteps: true, partnerEnd: 'never', resumes: false });
    assertParity(r.jsonl, r.manifest);
    assert.deepEqual(r.jsonl.filter((x) => x.wasSpeculative).map((x) => x.frame), Array.from({ length: 10 }, (_, i) => 440 + i));
    assert.ok(r.jsonl.slice(440).every((x) => x.held[0] === true), 'predicted buttons are not player 1\'s own');
    assert.equal(r.manifest.speculativeRows, 10);
    const held = (c: number, f: number) => (c === 0 && f >= STALL ? pattern(0, STALL - 1) : pattern(c, f));
    assert.equal(r.manifest.finalRamSha256, await referenceRam(450, held));
  });

  test('both sides agree on the termination whatever order their ends arrive in', async () => {
    for (const order of [[455, 450], [450, 455]]) {
      const emu = new InProcessEmulator();
      const { first } = await emu.start(ROM);
      const sink = new EpisodeRecorder();
      const eng = new RunAheadEngine({ emulator: emu, episode: 0, first, players: [0, 1], rowFor: rowFor(null), sink });
      eng.proposeTermination(order[0], 'max_steps', 'player 1');
      eng.proposeTermination(order[1], 'max_steps', 'player 2');
      assert.equal(eng.termination.frame, 450);
      assert.equal(sink.terminationFrame, 450);
      await emu.close();
    }
  });
});

// ---- the same through LockstepRuntime ----

/** An agent whose answers wait until the test releases them (a slow or backgrounded trainer, deterministically). */
class HeldAgent implements AgentPort {
  readonly wantsScreen = false;
  readonly waiting: Array<{ obs: Observation; resolve: (a: AgentAction) => void }> = [];
  constructor(readonly name: string, private readonly decide: (o: Observation) => number, private readonly autoBelowStep = -1) {}
  act(obs: Observation): Promise<AgentAction> {
    if (obs.step < this.autoBelowStep) return Promise.resolve({ frame: obs.frame, buttons: this.decide(obs) });
    return new Promise((resolve) => this.waiting.push({ obs, resolve }));
  }
  /** Answers every request asked at least `lag` frames before `head` (all of them without a head). */
  release(head?: number, lag = 0, buttons?: number): number {
    let n = 0;
    for (let i = 0; i < this.waiting.length;) {
      const w = this.waiting[i];
      if (head === undefined || w.obs.frame <= head - lag) {
        this.waiting.splice(i, 1);
        w.resolve({ frame: w.obs.frame, buttons: buttons ?? this.decide(w.obs) });
        n++;
      } else i++;
    }
    return n;
  }
  async close(): Promise<void> {}
}

/** Chases the falling item: the buttons change often, so predictions (repeat last) are often wrong. */
const chase = (o: Observation) => (o.vars.item_x + 4 > o.vars.p1_x + 12 ? RIGHT : LEFT);

function runtime(agents: Array<AgentPort | undefined>, sync: Partial<SyncConfig>, opts: { maxSteps: number; sink: EpisodeRecorder; runAheadFrames?: number }) {
  return new LockstepRuntime(
    { emulator: new InProcessEmulator(), agents, ramMap: RAM_MAP, sync: mergeSyncConfig(defaultSyncConfig(), sync) },
    { romPath: ROM, maxSteps: opts.maxSteps, recorder: opts.sink, runAheadFrames: opts.runAheadFrames },
  );
}

/** Advances; if the runtime blocks (waiting for answers at the boundary), `unblock` is called once and the wait goes on. */
async function advanceUnblocking(rt: LockstepRuntime, unblock: () => void) {
  const p = rt.advance();
  const first = await Promise.race([p, new Promise<'blocked'>((r) => setTimeout(() => r('blocked'), 60))]);
  if (first !== 'blocked') return first;
  unblock();
  return p;
}

const comparable = (r: FrameRow) => ({ episode: r.episode, step: r.step, frame: r.frame, buttons: r.buttons, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, vars: r.vars, ram: r.ramFingerprint });

/** Replays recorded buttons in strict lockstep and returns the finished episodes. */
async function lockstepReplay(episodes: readonly FinishedEpisode[], maxSteps: number): Promise<FinishedEpisode[]> {
  const byEpisode = new Map(episodes.map((e) => [e.episode, e.rows]));
  const replay = (p: 0 | 1) => new ScriptedAgent({ act: (o) => byEpisode.get(o.episode)?.[o.step]?.buttons[p] ?? 0 }, `replay${p + 1}`);
  const sink = new EpisodeRecorder();
  const rt = runtime([replay(0), replay(1)], { mode: 'lockstep' }, { maxSteps, sink });
  await rt.start();
  while ((sink.finished as FinishedEpisode[]).length < episodes.length) await rt.advance();
  await rt.close();
  return sink.finished as FinishedEpisode[];
}

describe('row parity: run-ahead through the runtime', () => {
  test('a slow agent in run-ahead gives the same rows and final RAM as strict lockstep with the same actions', async () => {
    const slow = new HeldAgent('slow', chase);
    const sink = new EpisodeRecorder();
    const rt = runtime([slow, new RandomAgent({ seed: 11 })], { mode: 'runahead', frameTimeoutMs: 10_000 }, { maxSteps: 150, sink, runAheadFrames: 8 });
    await rt.start();
    const finished = sink.finished as FinishedEpisode[];
    while (finished.length < 2) {
      await advanceUnblocking(rt, () => slow.release());
      slow.release(rt.current!.frame, 3);
    }
    assert.ok(rt.runAheadStats.rollbacks > 0, 'the test exercised rollbacks');
    assert.ok(rt.runAheadStats.predictedFrames > 0);
    await rt.close();
    for (const ep of finished) {
      assert.equal(ep.rows.length, 150);
      assert.ok(ep.rows.every((r) => !r.wasSpeculative), 'every action arrived: nothing promoted at the boundary');
    }
    const lock = await lockstepReplay(finished, 150);
    for (let e = 0; e < 2; e++) {
      assert.deepEqual(finished[e].rows.map(comparable), lock[e].rows.map(comparable), `episode ${e} rows`);
      assert.equal(ramHash(finished[e].finalRam), ramHash(lock[e].finalRam), `episode ${e} final RAM`);
    }
  });

  test('two agents with real latency (timers) in run-ahead match lockstep with the same actions', async () => {
    const sleepy = (seed: number, decide: (o: Observation) => number): AgentPort => {
      let s = seed;
      return new ScriptedAgent({ act: async (o) => { s = (s * 1103515245 + 12345) & 0x7fffffff; await new Promise((r) => setTimeout(r, 1 + (s % 3))); return decide(o); } }, `sleepy${seed}`);
    };
    const sink = new EpisodeRecorder();
    const rt = runtime([sleepy(1, chase), sleepy(2, (o) => (o.vars.item_x > o.vars.p2_x + 8 ? RIGHT : LEFT))], { mode: 'runahead', frameTimeoutMs: 5_000 }, { maxSteps: 90, sink });
    await rt.start();
    const finished = sink.finished as FinishedEpisode[];
    while (finished.length < 1) await rt.advance();
    await rt.close();
    assert.equal(finished[0].rows.length, 90);
    const lock = await lockstepReplay(finished, 90);
    assert.deepEqual(finished[0].rows.map(comparable), lock[0].rows.map(comparable));
    assert.equal(ramHash(finished[0].finalRam), ramHash(lock[0].finalRam));
  });

  test('seed scenario in the runtime: agent 1 stalls at step 440, agent 2 goes on to 450, agent 1\'s late answer rolls back -> 450 rows', async () => {
    const dir = tmp();
    const rom: RomInfo = { name: 'demo.nes', md5: '0'.repeat(32), md5NoHeader: '0'.repeat(32), mapper: 0, prgBanks: 1, chrBanks: 1 };
    const { recorder } = await createEpisodeRecorder(dir, { rom, ramMap: RAM_MAP, session: '' });
    const stalled = new HeldAgent('backgrounded', () => RIGHT, STALL);
    const rt = runtime([stalled, new RandomAgent({ seed: 4 })], { mode: 'runahead', frameTimeoutMs: 10_000 }, { maxSteps: MAX_STEPS, sink: recorder, runAheadFrames: 16 });
    const first = await rt.start();
    let end;
    while (!end) {
      const o = await advanceUnblocking(rt, () => {
        assert.equal(rt.current!.frame, first.frame + MAX_STEPS, 'blocked at the boundary, head on the termination frame');
        assert.equal(stalled.waiting.length, 1);
        stalled.release(undefined, 0, LEFT);
      });
      end = o.episodeEnd;
    }
    assert.ok(rt.runAheadStats.rollbacks >= 1);
    await rt.close();
    assert.equal(end.rows, MAX_STEPS);
    assert.equal(end.terminationFrame, first.frame + MAX_STEPS);
    const jsonl = readFileSync(join(dir, 'episode-0000.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(jsonl.length, 450);
    assert.deepEqual(jsonl.map((r) => r.step), Array.from({ length: 450 }, (_, i) => i));
    assert.equal(jsonl.at(-1).frame, first.frame + 449);
    const stallRow = jsonl[STALL];
    assert.deepEqual([stallRow.actions[0], stallRow.held[0]], [LEFT, false], 'the late answer applies to the frame it was for');
    assert.ok(jsonl.slice(STALL + 1).every((r) => r.actions[0] === LEFT && r.held[0]), 'then held to the end');
    assert.equal(jsonl.filter((r) => r.wasSpeculative).length, 0);
  });

  test('seed scenario in the runtime, agent 1 never answers: after the timeout its frames are promoted below 450 -> 450 rows', async () => {
    const sink = new EpisodeRecorder();
    const stalled = new HeldAgent('gone', () => RIGHT, STALL);
    const rt = runtime([stalled, new RandomAgent({ seed: 4 })], { mode: 'runahead', frameTimeoutMs: 30 }, { maxSteps: MAX_STEPS, sink, runAheadFrames: 16 });
    const first = await rt.start();
    const kinds: string[] = [];
    rt.events.on('desync', (e) => kinds.push(e.type));
    let end;
    while (!end) end = (await rt.advance()).episodeEnd;
    await rt.close();
    const ep = (sink.finished as FinishedEpisode[])[0];
    assert.equal(ep.rows.length, 450);
    assert.equal(ep.rows.at(-1)!.frame, first.frame + 449);
    assert.deepEqual(ep.rows.filter((r) => r.wasSpeculative).map((r) => r.step), Array.from({ length: 10 }, (_, i) => STALL + i));
    assert.ok(kinds.includes('timeout'));
    assert.equal(end.rows, 450);
  });
});

