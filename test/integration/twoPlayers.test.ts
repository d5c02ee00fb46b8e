// Two controllers driven by two agents (two Python trainers, or a trainer and the built-in random agent): the gate waits for both and both end on the same termination frame.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildSession } from '../../src/session/sessionBuilder';
import type { EpisodeEnd, FrameRow } from '../../src/core/runtime/rows';

const ROOT = join(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
// These tests are about episode boundaries, not timing: a loaded machine answering a frame after 100 ms (the default
// limit) would report a timeout desync here. Timing faults have their own tests (faults.test.ts).
const RELAXED = { frameTimeoutMs: 10_000 };

interface PyRun { code: number | null; stdout: string; stderr: string }
interface Trainer { done: Promise<PyRun>; kill(): void; output(): string }

function trainer(port: number, token: string, player: 0 | 1, episodes: number, seed: number): Trainer {
  const p = spawn(PYTHON, [join(ROOT, 'examples', 'python', 'random_agent.py'), '--port', String(port), '--token', token,
    '--player', String(player), '--episodes', String(episodes), '--seed', String(seed)], {
    env: { ...process.env, PYTHONPATH: join(ROOT, 'clients', 'python'), PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = setTimeout(() => p.kill('SIGKILL'), 60_000);
  const done = new Promise<PyRun>((resolve) => p.on('exit', (code) => {
    clearTimeout(deadline);
    resolve({ code, stdout, stderr });
  }));
  return { done, kill: () => p.kill('SIGKILL'), output: () => `player ${player} trainer stdout:\n${stdout}\nstderr:\n${stderr}` };
}

/**
 * Starts the runtime (it waits for the trainers to connect) and advances it until `finished()`, but fails instead of waiting forever: the runtime holds a frame until a
 * trainer reconnects, so a trainer that exits early (or a run that stalls) would otherwise hang the file until the test
 * runner's limit and say nothing. The failure carries both trainers' output.
 */
async function advanceUntil(runtime: { start(): Promise<unknown>; advance(): Promise<unknown> }, finished: () => boolean, trainers: Trainer[]): Promise<void> {
  const describeAll = () => trainers.map((t) => t.output()).join('\n');
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the run did not finish within 90 s\n${describeAll()}`)), 90_000);
  });
  const quit = trainers.map((t) => t.done.then(async (r) => {
    // A trainer that finished its episodes exits as the run ends; give the loop a moment to see the last episode end.
    await new Promise((res) => setTimeout(res, 5_000));
    if (!finished()) throw new Error(`a trainer exited (code ${r.code}) before the run finished\n${describeAll()}`);
    return new Promise<never>(() => undefined);
  }));
  try {
    await Promise.race([(async () => { await runtime.start(); while (!finished()) await runtime.advance(); })(), stalled, ...quit]);
  } finally {
    clearTimeout(timer);
  }
}

function episodes(stdout: string): Array<{ rows: number; terminationFrame: number; startFrame: number }> {
  return stdout.split('\n').filter((l) => l.startsWith('episode=')).map((l) => {
    const kv = Object.fromEntries(l.split(' ').map((p) => p.split('=')));
    return { rows: Number(kv.rows), terminationFrame: Number(kv.terminationFrame), startFrame: Number(kv.startFrame) };
  });
}

describe('two players', () => {
  test('two Python trainers, one per controller: every episode ends for both on the same termination frame', async () => {
    const rows: FrameRow[] = [];
    const ends: EpisodeEnd[] = [];
    const built = await buildSession(
      { agents: [{ type: 'websocket' }, { type: 'websocket' }], maxSteps: 90, sync: RELAXED },
      { recorder: { addRow: (r) => rows.push(r), endEpisode: (e) => { ends.push(e); }, truncate: () => undefined } },
    );
    const { runtime, bridge } = built;
    const desyncs: string[] = [];
    runtime.events.on('desync', (ev) => desyncs.push(`${ev.type}: ${ev.message}`));
    const a = trainer(bridge!.port, bridge!.token, 0, 2, 1);
    const b = trainer(bridge!.port, bridge!.token, 1, 2, 2);
    try {
      await advanceUntil(runtime, () => ends.length >= 2, [a, b]);
      const [ra, rb] = await Promise.all([a.done, b.done]);
      assert.equal(ra.code, 0, ra.stderr);
      assert.equal(rb.code, 0, rb.stderr);
      const ea = episodes(ra.stdout);
      const eb = episodes(rb.stdout);
      assert.equal(ea.length, 2);
      assert.deepEqual(ea, eb, 'both trainers saw the same episode boundaries');
      assert.deepEqual(ea.map((e) => [e.rows, e.terminationFrame]), ends.map((e) => [e.rows, e.terminationFrame]));
      assert.ok(ends.every((e) => e.rows === 90 && e.reason === 'max_steps'));
      assert.equal(rows.length, 180);
      // Each controller got its own trainer's buttons: the two differ somewhere.
      assert.ok(rows.some((r) => r.buttons[0] !== r.buttons[1]));
      assert.deepEqual(desyncs, []);
      assert.equal(runtime.detector.total(), 0);
    } finally {
      a.kill();
      b.kill();
      await built.close();
    }
  });

  test('a trainer against the built-in random agent: the frame waits for the trainer, both controllers move', async () => {
    const rows: FrameRow[] = [];
    const ends: EpisodeEnd[] = [];
    const built = await buildSession(
      { agents: [{ type: 'websocket' }, { type: 'random', seed: 4 }], maxSteps: 60, sync: RELAXED },
      { recorder: { addRow: (r) => rows.push(r), endEpisode: (e) => { ends.push(e); }, truncate: () => undefined } },
    );
    const { runtime, bridge } = built;
    const a = trainer(bridge!.port, bridge!.token, 0, 1, 9);
    try {
      await advanceUntil(runtime, () => ends.length >= 1, [a]);
      const ra = await a.done;
      assert.equal(ra.code, 0, ra.stderr);
      assert.deepEqual(episodes(ra.stdout).map((e) => [e.rows, e.terminationFrame]), [[60, ends[0].terminationFrame]]);
      assert.ok(rows.some((r) => r.buttons[1] !== 0), 'the random agent pressed buttons on controller 2');
      assert.ok(rows.every((r) => r.agentLatencyMs[0] !== null), 'every row waited for the trainer');
    } finally {
      a.kill();
      await built.close();
    }
  });
});
