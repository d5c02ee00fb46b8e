// Clock sync on both real links: a Python trainer against `lockstep serve`, and FCEUX's lockstep.lua under `lockstep run`; a clock that jumps 300 ms is one clock_drift, a steady one none.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const PYTHON = '/usr/bin/python3';
const TRAINER = join(ROOT, 'test', 'fixtures', 'clock_trainer.py');
const FRAMES = 300;
const INTERVAL = 30;
const JUMP_FRAME = 150;
const JUMP_MS = 300;
/** How far a measured drift may sit from the jump: the offset error of an exchange is at most half its round trip. */
const DRIFT_TOLERANCE_MS = 40;
const DEADLINE_MS = 90_000;

interface PeerClock { peer: string; offsetMs: number | null; rttMs: number | null; rounds: number }
interface ClockDrift { frame: number; peer: string | null; offsetMs: number | null; driftMs: number | null }
interface Outcome { desyncs: Record<string, number>; clocks: PeerClock[]; clockDrifts: ClockDrift[]; stderr: string }

const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

function track(child: ChildProcess): { stdout: Promise<string>; stderr: () => string; exit: Promise<number | null> } {
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    children.delete(child);
    resolve(code);
  }));
  return { stdout: exit.then(() => out), stderr: () => err, exit };
}

/** `lockstep serve` for FRAMES frames with the Python clock trainer on controller 1. */
async function serveWithTrainer(jump: boolean): Promise<Outcome & { trainer: string }> {
  const serve = spawn(process.execPath, [CLI, 'serve', '--agent', 'websocket', '--port', '0', '--frames', String(FRAMES),
    '--sync', `clockSyncInterval=${INTERVAL}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = createInterface({ input: serve.stdout! });
  const events: Array<Record<string, unknown>> = [];
  const listening = new Promise<Record<string, unknown>>((resolve) => lines.on('line', (l) => {
    const e = JSON.parse(l) as Record<string, unknown>;
    events.push(e);
    if (e.event === 'listening') resolve(e);
  }));
  const s = track(serve);
  const hello = await listening;
  const trainer = track(spawn(PYTHON, [TRAINER, '--port', String(hello.port), '--token', String(hello.token),
    ...(jump ? ['--jump-frame', String(JUMP_FRAME), '--jump-ms', String(JUMP_MS)] : [])], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONPATH: join(ROOT, 'clients', 'python'), PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
  }));
  assert.equal(await s.exit, 0, s.stderr());
  const trainerOut = await trainer.stdout;
  assert.equal(await trainer.exit, 0, trainer.stderr());
  const stopped = events.find((e) => e.event === 'stopped') as unknown as Outcome & { frames: number };
  assert.ok(stopped, `serve printed a stopped line: ${JSON.stringify(events)}`);
  assert.equal(stopped.frames, FRAMES);
  return { ...stopped, stderr: s.stderr(), trainer: trainerOut };
}

/** `lockstep run --emulator fceux --json` for FRAMES frames; env reaches lockstep.lua (its test clock jump). */
async function runFceux(env: Record<string, string>): Promise<Outcome> {
  const run = track(spawn(process.execPath, [CLI, 'run', '--emulator', 'fceux', '--frames', String(FRAMES), '--json',
    '--sync', `clockSyncInterval=${INTERVAL}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
  const out = await run.stdout;
  assert.equal(await run.exit, 0, run.stderr());
  const summary = JSON.parse(out.trim().split('\n').pop()!) as { frames: number; desyncs: Record<string, number>; metrics: { clocks: PeerClock[] }; clockDrifts: ClockDrift[] };
  assert.equal(summary.frames, FRAMES);
  return { desyncs: summary.desyncs, clocks: summary.metrics.clocks, clockDrifts: summary.clockDrifts, stderr: run.stderr() };
}

/** Every peer was measured at connect and every INTERVAL frames after (the last interval may still be out at the end). */
function assertMeasured(clocks: PeerClock[], peer: string): PeerClock {
  const c = clocks.find((x) => x.peer === peer);
  assert.ok(c, `clocks name ${peer}: ${JSON.stringify(clocks)}`);
  assert.ok(c.rounds >= FRAMES / INTERVAL - 1, `${peer}: ${c.rounds} clock-sync rounds in ${FRAMES} frames every ${INTERVAL}`);
  assert.ok(c.rttMs !== null && c.rttMs >= 0, `${peer}: round trip measured (${c.rttMs})`);
  return c;
}

function assertOneJump(o: Outcome, peer: string): void {
  assert.equal(o.desyncs.clock_drift, 1, `exactly one clock_drift: ${JSON.stringify(o.clockDrifts)}`);
  assert.equal(o.clockDrifts.length, 1);
  const [d] = o.clockDrifts;
  assert.equal(d.peer, peer);
  assert.ok(d.frame >= JUMP_FRAME, `the drift is seen after the jump (frame ${d.frame})`);
  assert.ok(Math.abs(d.driftMs! - JUMP_MS) <= DRIFT_TOLERANCE_MS, `drift near ${JUMP_MS} ms, measured ${d.driftMs} ms`);
  const c = assertMeasured(o.clocks, peer);
  // The last offset is measured after the jump: the clocks of the two loopback processes otherwise agree closely.
  assert.ok(Math.abs(c.offsetMs! - JUMP_MS) <= DRIFT_TOLERANCE_MS, `${peer}'s offset now near ${JUMP_MS} ms, got ${c.offsetMs}`);
}

function assertSteady(o: Outcome, peer: string): void {
  assert.equal(o.desyncs.clock_drift, 0, `no clock_drift: ${JSON.stringify(o.clockDrifts)}`);
  assert.deepEqual(o.clockDrifts, []);
  const c = assertMeasured(o.clocks, peer);
  assert.ok(Math.abs(c.offsetMs!) <= DRIFT_TOLERANCE_MS, `${peer}'s clock is this machine's: offset ${c.offsetMs} ms`);
}

describe('clock sync with a Python trainer (lockstep serve)', () => {
  test('a trainer whose clock jumps +300 ms mid-run raises exactly one clock_drift, of about 300 ms', async () => {
    const o = await serveWithTrainer(true);
    assert.match(o.trainer, new RegExp(`jumped frame=${JUMP_FRAME}\\b`));
    assertOneJump(o, 'controller 1');
    assert.match(o.stderr, /clock_drift: controller 1: expected a clock offset near .* drifted \+\d+/);
  });

  test('a steady trainer raises none', async () => {
    assertSteady(await serveWithTrainer(false), 'controller 1');
  });
});

describe('clock sync with FCEUX (lockstep.lua answers with socket.gettime)', () => {
  test('a Lua clock that jumps +300 ms mid-run (LOCKSTEP_TEST_CLOCK_JUMP) raises exactly one clock_drift, of about 300 ms', async () => {
    assertOneJump(await runFceux({ LOCKSTEP_TEST_CLOCK_JUMP: `${JUMP_FRAME}:${JUMP_MS}` }), 'emulator');
  });

  test('a steady FCEUX raises none', async () => {
    assertSteady(await runFceux({}), 'emulator');
  });
});
