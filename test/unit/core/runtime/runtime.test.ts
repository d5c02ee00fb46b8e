// Tests for the lockstep runtime on the real demo ROM (jsnes in process): gate, desync detection and recovery, episodes, step back, manual input.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InProcessEmulator } from '../../../../src/emulators/embedded/embeddedEmulator';
import { LockstepRuntime, RuntimeFault } from '../../../../src/core/runtime/runtime';
import type { FrameRow, RowSink, EpisodeEnd } from '../../../../src/core/runtime/rows';
import { defaultSyncConfig, mergeSyncConfig, type SyncConfig } from '../../../../src/core/config/config';
import { parseRamMap, type RamMap } from '../../../../src/core/config/ramMap';
import { ScriptedAgent, type ScriptModule } from '../../../../src/agents/scriptedAgent';
import { RandomAgent } from '../../../../src/agents/randomAgent';
import type { AgentPort } from '../../../../src/core/ports';
import { BUTTON } from '../../../../src/core/buttons';
import { ramHash, shortHash } from '../../../../src/core/episodes/ramHash';
import { hasScreen, type EmulatorFrame, type StepOptions } from '../../../../src/core/ports';
import type { ButtonPair } from '../../../../src/core/buttons';
import type { DesyncEvent } from '../../../../src/core/sync/desyncDetector';

const ROOT = join(__dirname, '..', '..', '..', '..');
const ROM = join(ROOT, 'roms', 'demo', 'demo.nes');
const RAM_MAP = parseRamMap(readFileSync(join(ROOT, 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');

class MemorySink implements RowSink {
  rows: FrameRow[] = [];
  ends: EpisodeEnd[] = [];
  addRow(row: FrameRow): void {
    this.rows.push(row);
  }
  endEpisode(end: EpisodeEnd): void {
    this.ends.push(end);
  }
  truncate(episode: number, kept: number): void {
    this.rows = this.rows.filter((r) => r.episode < episode || (r.episode === episode && r.step < kept));
  }
}

function make(
  agents: Array<AgentPort | undefined>,
  opts: { sync?: Partial<SyncConfig>; maxSteps?: number; stepBackDepth?: number; sink?: RowSink; emulator?: InProcessEmulator; ramMap?: RamMap } = {},
) {
  const sync = mergeSyncConfig(defaultSyncConfig(), opts.sync ?? {});
  const rt = new LockstepRuntime(
    { emulator: opts.emulator ?? new InProcessEmulator(), agents, ramMap: opts.ramMap ?? RAM_MAP, sync },
    { romPath: ROM, maxSteps: opts.maxSteps ?? null, stepBackDepth: opts.stepBackDepth ?? 0, recorder: opts.sink },
  );
  const desyncs: DesyncEvent[] = [];
  rt.events.on('desync', (e) => desyncs.push(e));
  return { rt, desyncs };
}

const script = (m: ScriptModule) => new ScriptedAgent(m, 'test');

/**
 * The embedded emulator made to take each frame in as it arrives, as FceuxEmulator does with its socket: the frame
 * comes in a later turn of the event loop, a step's `arrived` runs before the step settles, and a step sent through its `next` goes out at once. Counts both.
 */
function arriving(emulator: InProcessEmulator): { arrivals: number; sentFromArrival: number } {
  const counts = { arrivals: 0, sentFromArrival: 0 };
  const step = emulator.step.bind(emulator);
  const stepWith = (buttons: ButtonPair, o: StepOptions = {}): Promise<EmulatorFrame> => step(buttons, { screen: o.screen }).then(async (frame) => {
    // Delivered in a later turn of the event loop, as a socket's data would be.
    await new Promise((r) => setImmediate(r));
    if (o.arrived) {
      counts.arrivals++;
      o.arrived(frame, (b, next) => {
        counts.sentFromArrival++;
        return stepWith(b, next);
      });
    }
    return frame;
  });
  emulator.step = stepWith;
  return counts;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runtime: lockstep', () => {
  test('every frame waits for the action for that frame; frame ids are consecutive and there are no desyncs', async () => {
    const seen: number[] = [];
    const { rt, desyncs } = make([script({ act: (o) => { seen.push(o.frame); return 0; } })]);
    const first = await rt.start();
    const frames: number[] = [];
    for (let i = 0; i < 120; i++) frames.push((await rt.advance()).frame);
    assert.deepEqual(seen, Array.from({ length: 120 }, (_, i) => first.frame + i));
    assert.deepEqual(frames, Array.from({ length: 120 }, (_, i) => first.frame + i + 1));
    assert.equal(desyncs.length, 0);
    assert.equal(rt.detector.total(), 0);
    await rt.close();
  });

  test('episode 0 starts after the game has booted (warmup), so rewards are score deltas, never boot garbage', async () => {
    const sink = new MemorySink();
    const { rt } = make([new RandomAgent({ seed: 3 })], { sink });
    const first = await rt.start();
    assert.equal(first.frame, RAM_MAP.warmupFramesFor('embedded'));
    assert.equal(RAM_MAP.read(first.ram).done, 0);
    for (let i = 0; i < 600; i++) await rt.advance();
    assert.ok(sink.rows.every((r) => r.rewards[0] >= 0 && r.rewards[0] <= 1), 'rewards are 0 or +1 per caught item');
    const total = sink.rows.reduce((n, r) => n + r.rewards[0], 0);
    assert.equal(total, RAM_MAP.read(rt.current!.ram).score_p1, 'summed rewards equal the score in RAM');
    await rt.close();
  });

  test('the same seed gives the same final RAM; another seed does not', async () => {
    const hashes: string[] = [];
    for (const seed of [5, 5, 6]) {
      const { rt } = make([new RandomAgent({ seed })]);
      await rt.start();
      for (let i = 0; i < 400; i++) await rt.advance();
      hashes.push(ramHash(rt.current!.ram));
      await rt.close();
    }
    assert.equal(hashes[0], hashes[1]);
    assert.notEqual(hashes[0], hashes[2]);
  });

  test('two agents: the gate waits for both, and each drives its own controller', async () => {
    const { rt } = make([
      script({ act: () => ['RIGHT'] }),
      script({ act: async () => { await sleep(2); return ['LEFT']; } }),
    ]);
    const first = await rt.start();
    const before = RAM_MAP.read(first.ram);
    for (let i = 0; i < 30; i++) await rt.advance();
    const after = RAM_MAP.read(rt.current!.ram);
    assert.ok(after.p1_x > before.p1_x, 'controller 1 moved right');
    assert.ok(after.p2_x < before.p2_x, 'controller 2 moved left');
    assert.deepEqual(rt.lastAppliedButtons, [BUTTON.RIGHT, BUTTON.LEFT]);
    await rt.close();
  });
});

/**
 * The embedded emulator with FCEUX's kind of screen: converted when first read. Counts the reads of each frame's screen
 * and notes, at every step, whether the frame being run had its screen read yet.
 */
class LazyScreenEmulator extends InProcessEmulator {
  reads = new Map<number, number>();
  readBeforeStep: boolean[] = [];
  private held?: EmulatorFrame;
  private lazy(f: EmulatorFrame): EmulatorFrame {
    const pixels = f.screen;
    const out: EmulatorFrame = { frame: f.frame, timestamp: f.timestamp, ram: f.ram, lag: f.lag };
    if (pixels) {
      Object.defineProperty(out, 'screen', {
        enumerable: true,
        get: () => {
          this.reads.set(f.frame, (this.reads.get(f.frame) ?? 0) + 1);
          return pixels;
        },
      });
    }
    this.held = out;
    return out;
  }
  override async start(romPath: string, options?: StepOptions) {
    const r = await super.start(romPath, options);
    return { rom: r.rom, first: this.lazy(r.first) };
  }
  override step(buttons: ButtonPair, options?: StepOptions): Promise<EmulatorFrame> {
    if (this.held) this.readBeforeStep.push(this.reads.has(this.held.frame));
    return super.step(buttons, options).then((f) => this.lazy(f));
  }
}

describe('runtime: an agent behind a link is sent the next frame before the row is recorded', () => {
  /** A trainer stand-in: answers heartbeats (so the runtime takes it for an agent behind a link) and logs what it sees when. */
  class LinkedAgent implements AgentPort {
    readonly name = 'linked';
    readonly wantsScreen = false;
    readonly log: string[] = [];
    async act(o: { frame: number; step: number }): Promise<{ frame: number; buttons: number }> {
      this.log.push(`obs ${o.frame} step ${o.step}`);
      return { frame: o.frame, buttons: 0 };
    }
    async heartbeat(): Promise<boolean> {
      return true;
    }
    episodeEnd(end: EpisodeEnd): void {
      this.log.push(`end ${end.episode}`);
    }
    async close(): Promise<void> {}
  }

  test('its observation of frame N+1 goes out before frame N\'s row; rows, frames and episode ends are unchanged', async () => {
    const agent = new LinkedAgent();
    const sink = new MemorySink();
    const log = agent.log;
    const { rt, desyncs } = make([agent], { maxSteps: 5, sink });
    const original = sink.addRow.bind(sink);
    sink.addRow = (row) => {
      log.push(`row ${row.frame}`);
      original(row);
    };
    const first = await rt.start();
    const f = first.frame;
    for (let i = 0; i < 6; i++) await rt.advance();
    assert.deepEqual(log.slice(0, 7), [`obs ${f} step 0`, `obs ${f + 1} step 1`, `row ${f}`, `obs ${f + 2} step 2`, `row ${f + 1}`, `obs ${f + 3} step 3`, `row ${f + 2}`]);
    // The episode's last frame: no early observation of the frame after it (the next episode starts from its start state).
    const end = log.indexOf(`end ${sink.ends[0].episode}`);
    assert.deepEqual(log.slice(end - 3, end + 2), [`obs ${f + 4} step 4`, `row ${f + 3}`, `row ${f + 4}`, `end ${sink.ends[0].episode}`, `obs ${sink.rows[5].frame} step 0`]);
    assert.deepEqual(sink.rows.slice(0, 5).map((r) => [r.frame, r.step]), [0, 1, 2, 3, 4].map((i) => [f + i, i]));
    assert.equal(desyncs.length, 0);
    await rt.close();
  });

  test('an agent in this process is asked when the next frame is advanced, not earlier', async () => {
    const seen: number[] = [];
    const { rt } = make([script({ act: (o) => { seen.push(o.frame); return 0; } })]);
    const first = await rt.start();
    await rt.advance();
    await rt.advance();
    assert.deepEqual(seen, [first.frame, first.frame + 1]);
    await rt.close();
  });
});

describe('runtime: eager advance (the next frame\'s step goes out before this frame\'s bookkeeping)', () => {
  /** Rows as a dataset sees them, without wall-clock fields. */
  const rowKey = (r: FrameRow) => JSON.stringify([r.episode, r.step, r.frame, r.buttons, r.rewards, r.terminated, r.truncated, r.vars, r.ramFingerprint]);

  async function run(eager: boolean, frames: number, opts: { emulator?: InProcessEmulator; agent?: AgentPort } = {}) {
    const sink = new MemorySink();
    const { rt, desyncs } = make([opts.agent ?? new RandomAgent({ seed: 7 })], { maxSteps: 40, sink, emulator: opts.emulator });
    await rt.start();
    let inFlight = 0;
    for (let i = 0; i < frames; i++) {
      const o = await rt.advance({ eager: eager && i < frames - 1 });
      assert.equal(o.advanced, true);
      if (rt.inFlight) inFlight++;
      // An episode's last frame never sends the next step: the next episode starts from its start state.
      if (o.episodeEnd) assert.equal(rt.inFlight, false, `frame ${o.frame}: a step is out after the episode ended`);
    }
    assert.equal(await rt.settle(), undefined, 'the last advance was not eager: nothing to settle');
    const out = { rows: sink.rows.map(rowKey), ends: sink.ends.map((e) => [e.episode, e.reason, e.rows]), final: ramHash(rt.current!.ram), inFlight, desyncs: desyncs.length };
    await rt.close();
    return out;
  }

  test('records exactly the rows, episode ends and final state of a frame-by-frame run', async () => {
    const plain = await run(false, 130);
    const eager = await run(true, 130);
    assert.equal(plain.rows.length, 130);
    assert.deepEqual(eager.rows, plain.rows);
    assert.deepEqual(eager.ends, plain.ends);
    assert.equal(plain.ends.length, 3);
    assert.equal(eager.final, plain.final);
    assert.equal(plain.inFlight, 0);
    // Every advance but the last and the three episode ends left the next step out.
    assert.equal(eager.inFlight, 130 - 1 - 3);
    assert.equal(eager.desyncs, 0);
  });

  test('an emulator that takes frames in as they arrive gets the next step from inside the arrival: the same rows, ends and final state', async () => {
    const plain = await run(false, 130);
    const emulator = new InProcessEmulator();
    const counts = arriving(emulator);
    const eager = await run(true, 130, { emulator });
    assert.deepEqual(eager.rows, plain.rows);
    assert.deepEqual(eager.ends, plain.ends);
    assert.equal(eager.final, plain.final);
    assert.equal(eager.desyncs, 0);
    // Every step that was out after an advance left from inside its frame's arrival (the random agent decides at once).
    assert.equal(eager.inFlight, 130 - 1 - 3);
    assert.equal(counts.sentFromArrival, eager.inFlight);
  });

  test('an agent that answers through a promise: frames are taken in on arrival, but the step waits for the answer', async () => {
    const buttons = (o: { frame: number }) => (o.frame * 7) & BUTTON.RIGHT;
    const plain = await run(false, 90, { agent: script({ act: buttons }) });
    const emulator = new InProcessEmulator();
    const counts = arriving(emulator);
    const eager = await run(true, 90, { emulator, agent: script({ act: buttons }) });
    assert.deepEqual(eager.rows, plain.rows);
    assert.ok(counts.arrivals > 80, `arrivals taken in: ${counts.arrivals}`);
    assert.equal(counts.sentFromArrival, 0);
    assert.equal(eager.inFlight, 90 - 1 - 2);
  });

  test('a failure while a frame is taken in on arrival rejects that advance with its message', async () => {
    const ramMap: RamMap = Object.create(RAM_MAP);
    let rewards = 0;
    ramMap.reward = (...args) => {
      if (++rewards === 9) throw new Error('reward read failed');
      return RAM_MAP.reward(...args);
    };
    const emulator = new InProcessEmulator();
    const counts = arriving(emulator);
    const { rt } = make([new RandomAgent({ seed: 3 })], { emulator, ramMap });
    await rt.start();
    let advanced = 0;
    await assert.rejects(async () => {
      for (let i = 0; i < 10; i++) {
        await rt.advance({ eager: true });
        advanced++;
      }
    }, /reward read failed/);
    // Two rewards per frame: the fifth frame's arrival failed.
    assert.equal(advanced, 4);
    assert.ok(counts.sentFromArrival >= 3);
    await rt.close();
  });

  test('the step of frame N+1 is sent before frame N\'s row is recorded; the next advance takes it over', async () => {
    const log: string[] = [];
    const sink = new MemorySink();
    const original = sink.addRow.bind(sink);
    sink.addRow = (row) => {
      log.push(`row ${row.frame}`);
      original(row);
    };
    const { rt } = make([new RandomAgent({ seed: 1 })], { sink });
    const f = (await rt.start()).frame;
    const emulator = (rt as unknown as { deps: { emulator: InProcessEmulator } }).deps.emulator;
    const step = emulator.step.bind(emulator);
    emulator.step = (b: ButtonPair, o?: StepOptions) => {
      log.push(`step ${rt.current!.frame}`);
      return step(b, o);
    };
    await rt.advance({ eager: true });
    assert.deepEqual(log, [`step ${f}`, `step ${f + 1}`, `row ${f}`]);
    assert.equal(rt.inFlight, true);
    assert.equal(rt.current!.frame, f + 1);
    await rt.advance({ eager: true });
    assert.deepEqual(log.slice(3), [`step ${f + 2}`, `row ${f + 1}`], 'no second step for frame N+1: the launched one was taken over');
    const settled = await rt.settle();
    assert.equal(settled?.frame, f + 3);
    assert.deepEqual(log.slice(5), [`row ${f + 2}`]);
    assert.equal(rt.inFlight, false);
    await rt.close();
  });

  test('a RAM write after an eager advance lets the step that is out finish first: its row is kept, the write lands on the frame after', async () => {
    const sink = new MemorySink();
    const { rt } = make([new RandomAgent({ seed: 2 })], { sink });
    const f = (await rt.start()).frame;
    await rt.advance({ eager: true });
    assert.equal(rt.inFlight, true);
    const fresh = await rt.writeRam(0x0300, Uint8Array.of(0xab));
    assert.equal(rt.inFlight, false);
    assert.equal(fresh.frame, f + 2);
    assert.equal(rt.current!.ram[0x0300], 0xab);
    assert.deepEqual(sink.rows.map((r) => r.frame), [f, f + 1]);
    await rt.close();
  });

  test('a desync keeps the next frame held at the gate: nothing is sent ahead of a stop', async () => {
    let n = 0;
    // Answers frame 5 of the run for a frame far ahead (frame_skip), everything else correctly.
    const agent = script({ act: (o) => { n++; return n === 5 ? { frame: o.frame + 9, buttons: 0 } : 0; } });
    const { rt, desyncs } = make([agent]);
    await rt.start();
    const inFlight: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      await rt.advance({ eager: true });
      inFlight.push(rt.inFlight);
    }
    assert.ok(desyncs.length > 0, 'the wrong frame was seen as a desync');
    assert.deepEqual(inFlight.slice(0, 3), [true, true, true]);
    assert.equal(inFlight[3], false, 'the advance that saw the desync sent nothing ahead');
    await rt.close();
  });
});

describe('runtime: screens nobody looks at', () => {
  test('a screen no agent wants is read only for its fingerprint, after the next action went out; the row still has it', async () => {
    const emu = new LazyScreenEmulator();
    const sink = new MemorySink();
    const rt = new LockstepRuntime(
      { emulator: emu, agents: [new RandomAgent({ seed: 2 })], ramMap: RAM_MAP, sync: defaultSyncConfig() },
      { romPath: ROM, captureScreens: true, recorder: sink },
    );
    await rt.start();
    emu.readBeforeStep = [];
    const screens = new Map<number, Uint8Array>();
    for (let i = 0; i < 30; i++) {
      const cur = rt.current!;
      assert.ok(hasScreen(cur), 'the held frame carries a screen');
      assert.equal(emu.reads.get(cur.frame), undefined, `frame ${cur.frame}: its screen was read before the frame ran`);
      await rt.advance();
      screens.set(cur.frame, cur.screen!);
    }
    assert.deepEqual(emu.readBeforeStep, Array(30).fill(false), 'no held screen is read before its action is sent');
    assert.equal(sink.rows.length, 30);
    for (const row of sink.rows) assert.equal(row.screenFingerprint, shortHash(screens.get(row.frame)!), `frame ${row.frame}`);
    // The buffer still hands the screen out to whoever asks (panels, step back).
    const held = rt.current!;
    assert.equal(rt.buffer.pair(held.frame)?.screen, held.screen);
    await rt.close();
  });

  test('without a recording nobody reads a screen nobody looks at: no fingerprint, no conversion; a recorded run still has it', async () => {
    const emu = new LazyScreenEmulator();
    const rows: FrameRow[] = [];
    const rt = new LockstepRuntime(
      { emulator: emu, agents: [new RandomAgent({ seed: 2 })], ramMap: RAM_MAP, sync: defaultSyncConfig() },
      { romPath: ROM, captureScreens: true },
    );
    rt.events.on('frame', ({ row }) => rows.push(row));
    await rt.start();
    for (let i = 0; i < 30; i++) await rt.advance();
    assert.equal(rows.length, 30);
    assert.ok(hasScreen(rt.current!), 'screens are still captured');
    assert.equal(emu.reads.size, 0, 'no screen was read');
    assert.ok(rows.every((r) => r.screenFingerprint === undefined && typeof r.ramFingerprint === 'string'));
    // Whoever looks (a panel) still gets the held frame's screen.
    assert.equal(rt.buffer.pair(rt.current!.frame)?.screen?.length, 256 * 240 * 4);
    await rt.close();
  });

  test('hasScreen tells a frame with a screen (plain or converted on first read) from one without, reading nothing', () => {
    const base = { frame: 1, timestamp: 0, ram: new Uint8Array(2048), lag: false };
    let reads = 0;
    const lazy = Object.defineProperty({ ...base }, 'screen', { enumerable: true, get: () => { reads++; return new Uint8Array(4); } });
    assert.equal(hasScreen(lazy as EmulatorFrame), true);
    assert.equal(reads, 0);
    assert.equal(hasScreen({ ...base, screen: new Uint8Array(4) }), true);
    assert.equal(hasScreen(base), false);
    assert.equal(hasScreen({ ...base, screen: undefined }), false);
  });
});

describe('runtime: what agents send with their actions', () => {
  test('an action\'s info is recorded in the row of the frame it answered, per controller; frames without one get {}', async () => {
    const sink = new MemorySink();
    const { rt } = make([
      script({ act: (o) => ({ buttons: 0, frame: o.frame, info: o.step % 2 === 0 ? { value: o.step / 10 } : undefined }) }),
      script({ act: (o) => ({ buttons: 0, frame: o.frame, info: o.step === 1 ? { note: 'two' } : undefined }) }),
    ], { sink });
    await rt.start();
    for (let i = 0; i < 4; i++) await rt.advance();
    await rt.close();
    assert.deepEqual(sink.rows.map((r) => r.info), [{ p1: { value: 0 } }, { p2: { note: 'two' } }, { p1: { value: 0.2 } }, {}]);
  });

  test('run-ahead: the info reaches the row of the frame it answered, and never another episode\'s rows', async () => {
    const sink = new MemorySink();
    // Slow and changing its mind every 3 steps: frames run on predicted input, then roll back when the answer differs.
    const { rt } = make([script({
      act: async (o) => {
        await sleep(1);
        return { buttons: o.step % 3 === 0 ? BUTTON.RIGHT : 0, frame: o.frame, info: { step: o.step, episode: o.episode } };
      },
    })], { sync: { mode: 'runahead' }, maxSteps: 20, sink });
    await rt.start();
    while (sink.ends.length < 2) await rt.advance();
    await rt.close();
    const rows = sink.rows.filter((r) => r.episode < 2);
    assert.equal(rows.length, 40);
    // Frames the slow agent never answered ran with held buttons (held: true): they carry no info; every answered one
    // carries the info of exactly its own step and episode.
    assert.deepEqual(rows.map((r) => r.info), rows.map((r) => (r.held[0] ? {} : { p1: { step: r.step, episode: r.episode } })));
    for (const ep of [0, 1]) assert.ok(rows.filter((r) => r.episode === ep && !r.held[0]).length >= 3, 'answered rows in every episode');
  });
});

describe('runtime: closing', () => {
  test('closing while an agent is asked rejects its act, and that is no fault: no error is logged, none is raised', async () => {
    let rejectAct: ((e: Error) => void) | undefined;
    const agent: AgentPort = {
      name: 'slow',
      wantsScreen: false,
      act: () => new Promise((_, reject) => { rejectAct = reject; }),
      // Like WebSocketAgent: closing rejects the act in flight.
      close: async () => rejectAct?.(new Error('websocket(controller 1) closed')),
    };
    const { rt } = make([agent]);
    const logs: string[] = [];
    rt.events.on('log', (e) => { if (e.level === 'error') logs.push(e.message); });
    await rt.start();
    const advancing = rt.advance().then(() => 'advanced', (e: Error) => e.message);
    await sleep(30);
    rt.interruptWait();
    await rt.close();
    await advancing;
    assert.deepEqual(logs, []);
  });
});

describe('runtime: desync detection and recovery (the seed\'s scenarios)', () => {
  test('gap > maxFrameSkip is frame_skip; recovery resyncs and the frame still runs with the right action', async () => {
    let calls = 0;
    const { rt, desyncs } = make([script({ act: (o) => ({ buttons: 0, frame: ++calls === 1 ? o.frame + 5 : o.frame }) })]);
    const first = await rt.start();
    const o = await rt.advance();
    assert.equal(o.advanced, true);
    assert.equal(o.frame, first.frame + 1);
    assert.equal(desyncs.length, 1);
    assert.equal(desyncs[0].type, 'frame_skip');
    assert.equal(desyncs[0].gap, 5);
    assert.equal(desyncs[0].expectedFrame, first.frame);
    assert.equal(desyncs[0].receivedFrame, first.frame + 5);
    assert.match(desyncs[0].recovery ?? '', /resync/);
    assert.equal(calls, 2, 'the agent was sent the held state again');
    assert.deepEqual(o.desyncs.map((d) => d.type), ['frame_skip']);
    await rt.close();
  });

  test('a negative gap is frame_rewind and a gap of 1..2 is minor_skip', async () => {
    const offsets = [-1, 2];
    let i = 0;
    const { rt, desyncs } = make([script({ act: (o) => ({ buttons: 0, frame: o.frame + (i < offsets.length ? offsets[i++] : 0) }) })]);
    await rt.start();
    await rt.advance();
    assert.deepEqual(desyncs.map((d) => [d.type, d.gap]), [['frame_rewind', -1], ['minor_skip', 2]]);
    await rt.close();
  });

  test('a late action is a timeout; strict lockstep still waits and applies the agent\'s own action', async () => {
    let n = 0;
    const { rt, desyncs } = make([script({ act: async () => { if (n++ === 0) await sleep(80); return ['RIGHT']; } })], { sync: { frameTimeoutMs: 20 } });
    await rt.start();
    const o = await rt.advance();
    assert.equal(o.advanced, true);
    assert.ok(desyncs.some((d) => d.type === 'timeout'), 'timeout reported');
    assert.equal(o.row?.buttons[0], BUTTON.RIGHT);
    assert.equal(o.row?.held[0], false);
    assert.match(desyncs.find((d) => d.type === 'timeout')!.recovery ?? '', /heartbeat/);
    await rt.close();
  });

  test('frame hold: a late agent\'s controller keeps its previous buttons and its stale answer is dropped, not a rewind', async () => {
    let n = 0;
    const { rt, desyncs } = make([script({ act: async () => { n++; if (n === 3) await sleep(90); return ['RIGHT']; } })], { sync: { frameTimeoutMs: 15, onTimeout: 'skip' } });
    await rt.start();
    const rows: FrameRow[] = [];
    for (let i = 0; i < 6; i++) rows.push((await rt.advance()).row!);
    await sleep(100);
    for (let i = 0; i < 3; i++) rows.push((await rt.advance()).row!);
    assert.ok(rows.some((r) => r.held[0]), 'some frame ran with held buttons');
    assert.ok(rows.filter((r) => r.held[0]).every((r) => r.buttons[0] === BUTTON.RIGHT), 'held = previous buttons');
    assert.ok(!desyncs.some((d) => d.type === 'frame_rewind'), 'no rewind from the stale answer');
    assert.ok(desyncs.some((d) => d.type === 'timeout'));
    await rt.close();
  });

  test('an agent that keeps skipping frames makes recovery give up with a clear fault after maxDesyncCount', async () => {
    const { rt, desyncs } = make([script({ act: (o) => ({ buttons: 0, frame: o.frame + 10 }) })], { sync: { maxDesyncCount: 3 } });
    await rt.start();
    await assert.rejects(rt.advance(), (e: unknown) => e instanceof RuntimeFault && /giving up/.test((e as Error).message));
    assert.ok(desyncs.length >= 3 && desyncs.every((d) => d.type === 'frame_skip'));
    await rt.close();
  });

  test('an agent that throws stops the run with its name and message', async () => {
    const { rt } = make([script({ act: () => { throw new Error('policy exploded'); } })]);
    await rt.start();
    await assert.rejects(rt.advance(), /scripted\(test\).*policy exploded/);
    await rt.close();
  });
});

describe('runtime: episodes', () => {
  test('maxSteps truncates at exactly maxSteps rows; the next episode starts from the start state', async () => {
    const sink = new MemorySink();
    const { rt } = make([new RandomAgent({ seed: 1 })], { maxSteps: 50, sink });
    const first = await rt.start();
    for (let i = 0; i < 120; i++) await rt.advance();
    assert.equal(sink.ends.length, 2);
    assert.deepEqual(sink.ends.map((e) => [e.rows, e.reason, e.terminationFrame]), [[50, 'max_steps', first.frame + 50], [50, 'max_steps', first.frame + 50]]);
    const ep0 = sink.rows.filter((r) => r.episode === 0);
    assert.equal(ep0.length, 50);
    assert.deepEqual(ep0.map((r) => r.step), Array.from({ length: 50 }, (_, i) => i));
    assert.equal(ep0.at(-1)!.truncated, true);
    assert.equal(rt.episodeIndex, 2);
    assert.equal(rt.stepIndex, 20);
    await rt.close();
  });

  test('the RAM done flag ends the episode with terminated on its last row', async () => {
    const sink = new MemorySink();
    const { rt } = make([script({ act: () => 0 })], { sink });
    await rt.start();
    let end: EpisodeEnd | undefined;
    for (let i = 0; i < 3000 && !end; i++) end = (await rt.advance()).episodeEnd;
    assert.ok(end, 'episode ended');
    assert.equal(end.reason, 'done_flag');
    assert.equal(sink.rows.length, end.rows);
    assert.equal(sink.rows.at(-1)!.terminated, true);
    assert.equal(sink.rows.filter((r) => r.terminated).length, 1);
    await rt.close();
  });

  test('a trainer\'s terminate fixes the termination after that frame\'s row', async () => {
    const sink = new MemorySink();
    const { rt } = make([script({ act: () => 0 })], { sink });
    const first = await rt.start();
    rt.agentTerminated(first.frame + 9);
    let end: EpisodeEnd | undefined;
    for (let i = 0; i < 20 && !end; i++) end = (await rt.advance()).episodeEnd;
    assert.equal(end?.reason, 'agent_terminated');
    assert.equal(end?.rows, 10);
    await rt.close();
  });
});

describe('runtime: step back and manual input', () => {
  test('step back restores RAM, frame id, step counter and recorded rows', async () => {
    const sink = new MemorySink();
    const { rt } = make([new RandomAgent({ seed: 9 })], { stepBackDepth: 10, sink });
    const first = await rt.start();
    const hashes = [ramHash(first.ram)];
    for (let i = 0; i < 3; i++) {
      await rt.advance();
      hashes.push(ramHash(rt.current!.ram));
    }
    assert.equal(rt.current!.frame, first.frame + 3);
    const back = await rt.stepBack(1);
    assert.equal(back.frame, first.frame + 2);
    assert.equal(ramHash(back.ram), hashes[2]);
    assert.equal(rt.stepIndex, 2);
    assert.equal(sink.rows.length, 2);
    await rt.stepBack(2);
    assert.equal(rt.current!.frame, first.frame);
    assert.equal(ramHash(rt.current!.ram), hashes[0]);
    await assert.rejects(rt.stepBack(1), /nothing to step back to/);
    assert.deepEqual(rt.buffer.states().map((s) => s.frame).filter((f) => f > first.frame), [], 'buffer holds no frames from the abandoned timeline');
    await rt.close();
  });

  test('pause-until-action: with no agent replying, a hand-supplied action releases the frame', async () => {
    const never = script({ act: () => new Promise<number>(() => undefined) });
    const { rt } = make([never], { sync: { frameTimeoutMs: 1_000_000 } });
    const first = await rt.start();
    const pending = rt.advance();
    await sleep(20);
    assert.deepEqual(rt.gateStatus?.waitingFor, [0]);
    assert.equal(rt.gateStatus?.frame, first.frame);
    rt.supplyAction(BUTTON.RIGHT);
    const o = await pending;
    assert.equal(o.advanced, true);
    assert.equal(o.row?.buttons[0], BUTTON.RIGHT);
    assert.equal(o.row?.manual[0], true);
    await rt.close();
  });

  test('interruptWait returns without advancing and keeps the frame held', async () => {
    const { rt } = make([script({ act: () => new Promise<number>(() => undefined) })], { sync: { frameTimeoutMs: 1_000_000 } });
    const first = await rt.start();
    const pending = rt.advance();
    await sleep(10);
    rt.interruptWait();
    const o = await pending;
    assert.equal(o.advanced, false);
    assert.equal(o.frame, first.frame);
    assert.equal(rt.current!.frame, first.frame);
    await rt.close();
  });

  test('without agents, buttons come from supplyAction (given between frames)', async () => {
    const { rt } = make([]);
    const first = await rt.start();
    const x0 = RAM_MAP.read(first.ram).p1_x;
    for (let i = 0; i < 10; i++) {
      rt.supplyAction(BUTTON.RIGHT, 0);
      await rt.advance();
    }
    assert.ok(RAM_MAP.read(rt.current!.ram).p1_x > x0);
    await rt.close();
  });
});

describe('runtime: screen capture follows whoever shows screens', () => {
  const makeWith = (captureScreens: boolean | undefined) => new LockstepRuntime(
    { emulator: new InProcessEmulator(), agents: [script({ act: () => 0 })], ramMap: RAM_MAP, sync: defaultSyncConfig() },
    { romPath: ROM, captureScreens },
  );

  test('no captureScreens: none while nothing shows them; on at once for the held frame when shown, off again from the next frame', async () => {
    const rt = makeWith(undefined);
    try {
      const first = await rt.start();
      assert.equal(rt.wantsScreens, false);
      assert.equal(hasScreen(first), false, 'nobody shows screens: none captured');
      await rt.advance();
      assert.equal(hasScreen(rt.current!), false);
      assert.equal(rt.setScreensShown(true), true);
      const held = rt.current!;
      const refreshed = await rt.refreshScreen();
      assert.equal(refreshed?.frame, held.frame, 'the same frame, now with its screen');
      assert.equal(hasScreen(rt.current!), true);
      assert.equal(rt.current!.screen!.length, 256 * 240 * 4);
      assert.ok(rt.buffer.pair(held.frame)?.syncQualityMs === 0, 'the buffer pairs the held state with its own screen');
      await rt.advance();
      assert.equal(hasScreen(rt.current!), true, 'frames run while shown carry screens');
      assert.equal(rt.setScreensShown(false), false);
      await rt.advance();
      assert.equal(hasScreen(rt.current!), false, 'capture stops with the last panel');
      assert.equal(await rt.refreshScreen(), rt.current, 'refreshScreen does nothing while screens are not wanted');
      assert.equal(hasScreen(rt.current!), false);
    } finally {
      await rt.close();
    }
  });

  test('"captureScreens": false never captures, even when shown; true always does', async () => {
    const off = makeWith(false);
    const on = makeWith(true);
    try {
      await off.start();
      assert.equal(off.setScreensShown(true), false);
      await off.refreshScreen();
      await off.advance();
      assert.equal(hasScreen(off.current!), false);
      assert.equal(off.screenCaptureSetting, false);
      assert.equal(hasScreen(await on.start()), true);
      assert.equal(on.setScreensShown(false), true);
      await on.advance();
      assert.equal(hasScreen(on.current!), true);
    } finally {
      await off.close();
      await on.close();
    }
  });
});
