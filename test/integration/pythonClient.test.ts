// The Python client (clients/python) against the real bridge + WebSocketAgent: the example trainer, refusals and recovery.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import WebSocket from 'ws';
import { BridgeServer } from '../../src/bridge/bridgeServer';
import { CLOSE, PROTOCOL_VERSION } from '../../src/bridge/protocol';
import { WebSocketAgent } from '../../src/agents/websocketAgent';
import { AgentLinkRouter } from '../../src/agents/agentLinkRouter';
import type { AgentAction, Observation } from '../../src/core/ports';
import { readFileSync } from 'node:fs';
import { LockstepRuntime } from '../../src/core/runtime/runtime';
import type { EpisodeEnd, FrameRow, RowSink } from '../../src/core/runtime/rows';
import { parseRamMap } from '../../src/core/config/ramMap';
import { defaultSyncConfig } from '../../src/core/config/config';
import { InProcessEmulator } from '../../src/emulators/embedded/embeddedEmulator';
import { BUTTON } from '../../src/core/buttons';

const ROOT = join(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
const EXAMPLE = join(ROOT, 'examples', 'python', 'random_agent.py');
const CATCHER = join(ROOT, 'examples', 'python', 'catcher_agent.py');
const DEMO_ROM = join(ROOT, 'roms', 'demo', 'demo.nes');
const DEMO_RAM_MAP = join(ROOT, 'roms', 'demo', 'demo.rammap.json');
const TOKEN = 'integration-token';
const PY_DEADLINE_MS = 20_000;
const STEP_DEADLINE_MS = 10_000;
/** The "simple" action set of lockstep_client.buttons: every mask the example may press. */
const SIMPLE_MASKS = new Set([0, 0x80, 0x40, 0x10, 0x20, 0x01, 0x02, 0x81, 0x82, 0x41, 0x42, 0x83, 0x43]);

const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

interface PyResult { code: number | null; stdout: string; stderr: string }

/** Runs Python with the client on PYTHONPATH; killed at the deadline. */
function runPython(args: string[], env: Record<string, string> = {}): { done: Promise<PyResult>; child: ChildProcess } {
  const child = spawn(PYTHON, args, {
    cwd: ROOT,
    env: { ...process.env, PYTHONPATH: join(ROOT, 'clients', 'python'), PYTHONUNBUFFERED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), PY_DEADLINE_MS);
  const done = new Promise<PyResult>((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    children.delete(child);
    resolve({ code, stdout, stderr });
  }));
  return { done, child };
}

function withDeadline<T>(p: Promise<T>, what: string, ms = STEP_DEADLINE_MS): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  return Promise.race([p, new Promise<T>((_, reject) => { t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
}

async function stillWaiting(p: Promise<unknown>, ms = 50): Promise<boolean> {
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  await new Promise((r) => setTimeout(r, ms));
  return !settled;
}

function observation(frame: number, step: number, episode: number, reward: number): Observation {
  return {
    frame, step, episode, player: 0, timestamp: Date.now(), ram: new Uint8Array(0x800),
    vars: { x: step, score: 10 * step }, reward, terminated: false, truncated: false, info: {},
  };
}

/** One line per episode from random_agent.py, as numbers. */
function episodeLines(stdout: string): Array<Record<string, string>> {
  return stdout.split('\n').filter((l) => l.startsWith('episode=')).map((l) =>
    Object.fromEntries(l.split(' ').map((kv) => kv.split('=') as [string, string])));
}

/** A raw WebSocket trainer for the faults Python would not produce on purpose. */
function rawTrainer(port: number, opts: { origin?: string } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/agent`, opts.origin ? { origin: opts.origin } : {});
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (d, isBinary) => { if (!isBinary) messages.push(JSON.parse(String(d)) as Record<string, unknown>); });
  ws.on('error', () => undefined);
  const opened = new Promise<void>((resolve) => ws.on('open', () => resolve()));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, r) => resolve({ code, reason: r.toString() })));
  const hello = (token = TOKEN) => ws.send(JSON.stringify({ type: 'hello', role: 'agent', protocol: PROTOCOL_VERSION, token }));
  const waitFor = async (type: string) => {
    for (let i = 0; i < 200; i++) {
      const m = messages.find((x) => x.type === type);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ${type} message`);
  };
  return { ws, messages, opened, closed, hello, waitFor };
}

async function session(maxSteps: number) {
  const bridge = new BridgeServer({ token: TOKEN, helloTimeoutMs: 3000 });
  const port = await bridge.listen();
  const router = new AgentLinkRouter(bridge);
  const agent = new WebSocketAgent({ bridge, router, player: 0, session: 'it', rom: 'synthetic.nes', vars: ['x', 'score'], maxSteps });
  return { bridge, port, agent, dispose: async () => { await agent.close(); await bridge.close(); } };
}

describe('Python client', () => {
  test('random_agent.py plays two synthetic episodes: every answer carries the state frame id; rows and return match', async () => {
    const maxSteps = 5;
    const { port, agent, dispose } = await session(maxSteps);
    try {
      const py = runPython([EXAMPLE, '--port', String(port), '--token', TOKEN, '--episodes', '2', '--seed', '3']);
      await withDeadline(agent.start(), 'trainer connect');
      let frame = 1000;
      const expectedReturn: number[] = [];
      for (let ep = 0; ep < 2; ep++) {
        let ret = 0;
        for (let step = 0; step < maxSteps; step++) {
          // A state's reward is for the frame that led to it, so the first state of an episode carries none.
          const reward = step === 0 ? 0 : step * 2;
          if (step > 0) ret += reward;
          const action: AgentAction = await withDeadline(agent.act(observation(frame, step, ep, reward)), `action for frame ${frame}`);
          assert.equal(action.frame, frame, 'the trainer answers with the frame id of the state it received');
          assert.ok(SIMPLE_MASKS.has(action.buttons), `mask ${action.buttons} is not in the simple action set`);
          frame++;
        }
        expectedReturn.push(ret);
        agent.episodeEnd({ episode: ep, terminationFrame: frame, rows: maxSteps, reason: 'max_steps' });
      }
      const res = await withDeadline(py.done, 'random_agent.py exit', PY_DEADLINE_MS);
      assert.equal(res.code, 0, `random_agent.py failed:\n${res.stderr}`);
      const lines = episodeLines(res.stdout);
      assert.deepEqual(lines.map((l) => [l.episode, l.rows, l.steps, Number(l.return), l.reason, l.startFrame, l.terminationFrame]), [
        ['0', '5', '5', expectedReturn[0], 'max_steps', '1000', '1005'],
        ['1', '5', '5', expectedReturn[1], 'max_steps', '1005', '1010'],
      ]);
      assert.match(res.stdout, /connected: session it, controller 1, vars x,score, maxSteps 5/);
    } finally {
      await dispose();
    }
  });

  test('refused trainers (token 4001, Origin 4003, oversize 1009, malformed 4007) leave the frame held for a good one', async () => {
    const maxSteps = 3;
    const { port, agent, dispose } = await session(maxSteps);
    try {
      // Pause-until-action: the runtime asked for frame 500 before any trainer was there.
      const pending = agent.act(observation(500, 0, 0, 0));

      const wrong = await withDeadline(runPython([EXAMPLE, '--port', String(port), '--token', 'not-the-token']).done, 'wrong-token run');
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /code 4001: invalid session token/);
      assert.ok(await stillWaiting(pending));

      const evil = rawTrainer(port, { origin: 'http://evil.example' });
      const evilClosed = await withDeadline(evil.closed, 'bad origin close');
      assert.equal(evilClosed.code, CLOSE.badOrigin);
      assert.match(evilClosed.reason, /origin not allowed: http:\/\/evil\.example/);
      assert.ok(await stillWaiting(pending));

      const big = rawTrainer(port);
      await big.opened;
      big.hello();
      assert.equal((await big.waitFor('state')).frame, 500, 'a connected trainer gets the held frame');
      big.ws.send('x'.repeat(2 << 20));
      assert.equal((await withDeadline(big.closed, 'oversize close')).code, CLOSE.tooBig);
      assert.ok(await stillWaiting(pending));

      const bad = rawTrainer(port);
      await bad.opened;
      bad.hello();
      await bad.waitFor('state');
      bad.ws.send('{"type": "action", "frame": 500, "buttons": ');
      const badClosed = await withDeadline(bad.closed, 'malformed close');
      assert.equal(badClosed.code, CLOSE.malformed);
      assert.match(badClosed.reason, /not valid JSON/);
      assert.match(String((await bad.waitFor('error')).message), /not valid JSON/);
      assert.ok(await stillWaiting(pending));

      const good = runPython([EXAMPLE, '--port', String(port), '--token', TOKEN, '--episodes', '1', '--player', '0']);
      const first = await withDeadline(pending, 'action for the held frame');
      assert.equal(first.frame, 500);
      for (let step = 1; step < maxSteps; step++) {
        const a = await withDeadline(agent.act(observation(500 + step, step, 0, 1)), `action for frame ${500 + step}`);
        assert.equal(a.frame, 500 + step);
      }
      agent.episodeEnd({ episode: 0, terminationFrame: 503, rows: 3, reason: 'max_steps' });
      const res = await withDeadline(good.done, 'good trainer exit', PY_DEADLINE_MS);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(episodeLines(res.stdout).map((l) => [l.rows, l.steps, l.startFrame, l.terminationFrame, Number(l.return)]),
        [['3', '3', '500', '503', 2]]);
    } finally {
      await dispose();
    }
  });

  test('a full episode of the demo ROM through the real runtime: rows == maxSteps, rewards are RAM deltas, the trainer saw each frame', async () => {
    const maxSteps = 240;
    const ramMap = parseRamMap(readFileSync(DEMO_RAM_MAP, 'utf8'), DEMO_RAM_MAP);
    const bridge = new BridgeServer({ token: TOKEN, helloTimeoutMs: 3000 });
    const port = await bridge.listen();
    const router = new AgentLinkRouter(bridge);
    const agent = new WebSocketAgent({
      bridge, router, player: 0, session: 'demo', rom: 'demo.nes', vars: [...ramMap.names], maxSteps,
      onTerminate: (f) => runtime.agentTerminated(f),
    });
    const rows: FrameRow[] = [];
    const ends: Array<{ end: EpisodeEnd; finalRam: Uint8Array }> = [];
    const recorder: RowSink = {
      addRow: (r) => rows.push(r),
      endEpisode: (end, finalRam) => { ends.push({ end, finalRam: finalRam.slice() }); },
      truncate: () => undefined,
    };
    // Generous frame timeout: a late answer on a busy machine must not turn into desyncs and a fault.
    const sync = { ...defaultSyncConfig(), frameTimeoutMs: 10_000 };
    const runtime = new LockstepRuntime({ emulator: new InProcessEmulator(), agents: [agent, undefined], ramMap, sync }, { romPath: DEMO_ROM, maxSteps, recorder });
    const desyncs: string[] = [];
    runtime.events.on('desync', (e) => desyncs.push(e.message));
    const rewardsSent: number[] = [];
    const act = agent.act.bind(agent);
    agent.act = (obs, signal) => {
      if (obs.step > 0) rewardsSent.push(obs.reward);
      return act(obs, signal);
    };
    try {
      const py = runPython([CATCHER, '--port', String(port), '--token', TOKEN, '--episodes', '1', '--player', '0']);
      await withDeadline(runtime.start(), 'runtime start (trainer connect)');
      const outcome = await withDeadline(runtime.run((o) => o.episodeEnd !== undefined), 'one episode', 60_000);
      assert.equal(outcome.episodeEnd?.reason, 'max_steps');
      assert.equal(outcome.episodeEnd?.rows, maxSteps);
      assert.equal(rows.length, maxSteps);
      assert.deepEqual(rows.map((r) => r.step), Array.from({ length: maxSteps }, (_, i) => i));
      const start = rows[0].frame;
      assert.deepEqual(rows.map((r) => r.frame), Array.from({ length: maxSteps }, (_, i) => start + i), 'one row per frame, no gaps');
      assert.equal(outcome.episodeEnd?.terminationFrame, start + maxSteps);

      // Rewards are the RAM deltas of score_p1 frame to frame (the last against the final RAM).
      const scoreAfter = (i: number) => (i + 1 < rows.length ? rows[i + 1].vars.score_p1 : ramMap.read(ends[0].finalRam).score_p1);
      rows.forEach((r, i) => assert.equal(r.rewards[0], scoreAfter(i) - r.vars.score_p1, `reward of row ${i} (frame ${r.frame})`));
      const total = rows.reduce((a, r) => a + r.rewards[0], 0);
      assert.equal(total, ramMap.read(ends[0].finalRam).score_p1 - rows[0].vars.score_p1);
      assert.ok(rows.filter((r) => r.rewards[0] === 1).length >= 2, 'the catcher should catch items in 240 frames');
      assert.equal(outcome.episodeEnd?.returns[0], total);

      // The trainer acted on the vars of the very frame it answered: its greedy choice is reproducible from the row.
      rows.forEach((r, i) => {
        const paddle = r.vars.p1_x + 12;
        const item = r.vars.item_x + 4;
        const want = item > paddle + 1 ? BUTTON.RIGHT : item < paddle - 1 ? BUTTON.LEFT : 0;
        assert.equal(r.buttons[0], want, `buttons of row ${i} (frame ${r.frame})`);
        assert.equal(r.held[0], false);
      });
      assert.deepEqual(desyncs, [], 'no desync in a clean run');

      const res = await withDeadline(py.done, 'catcher exit', PY_DEADLINE_MS);
      assert.equal(res.code, 0, res.stderr);
      const [line] = episodeLines(res.stdout);
      assert.equal(line.rows, String(maxSteps));
      assert.equal(line.steps, String(maxSteps));
      assert.equal(line.startFrame, String(start));
      // The trainer's return is every transition's reward: those carried by the observations plus the last one, carried by episode_end.
      assert.equal(Number(line.return), total);
      assert.equal(total - rewardsSent.reduce((a, b) => a + b, 0), rows.at(-1)!.rewards[0], 'episode_end carries the last reward');
    } finally {
      await runtime.close();
      await bridge.close();
    }
  });
});
