// Faults with the real components: trainers killed, slow, frozen, wrong or hostile, FCEUX killed; the session holds, no row is lost or doubled, nobody gets in.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import WebSocket from 'ws';
import { BridgeServer } from '../../src/bridge/bridgeServer';
import { CLOSE, PROTOCOL_VERSION } from '../../src/bridge/protocol';
import { WebSocketAgent } from '../../src/agents/websocketAgent';
import { AgentLinkRouter } from '../../src/agents/agentLinkRouter';
import { RandomAgent } from '../../src/agents/randomAgent';
import { LockstepRuntime, RuntimeFault, type GateStatus } from '../../src/core/runtime/runtime';
import type { EpisodeEnd, FrameRow, RowSink } from '../../src/core/runtime/rows';
import type { DesyncEvent } from '../../src/core/sync/desyncDetector';
import { parseRamMap } from '../../src/core/config/ramMap';
import { defaultSyncConfig, mergeSyncConfig, type SyncConfig } from '../../src/core/config/config';
import { EmbeddedEmulator } from '../../src/emulators/embedded/embeddedEmulator';
import { FceuxEmulator } from '../../src/emulators/fceux/fceuxEmulator';
import type { EmulatorPort } from '../../src/core/ports';
import type { AgentPort } from '../../src/core/ports';
import { until, within } from './deadlines';
import { processAlive } from './processAlive';

const ROOT = join(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
const RANDOM_AGENT = join(ROOT, 'examples', 'python', 'random_agent.py');
const FAULT_TRAINER = join(ROOT, 'test', 'fixtures', 'fault_trainer.py');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');
const DEMO_ROM = join(ROOT, 'roms', 'demo', 'demo.nes');
const RAM_MAP = parseRamMap(readFileSync(join(ROOT, 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');
const TOKEN = 'faults-token';
/** Every child process is killed at this deadline whatever happens. */
const CHILD_DEADLINE_MS = 60_000;
const STEP_MS = 20_000;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch(() => undefined);
});

// ---------- helpers ----------

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Child {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitLine(re: RegExp, ms?: number): Promise<string>;
}

/** A child process with its output lines collected, killed at the deadline and when the file's tests end. */
function start(cmd: string, args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    pending += d;
    const parts = pending.split('\n');
    pending = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const deadline = setTimeout(() => child.kill('SIGKILL'), CHILD_DEADLINE_MS);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => {
    clearTimeout(deadline);
    if (pending) lines.push(pending);
    resolve({ code, signal });
  }));
  cleanups.push(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  return {
    child, lines, done, stderr: () => err,
    async waitLine(re, ms = STEP_MS) {
      await until(() => lines.some((l) => re.test(l)) || child.exitCode !== null, ms, `a line matching ${re}`);
      const l = lines.find((x) => re.test(x));
      if (!l) throw new Error(`process ended without printing ${re}; stderr: ${err.slice(-800)}`);
      return l;
    },
  };
}

function python(script: string, args: string[]): Child {
  return start(PYTHON, [script, ...args], { PYTHONPATH: join(ROOT, 'clients', 'python'), PYTHONUNBUFFERED: '1' });
}

/** "episode=0 rows=300 steps=180 ..." as a record. */
function fields(line: string): Record<string, string> {
  return Object.fromEntries(line.split(' ').filter((kv) => kv.includes('=')).map((kv) => kv.split('=') as [string, string]));
}

/** The RowSink the runtime writes to: keeps every row and episode end, so loss and duplication show. */
class CountingSink implements RowSink {
  readonly rows: FrameRow[] = [];
  readonly ends: EpisodeEnd[] = [];
  truncations = 0;
  addRow(row: FrameRow): void {
    this.rows.push(row);
  }
  endEpisode(end: EpisodeEnd): void {
    this.ends.push(end);
  }
  truncate(): void {
    this.truncations++;
  }

  /** Rows of each episode: steps 0, 1, 2... and frames start, start+1... with nothing missing, doubled or out of order. */
  assertIntact(): void {
    const byEpisode = new Map<number, FrameRow[]>();
    for (const r of this.rows) byEpisode.set(r.episode, [...(byEpisode.get(r.episode) ?? []), r]);
    for (const [ep, rows] of byEpisode) {
      rows.forEach((r, i) => {
        assert.equal(r.step, i, `episode ${ep}: row ${i} has step ${r.step}`);
        assert.equal(r.frame, rows[0].frame + i, `episode ${ep}: row ${i} has frame ${r.frame}, expected ${rows[0].frame + i}`);
      });
      const end = this.ends.find((e) => e.episode === ep);
      if (end) {
        assert.equal(end.rows, rows.length, `episode ${ep}: episode_end says ${end.rows} rows, the sink got ${rows.length}`);
        assert.equal(end.terminationFrame, rows[0].frame + rows.length, `episode ${ep}: termination frame`);
      }
    }
    assert.equal(this.truncations, 0);
  }
}

interface TrainerSession {
  port: number;
  runtime: LockstepRuntime;
  sink: CountingSink;
  desyncs: DesyncEvent[];
  waiting: GateStatus[];
  logs: string[];
}

/** A real session for one external trainer on controller 1: bridge, WebSocket agent, embedded emulator (worker), demo ROM. */
async function trainerSession(maxSteps: number, sync: Partial<SyncConfig> = {}): Promise<TrainerSession> {
  const logs: string[] = [];
  const log = (level: string, message: string) => logs.push(`[${level}] ${message}`);
  const bridge = new BridgeServer({ token: TOKEN, helloTimeoutMs: 3000, log });
  const port = await bridge.listen();
  const router = new AgentLinkRouter(bridge, log);
  const agent = new WebSocketAgent({
    bridge, router, player: 0, session: 'faults', rom: 'demo.nes', vars: [...RAM_MAP.names], maxSteps, log,
    onTerminate: (f) => rt.agentTerminated(f),
  });
  const sink = new CountingSink();
  const rt = new LockstepRuntime(
    { emulator: new EmbeddedEmulator(), agents: [agent, undefined], ramMap: RAM_MAP, sync: mergeSyncConfig(defaultSyncConfig(), sync) },
    { romPath: DEMO_ROM, maxSteps, recorder: sink },
  );
  const desyncs: DesyncEvent[] = [];
  const waiting: GateStatus[] = [];
  rt.events.on('desync', (e) => desyncs.push(e));
  rt.events.on('waiting', (w) => waiting.push(w));
  rt.events.on('log', (e) => logs.push(`[${e.level}] ${e.message}`));
  cleanups.push(async () => {
    await rt.close();
    await bridge.close();
  });
  return { port, runtime: rt, sink, desyncs, waiting, logs };
}

/** Runs the runtime until an episode ends; the promise settles with the outcome or the fault. */
function runEpisode(rt: LockstepRuntime) {
  return rt.run((o) => o.episodeEnd !== undefined);
}

/** Processes whose environment carries this bridge port: what a launched FCEUX would be if it outlived its run. */
function processesWithPort(port: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${d}/environ`, 'utf8').split('\0');
      if (env.includes(`LOCKSTEP_PORT=${port}`)) out.push(Number(d));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** A raw WebSocket client for what Python would not send on purpose. */
function rawClient(port: number, opts: { path?: string; origin?: string; token?: string | null } = {}) {
  const url = `ws://127.0.0.1:${port}${opts.path ?? '/agent'}${opts.token ? `?token=${opts.token}` : ''}`;
  const ws = new WebSocket(url, { ...(opts.origin ? { origin: opts.origin } : {}), maxPayload: 8 << 20 });
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (d, isBinary) => { if (!isBinary) messages.push(JSON.parse(String(d)) as Record<string, unknown>); });
  ws.on('error', () => undefined);
  const opened = new Promise<boolean>((resolve) => { ws.on('open', () => resolve(true)); ws.on('error', () => resolve(false)); ws.on('unexpected-response', () => resolve(false)); });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, r) => resolve({ code, reason: r.toString() })));
  const hello = (extra: Record<string, unknown> = {}) => ws.send(JSON.stringify({ type: 'hello', role: 'agent', protocol: PROTOCOL_VERSION, token: TOKEN, ...extra }));
  const next = async (type: string, ms = STEP_MS) => {
    await until(() => messages.some((m) => m.type === type), ms, `a ${type} message`);
    const i = messages.findIndex((m) => m.type === type);
    return messages.splice(i, 1)[0];
  };
  cleanups.push(() => ws.terminate());
  return { ws, messages, opened, closed, hello, next };
}

// ---------- trainer killed, slow, frozen ----------

describe('faults: the trainer process', () => {
  test('killed mid-episode (SIGKILL): the gate holds the frame, a new trainer continues on it, every row exactly once', async () => {
    const maxSteps = 300;
    const s = await trainerSession(maxSteps);
    const first = python(RANDOM_AGENT, ['--port', String(s.port), '--token', TOKEN, '--episodes', '1', '--player', '0', '--seed', '1']);
    await within(s.runtime.start(), STEP_MS, 'first trainer connects');
    let killed = false;
    s.runtime.events.on('frame', () => {
      if (!killed && s.sink.rows.length === 120) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    });
    const running = runEpisode(s.runtime);
    running.catch(() => undefined);
    assert.equal((await within(first.done, STEP_MS, 'first trainer dies')).signal, 'SIGKILL');

    // Held: no row is produced while nobody answers, and the gate waits on the frame after the last row.
    await until(() => s.waiting.length > 0, STEP_MS, 'the runtime to report waiting');
    const rowsWhileDown = s.sink.rows.length;
    await sleep(300);
    assert.equal(s.sink.rows.length, rowsWhileDown, 'no frame runs without the trainer');
    const held = s.runtime.gateStatus;
    assert.ok(held, 'the gate is waiting');
    assert.equal(held.frame, s.sink.rows.at(-1)!.frame + 1);
    assert.deepEqual(held.waitingFor, [0]);

    const second = python(RANDOM_AGENT, ['--port', String(s.port), '--token', TOKEN, '--episodes', '1', '--player', '0', '--seed', '2']);
    const outcome = await within(running, 30_000, 'the episode to finish with the second trainer');
    assert.equal(outcome.episodeEnd?.reason, 'max_steps');
    assert.equal(outcome.episodeEnd?.rows, maxSteps);
    assert.equal(s.sink.rows.length, maxSteps);
    s.sink.assertIntact();

    const line = fields(await second.waitLine(/^episode=/));
    assert.equal(Number(line.startFrame), held.frame, 'the new trainer started on the held frame');
    assert.equal(Number(line.steps), maxSteps - rowsWhileDown, 'it answered every remaining frame once');
    assert.equal(Number(line.rows), maxSteps);
    assert.equal((await within(second.done, STEP_MS, 'second trainer exits')).code, 0, second.stderr());
    // While nobody was there: timeouts whose recovery is a heartbeat (unanswered) and then waiting for a reconnect.
    assert.ok(s.desyncs.length > 0 && s.desyncs.every((d) => d.type === 'timeout'), s.desyncs.map((d) => d.type).join());
    assert.match(s.desyncs[0].recovery ?? '', /heartbeat unanswered -> reconnect/);
    // The held frame is named when the link drops, or, when the trainer's last answer beat its death (it is sent the
    // next frame before the row is recorded), when that frame is asked for with nobody connected.
    assert.ok(s.logs.some((l) => /trainer disconnected \(1006\)/.test(l)), s.logs.join('\n'));
    assert.ok(s.logs.some((l) => new RegExp(`holding frame ${held.frame} until a trainer reconnects`).test(l)), s.logs.join('\n'));
  });

  test('killed twice in one run: each time a new trainer reconnects within the backoff and the run completes', async () => {
    // One reconnect allowed per outage: a successful reconnect must give the budget back, or the second outage gives up at once.
    const maxSteps = 240;
    const s = await trainerSession(maxSteps, { reconnectAttempts: 1, reconnectDelayMs: 1500 });
    let trainer = python(RANDOM_AGENT, ['--port', String(s.port), '--token', TOKEN, '--episodes', '1', '--player', '0']);
    await within(s.runtime.start(), STEP_MS, 'first trainer connects');
    const killAt = [80, 160];
    s.runtime.events.on('frame', () => {
      if (killAt.includes(s.sink.rows.length)) trainer.child.kill('SIGKILL');
    });
    const running = runEpisode(s.runtime);
    running.catch(() => undefined);
    for (let k = 0; k < killAt.length; k++) {
      await within(trainer.done, STEP_MS, `trainer ${k + 1} dies`);
      await until(() => s.runtime.gateStatus !== null, STEP_MS, 'the gate to hold');
      trainer = python(RANDOM_AGENT, ['--port', String(s.port), '--token', TOKEN, '--episodes', '1', '--player', '0']);
      await trainer.waitLine(/^connected/);
    }
    const outcome = await within(running, 30_000, 'the episode to finish');
    assert.equal(outcome.episodeEnd?.rows, maxSteps);
    s.sink.assertIntact();
    assert.equal(s.sink.rows.length, maxSteps);
  });

  test('slow past frameTimeoutMs (hold): timeouts, heartbeats answered, the frame is held for the agent\'s own answer; maxDesyncCount does not count them', async () => {
    const maxSteps = 90;
    const slowEvery = 15;
    const s = await trainerSession(maxSteps, { frameTimeoutMs: 50, maxDesyncCount: 1, heartbeatIntervalMs: 2000 });
    const trainer = python(FAULT_TRAINER, ['--port', String(s.port), '--token', TOKEN, '--slow-every', String(slowEvery), '--slow-ms', '250']);
    await within(s.runtime.start(), STEP_MS, 'trainer connects');
    const outcome = await within(runEpisode(s.runtime), 30_000, 'one episode');
    assert.equal(outcome.episodeEnd?.rows, maxSteps);
    s.sink.assertIntact();
    // Every row carries the trainer's own answer for that very frame (its answer is a function of how many states it saw).
    s.sink.rows.forEach((r, i) => {
      assert.equal(r.buttons[0], ((i + 1) * 37) & 0xc3, `row ${i}: buttons`);
      assert.equal(r.held[0], false);
    });
    const timeouts = s.desyncs.filter((d) => d.type === 'timeout');
    assert.deepEqual(s.desyncs.filter((d) => d.type !== 'timeout'), []);
    const slowFrames = s.sink.rows.filter((_, i) => (i + 1) % slowEvery === 0).map((r) => r.frame);
    for (const f of slowFrames) assert.ok(timeouts.some((t) => t.frame === f), `a timeout at slow frame ${f}`);
    assert.ok(timeouts.length > 1, 'more timeouts than maxDesyncCount, and the run went on');
    for (const t of timeouts) assert.match(t.recovery ?? '', /heartbeat answered -> hold/);
    for (const f of slowFrames) {
      const row = s.sink.rows.find((r) => r.frame === f)!;
      assert.ok((row.agentLatencyMs[0] ?? 0) >= 200, `latency of slow frame ${f}: ${row.agentLatencyMs[0]}`);
    }
    await within(trainer.done, STEP_MS, 'trainer exits');
  });

  test('slow past frameTimeoutMs with onTimeout skip: late frames run with held buttons, late answers are dropped, rows stay whole', async () => {
    const maxSteps = 90;
    const s = await trainerSession(maxSteps, { frameTimeoutMs: 50, onTimeout: 'skip', heartbeatIntervalMs: 2000 });
    const trainer = python(FAULT_TRAINER, ['--port', String(s.port), '--token', TOKEN, '--slow-every', '15', '--slow-ms', '250']);
    await within(s.runtime.start(), STEP_MS, 'trainer connects');
    const outcome = await within(runEpisode(s.runtime), 30_000, 'one episode');
    assert.equal(outcome.episodeEnd?.rows, maxSteps);
    s.sink.assertIntact();
    const held = s.sink.rows.filter((r) => r.held[0]);
    assert.ok(held.length > 0, 'some frames ran without the late answer');
    for (const r of held) {
      const prev = s.sink.rows.find((x) => x.frame === r.frame - 1);
      if (prev) assert.equal(r.buttons[0], prev.buttons[0], `held frame ${r.frame} repeats the previous buttons`);
    }
    assert.ok(s.logs.some((l) => /late action for frame \d+ dropped \(frame ran with held buttons\)/.test(l)), s.logs.join('\n'));
    assert.deepEqual(s.desyncs.filter((d) => d.type !== 'timeout').map((d) => d.message), [], 'a dropped late answer is not a rewind');
    trainer.child.kill('SIGKILL');
  });

  test('frozen (SIGSTOP) past the heartbeat: reconnect backoff; thawed (SIGCONT) within the budget, the run goes on intact', async () => {
    const maxSteps = 150;
    const s = await trainerSession(maxSteps, { frameTimeoutMs: 50, heartbeatIntervalMs: 100, reconnectAttempts: 3, reconnectDelayMs: 200 });
    const trainer = python(RANDOM_AGENT, ['--port', String(s.port), '--token', TOKEN, '--episodes', '1', '--player', '0']);
    await within(s.runtime.start(), STEP_MS, 'trainer connects');
    let frozen = false;
    s.runtime.events.on('frame', () => {
      if (!frozen && s.sink.rows.length === 60) {
        frozen = true;
        trainer.child.kill('SIGSTOP');
        setTimeout(() => trainer.child.kill('SIGCONT'), 400);
      }
    });
    const outcome = await within(runEpisode(s.runtime), 30_000, 'one episode');
    assert.equal(outcome.episodeEnd?.rows, maxSteps);
    s.sink.assertIntact();
    assert.ok(s.desyncs.some((d) => /heartbeat unanswered -> reconnect/.test(d.recovery ?? '')), s.desyncs.map((d) => d.recovery).join('\n'));
    assert.equal((await within(trainer.done, STEP_MS, 'trainer exits')).code, 0, trainer.stderr());
  });

  test('frozen for good: the run ends with "agent unreachable" once the reconnect attempts are used up; rows so far kept', async () => {
    const s = await trainerSession(1000, { frameTimeoutMs: 50, heartbeatIntervalMs: 100, reconnectAttempts: 1, reconnectDelayMs: 100 });
    const trainer = python(RANDOM_AGENT, ['--port', String(s.port), '--token', TOKEN, '--episodes', '1', '--player', '0']);
    await within(s.runtime.start(), STEP_MS, 'trainer connects');
    let rowsAtFreeze = -1;
    s.runtime.events.on('frame', () => {
      if (rowsAtFreeze < 0 && s.sink.rows.length === 50) {
        rowsAtFreeze = 50;
        trainer.child.kill('SIGSTOP');
      }
    });
    await assert.rejects(within(runEpisode(s.runtime), 30_000, 'the fault'), (e: unknown) => {
      assert.ok(e instanceof RuntimeFault, String(e));
      assert.match(e.message, /^agent unreachable: peer did not answer the heartbeat at frame \d+; 1 reconnect attempt used up$/);
      return true;
    });
    assert.ok(s.sink.rows.length >= 50 && s.sink.rows.length <= 52, `rows kept: ${s.sink.rows.length}`);
    s.sink.assertIntact();
    trainer.child.kill('SIGKILL');
  });

  test('answers for wrong frames: resync each time; maxDesyncCount is per 60-frame window, and exceeding it ends the run with the rows kept', async () => {
    // Every 40th answer is 5 frames ahead: at most two desyncs in any 60 frames, within maxDesyncCount 2.
    const spread = await trainerSession(200, { maxDesyncCount: 2, maxFrameSkip: 2, frameTimeoutMs: 5000 });
    const t1 = python(FAULT_TRAINER, ['--port', String(spread.port), '--token', TOKEN, '--offset-every', '40', '--offset', '5']);
    await within(spread.runtime.start(), STEP_MS, 'trainer connects');
    const outcome = await within(runEpisode(spread.runtime), 30_000, 'one episode');
    assert.equal(outcome.episodeEnd?.rows, 200);
    spread.sink.assertIntact();
    const skips = spread.desyncs.filter((d) => d.type === 'frame_skip');
    assert.equal(skips.length, spread.desyncs.length);
    assert.ok(skips.length >= 4, `frame skips: ${skips.length}`);
    for (const d of skips) {
      assert.equal(d.gap, 5);
      assert.match(d.recovery ?? '', /^resync\+clear_buffer\+reset_counter/);
    }
    await within(t1.done, STEP_MS, 'trainer exits');

    // From the 30th state on, every answer is wrong: the third desync in the window ends the run.
    const burst = await trainerSession(200, { maxDesyncCount: 2, maxFrameSkip: 2, frameTimeoutMs: 5000 });
    const t2 = python(FAULT_TRAINER, ['--port', String(burst.port), '--token', TOKEN, '--offset-every', '1', '--offset-from', '30', '--offset', '5']);
    await within(burst.runtime.start(), STEP_MS, 'trainer connects');
    await assert.rejects(within(runEpisode(burst.runtime), 30_000, 'the fault'), (e: unknown) => {
      assert.ok(e instanceof RuntimeFault);
      assert.match(e.message, /^giving up after repeated desyncs: 3 desyncs within the last 60 frames \(limit 2\); the latest was frame_skip at frame \d+$/);
      return true;
    });
    assert.equal(burst.sink.rows.length, 29, 'the 29 frames answered correctly are kept');
    burst.sink.assertIntact();
    assert.equal(burst.desyncs.length, 3);
    t2.child.kill('SIGKILL');
  });
});

describe('faults: what is reported about desyncs', () => {
  test('the run\'s desync counts (CLI summary, serve, debugger) keep every desync across recovery and episode ends', async () => {
    // An agent that answers 5 frames ahead once per episode: two frame skips in two episodes, each recovered by a resync.
    let asked = 0;
    const skipper: AgentPort = {
      name: 'skipper',
      wantsScreen: false,
      act: async (obs) => ({ frame: ++asked % 100 === 30 ? obs.frame + 5 : obs.frame, buttons: 0 }),
      close: async () => undefined,
    };
    const sink = new CountingSink();
    const runtime = new LockstepRuntime(
      { emulator: new EmbeddedEmulator(), agents: [skipper, undefined], ramMap: RAM_MAP, sync: defaultSyncConfig() },
      { romPath: DEMO_ROM, maxSteps: 90, recorder: sink },
    );
    cleanups.push(() => runtime.close());
    const events: DesyncEvent[] = [];
    runtime.events.on('desync', (e) => events.push(e));
    await within(runtime.start(), STEP_MS, 'start');
    for (let ep = 0; ep < 2; ep++) await within(runEpisode(runtime), STEP_MS, `episode ${ep}`);
    assert.deepEqual(events.map((e) => e.type), ['frame_skip', 'frame_skip']);
    sink.assertIntact();
    assert.equal(runtime.detector.total(), events.length, 'desyncs the summary reports');
    assert.equal(runtime.detector.counts().frame_skip, 2);
    await runtime.close();
  });
});

// ---------- bad messages from the connected trainer ----------

describe('faults: bad messages from the connected trainer', () => {
  test('malformed, oversize and nested-too-deep messages close that trainer with a reason; the session holds and the next trainer finishes', async () => {
    const maxSteps = 200;
    const s = await trainerSession(maxSteps, { frameTimeoutMs: 5000 });
    const startP = s.runtime.start();
    let running: Promise<unknown> | undefined;

    const bad: Array<{ label: string; send: (ws: WebSocket) => void; code: number; reason: RegExp }> = [
      { label: 'truncated JSON', send: (ws) => ws.send('{"type":"action","frame":'), code: CLOSE.malformed, reason: /invalid message: agent→bridge message is not valid JSON/ },
      { label: 'binary frame', send: (ws) => ws.send(new Uint8Array(16), { binary: true }), code: CLOSE.malformed, reason: /binary message of 16 bytes/ },
      { label: 'over 1 MiB', send: (ws) => ws.send('x'.repeat(2 << 20)), code: CLOSE.tooBig, reason: /.*/ },
      { label: 'frame nested 300,000 deep', send: (ws) => ws.send(`{"type":"action","frame":${'['.repeat(300_000)}${']'.repeat(300_000)},"buttons":0}`), code: CLOSE.malformed, reason: /action\.frame must be a non-negative integer, got a deeply nested array/ },
      { label: 'escape codes in a bad value', send: (ws) => ws.send('{"type":"action","frame":"\\u001b[2J\\u0000","buttons":0}'), code: CLOSE.malformed, reason: /action\.frame must be a non-negative integer, got "\\u001b\[2J\\u0000"/ },
    ];
    for (const [k, b] of bad.entries()) {
      const c = rawClient(s.port);
      assert.ok(await c.opened);
      c.hello({ player: 0 });
      await c.next('welcome');
      if (k === 0) {
        await within(startP, STEP_MS, 'runtime start');
        running = runEpisode(s.runtime);
        running.catch(() => undefined);
      }
      // Play 20 good frames, then misbehave.
      for (let i = 0; i < 20; i++) {
        const st = await c.next('state');
        c.ws.send(JSON.stringify({ type: 'action', frame: st.frame, buttons: 0x80 }));
      }
      await c.next('state');
      const rowsBefore = s.sink.rows.length;
      b.send(c.ws);
      const closed = await within(c.closed, STEP_MS, `${b.label}: close`);
      assert.equal(closed.code, b.code, `${b.label}: close code (${closed.reason})`);
      assert.match(closed.reason, b.reason, b.label);
      if (b.code === CLOSE.malformed) assert.match(String(c.messages.find((m) => m.type === 'error')?.message), b.reason, `${b.label}: error message first`);
      await sleep(100);
      assert.equal(s.sink.rows.length, rowsBefore, `${b.label}: the session holds`);
      assert.deepEqual(s.runtime.gateStatus?.waitingFor, [0]);
    }
    const py = python(RANDOM_AGENT, ['--port', String(s.port), '--token', TOKEN, '--episodes', '1', '--player', '0']);
    const outcome = (await within(running!, 30_000, 'the episode to finish')) as Awaited<ReturnType<typeof runEpisode>>;
    assert.equal(outcome.episodeEnd?.rows, maxSteps);
    assert.equal(s.sink.rows.length, maxSteps);
    s.sink.assertIntact();
    assert.equal(Number(fields(await py.waitLine(/^episode=/)).steps), maxSteps - 20 * bad.length);
    assert.deepEqual(s.desyncs.map((d) => d.type), []);
  });
});

describe('faults: what a trainer says reaches the log as short, inert text', () => {
  test('error, quit and name texts with terminal escapes and megabytes of text are logged as one short line each', async () => {
    const s = await trainerSession(100, { frameTimeoutMs: 5000 });
    const evil = '\u001b[2J\u001b]0;pwned\u0007\r\nFAKE [error] line\u0000';
    const c = rawClient(s.port);
    assert.ok(await c.opened);
    c.hello({ player: 0, name: `${evil}trainer` });
    await c.next('welcome');
    await within(s.runtime.start(), STEP_MS, 'runtime start');
    c.ws.send(JSON.stringify({ type: 'error', code: evil, message: evil + 'z'.repeat(900_000) }));
    c.ws.send(JSON.stringify({ type: 'quit', reason: evil + 'q'.repeat(100_000) }));
    await within(c.closed, STEP_MS, 'the trainer link to close after quit');
    await until(() => s.logs.some((l) => /trainer quit/.test(l)), STEP_MS, 'the quit to be logged');
    const fromTrainer = s.logs.filter((l) => /trainer (reported|quit|connected)/.test(l));
    assert.equal(fromTrainer.length, 3, s.logs.join('\n').slice(0, 2000));
    for (const l of fromTrainer) {
      assert.ok(l.length < 500, `a log line of ${l.length} characters`);
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      assert.ok(!/[\u0000-\u001f\u007f]/.test(l), `control characters in ${JSON.stringify(l.slice(0, 200))}`);
    }
  });
});

// ---------- hostile clients against a running `lockstep serve` (a separate process: a crash cannot hide) ----------

describe('faults: hostile connections while `lockstep serve` runs a trainer', () => {
  test('bad tokens, origins, paths, hellos and floods are refused with their close codes; the server survives and the trainer\'s episodes are whole', async () => {
    const maxSteps = 300;
    const server = start(process.execPath, ['--import', 'tsx', CLI, 'serve', '--agent', 'websocket', '--max-steps', String(maxSteps), '--port', '0', '--token', TOKEN, '--sync', 'frameTimeoutMs=5000']);
    const listening = JSON.parse(await server.waitLine(/"event":"listening"/)) as { port: number };
    const port = listening.port;
    const trainer = python(RANDOM_AGENT, ['--port', String(port), '--token', TOKEN, '--episodes', '3', '--player', '0']);
    await trainer.waitLine(/^connected/);

    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const hostile: Array<{ label: string; path?: string; origin?: string; urlToken?: string; first?: string | Uint8Array; code: number; reason?: RegExp }> = [
      { label: 'wrong token', first: JSON.stringify({ type: 'hello', role: 'agent', protocol: 1, token: 'guess' }), code: CLOSE.badToken, reason: /invalid session token/ },
      { label: 'no token', first: JSON.stringify({ type: 'hello', role: 'agent', protocol: 1 }), code: CLOSE.badToken },
      { label: 'wrong token in the URL', urlToken: 'guess', first: JSON.stringify({ type: 'hello', role: 'agent', protocol: 1 }), code: CLOSE.badToken },
      { label: 'token as a number', first: JSON.stringify({ type: 'hello', role: 'agent', protocol: 1, token: 12345 }), code: CLOSE.badToken },
      { label: 'wrong version, wrong token', first: JSON.stringify({ type: 'hello', role: 'agent', protocol: 2, token: 'guess' }), code: CLOSE.badToken },
      { label: 'wrong version, right token', first: JSON.stringify({ type: 'hello', role: 'agent', protocol: 2, token: TOKEN }), code: CLOSE.badVersion },
      { label: 'emulator role on /agent', first: JSON.stringify({ type: 'hello', role: 'emulator', protocol: 1, token: TOKEN }), code: CLOSE.malformed },
      { label: 'an emulator nobody expects', path: '/emulator', first: JSON.stringify({ type: 'hello', role: 'emulator', protocol: 1, token: TOKEN }), code: CLOSE.normal, reason: /no emulator expected/ },
      { label: 'invalid JSON', first: '{"type":"hello",', code: CLOSE.malformed },
      { label: 'invalid JSON with terminal escapes', first: '{"type":"hello"\u001b[2J\u001b]0;pwned\u0007\u0000', code: CLOSE.malformed },
      { label: 'binary first message', first: new Uint8Array([1, 2, 3]), code: CLOSE.malformed },
      { label: 'not a hello', first: JSON.stringify({ type: 'action', frame: 0, buttons: 0 }), code: CLOSE.malformed },
      { label: 'over 1 MiB before the hello', first: 'y'.repeat(2 << 20), code: CLOSE.tooBig },
      { label: 'hello type nested 100,000 deep (before the token check)', first: `{"type":${deep(100_000)}}`, code: CLOSE.malformed },
      { label: 'hello role nested deep', first: `{"type":"hello","token":"${TOKEN}","protocol":1,"role":${deep(100_000)}}`, code: CLOSE.malformed },
      { label: 'hello player nested deep', first: `{"type":"hello","role":"agent","token":"${TOKEN}","protocol":1,"player":${deep(100_000)}}`, code: CLOSE.malformed },
      { label: 'hello screen nested deep', first: `{"type":"hello","role":"agent","token":"${TOKEN}","protocol":1,"player":0,"screen":${deep(100_000)}}`, code: CLOSE.malformed },
      { label: 'controller 2 has no agent', first: JSON.stringify({ type: 'hello', role: 'agent', protocol: 1, token: TOKEN, player: 1 }), code: CLOSE.normal, reason: /no WebSocket agent drives controller 2/ },
      { label: 'no free controller', first: JSON.stringify({ type: 'hello', role: 'agent', protocol: 1, token: TOKEN }), code: CLOSE.normal, reason: /no free controller/ },
      { label: 'browser page from elsewhere', origin: 'http://evil.example', first: JSON.stringify({ type: 'hello', role: 'agent', protocol: 1, token: TOKEN }), code: CLOSE.badOrigin },
      { label: 'escape codes in the hello type', first: JSON.stringify({ type: '\u001b[2J\u001b]0;pwned\u0007', token: 'x' }), code: CLOSE.malformed },
    ];
    const results = await Promise.all(hostile.map(async (h) => {
      const c = rawClient(port, { path: h.path, origin: h.origin, token: h.urlToken });
      if (!(await c.opened)) return { h, closed: { code: -1, reason: 'did not open' } };
      if (h.first !== undefined) c.ws.send(h.first);
      return { h, closed: await within(c.closed, STEP_MS, h.label) };
    }));
    // Every mismatch at once, with the server's state: one crash would otherwise hide the rest.
    const wrong = results.filter(({ h, closed }) => closed.code !== h.code || (h.reason && !h.reason.test(closed.reason)))
      .map(({ h, closed }) => `${h.label}: expected ${h.code}, got ${closed.code} ${closed.reason}`);
    await Promise.race([server.done, sleep(500)]);
    const serverDied = server.child.exitCode !== null || server.child.signalCode !== null;
    assert.deepEqual(wrong, [], serverDied ? `the server died:\n${server.stderr().slice(-1500)}` : 'the server is still running');
    // Silent connections are closed after the 5 s hello limit; HTTP on other paths gets 404, plain HTTP 426.
    const silent = rawClient(port);
    assert.ok(await silent.opened);
    const silentClosed = within(silent.closed, 10_000, 'hello timeout');
    const status = (path: string, headers: Record<string, string> = {}) => new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.end();
    });
    assert.equal(await status('/agent'), 426);
    assert.equal(await status('/'), 426);
    const wrongPath = rawClient(port, { path: '/admin' });
    assert.equal(await wrongPath.opened, false, 'no WebSocket on other paths');
    assert.equal((await silentClosed).code, CLOSE.helloTimeout);

    // The legitimate trainer played on: three whole episodes.
    const done = await within(trainer.done, 60_000, 'the trainer to finish 3 episodes');
    assert.equal(done.code, 0, trainer.stderr());
    const eps = trainer.lines.filter((l) => l.startsWith('episode=')).map(fields);
    assert.equal(eps.length, 3);
    for (const e of eps) {
      assert.equal(Number(e.rows), maxSteps);
      assert.equal(Number(e.steps), maxSteps);
      assert.equal(Number(e.terminationFrame) - Number(e.startFrame), maxSteps);
    }
    assert.equal(server.child.exitCode, null, `the server is still running; stderr:\n${server.stderr().slice(-2000)}`);
    server.child.kill('SIGTERM');
    const exit = await within(server.done, STEP_MS, 'server stops');
    assert.equal(exit.code, 0, server.stderr().slice(-2000));
    const stopped = JSON.parse(server.lines.find((l) => l.includes('"event":"stopped"'))!) as { episodes: number; fault: string | null; desyncs: Record<string, number> };
    assert.ok(stopped.episodes >= 3, `episodes ${stopped.episodes}`);
    assert.equal(stopped.fault, null);
    assert.equal(Object.values(stopped.desyncs).reduce((a, b) => a + b, 0), 0, 'no desync from any of it');
    assert.ok(!/RangeError|TypeError|Maximum call stack/.test(server.stderr()), server.stderr().slice(-2000));
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(server.stderr()), 'no control characters from clients reach the log');
  });
});

// ---------- FCEUX killed ----------

describe('faults: FCEUX killed mid-run', () => {
  test('SIGKILL to FCEUX: the run ends with an error naming it, the rows so far are kept, nothing is left running', async () => {
    const logs: string[] = [];
    const bridge = new BridgeServer({ log: (l, m) => logs.push(`[${l}] ${m}`) });
    const port = await bridge.listen();
    const emulator = new FceuxEmulator({ bridge, log: (l, m) => logs.push(`[${l}] ${m}`) });
    const sink = new CountingSink();
    const runtime = new LockstepRuntime(
      { emulator: emulator as EmulatorPort, agents: [new RandomAgent({ seed: 3 }), undefined], ramMap: RAM_MAP, sync: defaultSyncConfig() },
      { romPath: DEMO_ROM, recorder: sink },
    );
    cleanups.push(async () => { await runtime.close(); await bridge.close(); });
    const exits: string[] = [];
    emulator.onEvent((e) => { if (e.type === 'exit') exits.push(e.reason); });
    await within(runtime.start(), 30_000, 'FCEUX start');
    const pid = emulator.pid!;
    assert.ok(pid > 0 && processAlive(pid));
    runtime.events.on('frame', () => {
      if (sink.rows.length === 300) process.kill(pid, 'SIGKILL');
    });
    await assert.rejects(within(runtime.run(() => false), 60_000, 'the run to fail'), (e: unknown) => {
      assert.match((e as Error).message, /^FCEUX exited \(signal SIGKILL\)/);
      return true;
    });
    assert.deepEqual(exits, ['signal SIGKILL']);
    assert.ok(sink.rows.length >= 300 && sink.rows.length <= 301, `rows kept: ${sink.rows.length}`);
    sink.assertIntact();
    await runtime.close();
    await bridge.close();
    assert.equal(processAlive(pid), false);
    assert.deepEqual(processesWithPort(port), [], 'no process of this run left');
  });

  test('`lockstep run --emulator fceux`: FCEUX killed, exit 1 with a summary whose fault names it; no FCEUX left', async () => {
    const run = start(process.execPath, ['--import', 'tsx', CLI, 'run', '--emulator', 'fceux', '--frames', '1000000', '--json']);
    let fceuxPid: number | undefined;
    await until(() => {
      const r = spawnSync('pgrep', ['-P', String(run.child.pid)], { encoding: 'utf8' });
      fceuxPid = r.stdout.split('\n').map(Number).find((p) => p > 0 && /fceux/.test(cmdline(p)));
      return fceuxPid !== undefined;
    }, 30_000, 'FCEUX to be launched by the CLI');
    const environ = readFileSync(`/proc/${fceuxPid}/environ`, 'utf8').split('\0');
    const port = Number(environ.find((e) => e.startsWith('LOCKSTEP_PORT='))!.split('=')[1]);
    await sleep(1500); // let it run some frames
    process.kill(fceuxPid!, 'SIGKILL');
    const exit = await within(run.done, 30_000, 'the CLI to exit');
    assert.equal(exit.code, 1, run.stderr().slice(-1500));
    const summary = JSON.parse(run.lines.filter((l) => l.startsWith('{')).at(-1)!) as { fault?: string; frames: number; rows: number; emulator: string };
    assert.equal(summary.emulator, 'fceux');
    assert.match(summary.fault ?? '', /^FCEUX exited \(signal SIGKILL\)/);
    assert.ok(summary.frames > 0 && summary.rows === summary.frames, `frames ${summary.frames}, rows ${summary.rows}`);
    assert.equal(processAlive(fceuxPid!), false);
    assert.deepEqual(processesWithPort(port), [], 'no process of this run left');
  });
});
