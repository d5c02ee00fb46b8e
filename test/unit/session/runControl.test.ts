// Tests for RunControl without a DAP client: the real runtime on the demo ROM (jsnes in process) with the real breakpoint set.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InProcessEmulator } from '../../../src/emulators/embedded/embeddedEmulator';
import { LockstepRuntime } from '../../../src/core/runtime/runtime';
import { defaultSyncConfig, mergeSyncConfig, type SyncConfig } from '../../../src/core/config/config';
import { parseRamMap } from '../../../src/core/config/ramMap';
import { ScriptedAgent, type ScriptModule } from '../../../src/agents/scriptedAgent';
import type { AgentPort } from '../../../src/core/ports';
import { BUTTON } from '../../../src/core/buttons';
import type { DesyncEvent } from '../../../src/core/sync/desyncDetector';
import { BreakpointSet, dataIdFor } from '../../../src/debugAdapter/breakpoints';
import { StateScope } from '../../../src/debugAdapter/stateScope';
import { RunControl, type CheckedState, type StopInfo } from '../../../src/session/runControl';

const ROOT = join(__dirname, '..', '..', '..');
const ROM = join(ROOT, 'roms', 'demo', 'demo.nes');
const RAM_MAP = parseRamMap(readFileSync(join(ROOT, 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');

const script = (m: ScriptModule) => new ScriptedAgent(m, 'test');
/** An agent that never answers: the gate waits for it until the run is paused or someone presses buttons by hand. */
const silent = () => script({ act: () => new Promise<number>(() => undefined) });

interface Setup {
  agents?: Array<AgentPort | undefined>;
  sync?: Partial<SyncConfig>;
  maxSteps?: number;
  stepBackDepth?: number;
  pauseUntilAction?: boolean;
  /** Keep the session history (time travel) instead of the step-back ring. */
  history?: boolean;
}

/** Wires a started runtime to RunControl the way the debug session does, and records what run control reports. */
async function setup(o: Setup = {}) {
  const sync = mergeSyncConfig(defaultSyncConfig(), o.sync ?? {});
  const agents = o.agents ?? [script({ act: () => 0 })];
  const rt = new LockstepRuntime(
    { emulator: new InProcessEmulator(), agents, ramMap: RAM_MAP, sync },
    { romPath: ROM, maxSteps: o.maxSteps ?? null, stepBackDepth: o.stepBackDepth ?? 0, ...(o.history ? { history: {} } : {}) },
  );
  const rc = new RunControl({ waitNoticeMs: 50, statusIntervalMs: 1000 });
  const stops: StopInfo[] = [];
  const output: string[] = [];
  const running: boolean[] = [];
  const rewound: number[] = [];
  const shown: number[] = [];
  rc.events.on('stopped', (s) => stops.push(s));
  rc.events.on('output', (e) => output.push(e.text));
  rc.events.on('running', (e) => running.push(e.announce));
  rc.events.on('rewound', (e) => rewound.push(e.frame));
  rc.ticker.events.on('waiting', (e) => {
    if (e.first) shown.push(e.info.frame);
  });
  rc.starting({ pauseUntilAction: o.pauseUntilAction ?? false, stepBackDepth: o.stepBackDepth ?? 0 });
  const first = (await rt.start()).frame;
  const bps = new BreakpointSet(RAM_MAP);
  const scope = (ev?: DesyncEvent, at?: CheckedState) => new StateScope(RAM_MAP, at ?? { frame: rt.current!.frame, episode: rt.episodeIndex, step: rt.stepIndex, ram: rt.current!.ram }, ev);
  rc.attach(rt, {
    rebase: () => bps.rebase(scope()),
    get hasFrameChecks() {
      return bps.hasFrameChecks;
    },
    checkFrame: (before, after, at) => bps.checkFrame(before, after, scope(undefined, at)),
    desyncStops: (ev, at) => bps.desyncStops(ev, scope(ev, at)),
  }, agents);
  rt.events.on('desync', (ev) => rc.noteDesync(ev));
  rc.stopAt('entry');
  /** The next stop after the ones seen so far. */
  const nextStop = async (timeoutMs = 20_000): Promise<StopInfo> => {
    const seen = stops.length;
    const until = Date.now() + timeoutMs;
    while (stops.length === seen) {
      if (Date.now() > until) throw new Error(`no stop within ${timeoutMs} ms (state ${rc.state}, frame ${rt.current?.frame})`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return stops[seen];
  };
  const close = async () => {
    await rc.halt();
    await rt.close();
  };
  return { rt, rc, bps, scope, first, stops, output, running, rewound, shown, nextStop, close };
}

describe('RunControl', () => {
  test('frames N: runs exactly N frames, then stops with reason step', async () => {
    const s = await setup();
    assert.equal(s.rc.state, 'stopped');
    const stop = s.nextStop();
    s.rc.run({ kind: 'frames', count: 7 }, true);
    assert.equal(s.rc.state, 'running');
    assert.deepEqual(s.running, [true]);
    assert.equal((await stop).reason, 'step');
    assert.equal(s.rt.current!.frame, s.first + 7);
    assert.equal(s.rc.framesRun, 7);
    assert.equal(s.rc.state, 'stopped');
    assert.ok(s.rc.runningMs > 0);
    await s.close();
  });

  test('continue stops where a function breakpoint becomes true, naming its id', async () => {
    const s = await setup();
    const [bp] = s.bps.setFunctionBreakpoints([{ name: `frame == ${s.first + 25}` }], s.scope());
    assert.equal(bp.verified, true);
    const stop = s.nextStop();
    s.rc.run({ kind: 'continue' }, false);
    const st = await stop;
    assert.equal(st.reason, 'function breakpoint');
    assert.deepEqual(st.hitBreakpointIds, [bp.id]);
    assert.equal(s.rt.current!.frame, s.first + 25);
    await s.close();
  });

  test('continue with nothing to check runs eagerly; frames N and pause still stop exactly, with no step left out', async () => {
    const s = await setup();
    let eagerFrames = 0;
    s.rt.events.on('frame', () => {
      if (s.rt.inFlight) eagerFrames++;
    });
    let stop = s.nextStop();
    s.rc.run({ kind: 'frames', count: 300 }, true);
    assert.equal((await stop).reason, 'step');
    assert.equal(s.rt.current!.frame, s.first + 300);
    assert.equal(s.rt.inFlight, false);
    assert.ok(eagerFrames > 200, `the next step went out early on most frames (${eagerFrames} of 300)`);
    stop = s.nextStop();
    s.rc.run({ kind: 'continue' }, false);
    while (s.rc.framesRun < 500) await new Promise((r) => setTimeout(r, 5));
    s.rc.pause();
    const st = await stop;
    assert.equal(st.reason, 'pause');
    assert.equal(s.rt.inFlight, false);
    assert.equal(st.description, `Paused at frame ${s.rt.current!.frame}`);
    assert.equal(s.rc.framesRun, s.rt.current!.frame - s.first, 'every frame that ran was counted, the settled one too');
    await s.close();
  });

  test('a function breakpoint set during an eager run stops exactly where it becomes true', async () => {
    const s = await setup();
    const stop = s.nextStop();
    s.rc.run({ kind: 'continue' }, false);
    while (s.rc.framesRun < 100) await new Promise((r) => setTimeout(r, 2));
    const target = s.rt.current!.frame + 300;
    const [bp] = s.bps.setFunctionBreakpoints([{ name: `frame == ${target}` }], s.scope());
    const st = await stop;
    assert.equal(st.reason, 'function breakpoint');
    assert.deepEqual(st.hitBreakpointIds, [bp.id]);
    assert.equal(s.rt.current!.frame, target);
    assert.equal(s.rt.inFlight, false);
    await s.close();
  });

  test('step out runs to the end of the episode and stops on the next episode\'s first frame', async () => {
    const s = await setup({ maxSteps: 20 });
    const stop = s.nextStop();
    s.rc.run({ kind: 'episode' }, false);
    const st = await stop;
    assert.equal(st.reason, 'step');
    assert.equal(st.description, 'Episode 0 ended (max_steps)');
    assert.equal(s.rt.episodeIndex, 1);
    assert.equal(s.rt.stepIndex, 0);
    assert.equal(s.rc.framesRun, 20);
    await s.close();
  });

  test('pause interrupts a wait for an agent that never answers; the frame stays held', async () => {
    const s = await setup({ agents: [silent()], sync: { frameTimeoutMs: 60_000 } });
    const stop = s.nextStop();
    s.rc.run({ kind: 'continue' }, false);
    while (s.rt.gateStatus === null) await new Promise((r) => setTimeout(r, 5));
    s.rc.pause();
    const st = await stop;
    assert.equal(st.reason, 'pause');
    assert.equal(st.description, `Paused at frame ${s.first}`);
    assert.equal(s.rt.current!.frame, s.first);
    assert.equal(s.rc.framesRun, 0);
    await s.close();
  });

  test('pause-until-action stops at a long wait; buttons given by hand then run the frame', async () => {
    const s = await setup({ agents: [silent()], sync: { frameTimeoutMs: 60_000 }, pauseUntilAction: true });
    const stop = s.nextStop();
    s.rc.run({ kind: 'continue' }, false);
    const st = await stop;
    assert.equal(st.reason, 'pause');
    assert.equal(st.description, `Waiting for an action: controller 1, frame ${s.first}`);
    assert.deepEqual(s.shown, [s.first]);
    const r = s.rc.supplyAction(BUTTON.A | BUTTON.RIGHT, 0);
    assert.deepEqual(r, { frame: s.first, players: [0], applied: 'queued' });
    const rows: number[][] = [];
    s.rt.events.on('frame', ({ row }) => rows.push(row.buttons));
    const next = s.nextStop();
    s.rc.run({ kind: 'frames', count: 1 }, false);
    assert.equal((await next).reason, 'step');
    assert.equal(s.rt.current!.frame, s.first + 1);
    assert.deepEqual(rows, [[BUTTON.A | BUTTON.RIGHT, 0]]);
    await s.close();
  });

  test('a desync that matches an exception filter stops the run with reason exception and keeps it as the last stop', async () => {
    // At the fifth frame the agent claims to answer a frame 10 ahead: a frame_skip.
    let asked = 0;
    const s = await setup({ agents: [script({ act: (o) => (++asked === 5 ? { buttons: 0, frame: o.frame + 10 } : 0) })] });
    s.bps.setExceptionFilters(['frame_skip'], []);
    const stop = s.nextStop();
    s.rc.run({ kind: 'continue' }, false);
    const st = await stop;
    assert.equal(st.reason, 'exception');
    assert.match(st.description ?? '', /^Desync: frame_skip at frame \d+$/);
    const last = s.rc.lastStop;
    assert.equal(last?.kind, 'desync');
    assert.equal(last?.kind === 'desync' ? last.event.type : undefined, 'frame_skip');
    await s.close();
  });

  test('an agent that fails stops the run for good: exception stop, fault kept, running refused, stepping back allowed', async () => {
    const s = await setup({ agents: [script({ act: () => { throw new Error('policy exploded'); } })] });
    const stop = s.nextStop();
    s.rc.run({ kind: 'continue' }, false);
    const st = await stop;
    assert.equal(st.reason, 'exception');
    assert.match(st.text ?? '', /policy exploded/);
    assert.match(s.rc.fault ?? '', /policy exploded/);
    assert.equal(s.rc.lastStop?.kind, 'fault');
    assert.ok(s.output.some((l) => l.startsWith('The run stopped:')));
    assert.match(s.rc.cannotRun() ?? '', /^The run stopped: .*policy exploded.*Restart the debug session to run again\.$/);
    assert.equal(s.rc.cannotRun(true), undefined);
    await s.close();
  });

  test('reverse steps back frame by frame to the oldest kept frame; step back N says where it went', async () => {
    const s = await setup({ stepBackDepth: 50 });
    let stop = s.nextStop();
    s.rc.run({ kind: 'frames', count: 12 }, false);
    await stop;
    const { from, to } = await s.rc.stepBack(2);
    assert.deepEqual([from, to], [s.first + 12, s.first + 10]);
    stop = s.nextStop();
    s.rc.reverse();
    const st = await stop;
    assert.equal(st.reason, 'step');
    assert.equal(st.description, `Reached the oldest kept frame (${s.first})`);
    assert.deepEqual(s.rewound, Array.from({ length: 10 }, (_, i) => s.first + 9 - i));
    assert.throws(() => s.rc.reverse(), /No earlier frame kept: step back goes at most 50 frames back/);
    await s.close();
  });

  test('reverse stops at the newest frame whose data-breakpoint bytes differ from the frame after it', async () => {
    // Controller 1 holds RIGHT for 15 frames, then lets go: the paddle (p1_x) moves, then stays.
    const s = await setup({ stepBackDepth: 100, agents: [script({ act: (o) => (o.step < 15 ? BUTTON.RIGHT : 0) })] });
    const x = new Map<number, number>();
    s.rt.events.on('frame', ({ row, current }) => {
      x.set(row.frame, row.vars.p1_x);
      x.set(current.frame, RAM_MAP.read(current.ram).p1_x);
    });
    let stop = s.nextStop();
    s.rc.run({ kind: 'frames', count: 40 }, false);
    await stop;
    const changed = [...x.keys()].filter((f) => x.has(f + 1) && x.get(f) !== x.get(f + 1));
    assert.ok(changed.length > 0, 'the paddle moved');
    const expected = Math.max(...changed);
    assert.ok(expected < s.first + 39, 'and then stood still');
    const v = RAM_MAP.variables.find((x) => x.name === 'p1_x')!;
    const [bp] = s.bps.setDataBreakpoints([{ dataId: dataIdFor({ address: v.address, length: v.size, label: v.name }), accessType: 'write' }]);
    assert.equal(bp.verified, true);
    stop = s.nextStop();
    s.rc.reverse();
    const st = await stop;
    assert.equal(st.reason, 'data breakpoint');
    assert.deepEqual(st.hitBreakpointIds, [bp.id]);
    assert.match(st.description ?? '', /\(going back\)$/);
    assert.equal(s.rt.current!.frame, expected);
    await s.close();
  });

  test('with the session history, reverse searches the recorded past across episodes and travels once to where a condition becomes true', async () => {
    const s = await setup({ stepBackDepth: 50, maxSteps: 20, history: true });
    assert.ok(s.rt.sessionHistory, 'the runtime keeps the session history');
    let stop = s.nextStop();
    s.rc.run({ kind: 'frames', count: 50 }, false);
    await stop;
    assert.deepEqual([s.rt.episodeIndex, s.rt.stepIndex], [2, 10]);
    // Going back from episode 2, this becomes true first at episode 0, step 5 (it is false from step 6 on).
    const [bp] = s.bps.setFunctionBreakpoints([{ name: 'episode == 0 && step <= 5' }], s.scope());
    assert.equal(bp.verified, true);
    stop = s.nextStop();
    s.rc.reverse();
    const st = await stop;
    assert.equal(st.reason, 'function breakpoint');
    assert.deepEqual(st.hitBreakpointIds, [bp.id]);
    assert.match(st.description ?? '', /\(going back; episode 0, step 5, frame \d+\)$/);
    assert.deepEqual([s.rt.episodeIndex, s.rt.stepIndex], [0, 5]);
    assert.equal(s.rewound.length, 1, 'one travel, not a step back per frame');
    assert.equal(s.rt.replayingPast, true);
    // The past of a finished episode replays forward read-only.
    stop = s.nextStop();
    s.rc.run({ kind: 'frames', count: 3 }, false);
    await stop;
    assert.deepEqual([s.rt.episodeIndex, s.rt.stepIndex], [0, 8]);
    await assert.rejects(s.rt.writeRam(0x10, new Uint8Array([1])), /read-only past/);
    // With no breakpoint left, reverse goes to the oldest reachable frame of the session.
    s.bps.setFunctionBreakpoints([], s.scope());
    stop = s.nextStop();
    s.rc.reverse();
    assert.match((await stop).description ?? '', /^Reached the oldest kept frame \(\d+\) of the session history \(episode 0, step 0\)$/);
    assert.throws(() => s.rc.reverse(), /oldest reachable frame of the session history/);
    await s.close();
  });

  test('run requests are refused while running and before the session started; halt ends a loop without a stop', async () => {
    const fresh = new RunControl({ waitNoticeMs: 50, statusIntervalMs: 1000 });
    assert.equal(fresh.cannotRun(), 'The session has not started yet.');
    fresh.terminated();
    assert.equal(fresh.cannotRun(), 'The session has ended.');
    const s = await setup({ agents: [silent()], sync: { frameTimeoutMs: 60_000 } });
    s.rc.run({ kind: 'continue' }, false);
    assert.equal(s.rc.cannotRun(), 'The game is running: pause first.');
    const before = s.stops.length;
    await s.close();
    assert.equal(s.rc.terminating, true);
    assert.equal(s.stops.length, before, 'halting is not a stop');
  });
});
