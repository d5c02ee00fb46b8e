// WebSocketAgent and AgentLinkRouter against a real BridgeServer on loopback, with `ws` clients standing in for trainers.
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { BridgeServer } from '../../../src/bridge/bridgeServer';
import { CLOSE, PROTOCOL_VERSION } from '../../../src/bridge/protocol';
import { BUTTON } from '../../../src/core/buttons';
import { decodeScreenFrame } from '../../../src/bridge/screenFrame';
import { WebSocketAgent, parseScreenRequest, type WebSocketAgentOptions } from '../../../src/agents/websocketAgent';
import { AgentLinkRouter } from '../../../src/agents/agentLinkRouter';
import { fitCloseReason } from '../../../src/bridge/bridgeServer';
import type { Observation } from '../../../src/core/ports';

const TOKEN = 'unit-test-token';
const DEADLINE_MS = 3000;

type Msg = Record<string, unknown>;

/** A scripted trainer: collects every message, lets the test await the next one with a deadline. */
class Trainer {
  readonly ws: WebSocket;
  private readonly inbox: Array<Msg | Uint8Array> = [];
  private wake?: () => void;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(port: number, hello: Msg | null = {}, query = '') {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/agent${query}`);
    this.ws.on('message', (data, isBinary) => {
      this.inbox.push(isBinary ? new Uint8Array(data as Buffer) : (JSON.parse(String(data)) as Msg));
      this.wake?.();
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      this.wake?.();
    }));
    this.ws.on('error', () => undefined);
    if (hello) {
      this.ws.on('open', () => this.send({ type: 'hello', role: 'agent', protocol: PROTOCOL_VERSION, token: TOKEN, ...hello }));
    }
  }

  send(m: Msg | string): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }

  async next(what = 'a message'): Promise<Msg | Uint8Array> {
    const deadline = Date.now() + DEADLINE_MS;
    while (this.inbox.length === 0) {
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`link closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${DEADLINE_MS} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.inbox.shift()!;
  }

  async nextJson(type: string): Promise<Msg> {
    const m = await this.next(`a ${type} message`);
    assert.ok(!(m instanceof Uint8Array), `expected ${type}, got a binary frame`);
    assert.equal(m.type, type, `expected ${type}, got ${JSON.stringify(m).slice(0, 200)}`);
    return m;
  }

  close(): void {
    this.ws.terminate();
  }
}

function obs(frame: number, extra: Partial<Observation> = {}): Observation {
  return {
    frame, step: frame, episode: 0, player: 0, timestamp: 1000 + frame, ram: new Uint8Array(0x800),
    vars: { score: frame * 10, x: 3 }, reward: 1, terminated: false, truncated: false, info: { lag: false }, ...extra,
  };
}

function withDeadline<T>(p: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  return Promise.race([p, new Promise<T>((_, reject) => { t = setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
}

/** Resolves true if the promise settles within ms, false otherwise (used to show act() is still waiting). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  await new Promise((r) => setTimeout(r, ms));
  return settled;
}

describe('WebSocketAgent', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(opts: Partial<WebSocketAgentOptions> = {}) {
    const bridge = new BridgeServer({ token: TOKEN, helloTimeoutMs: 2000 });
    const port = await bridge.listen();
    const agent = new WebSocketAgent({ bridge, player: 0, session: 'sess-1', rom: 'demo.nes', vars: ['x', 'score'], maxSteps: 100, ...opts });
    const trainers: Trainer[] = [];
    const connect = (hello: Msg | null = {}, query = '') => {
      const t = new Trainer(port, hello, query);
      trainers.push(t);
      return t;
    };
    cleanups.push(async () => {
      for (const t of trainers) t.close();
      await agent.close();
      await bridge.close();
    });
    return { bridge, port, agent, connect };
  }

  test('start waits for a trainer and welcomes it with the session description', async () => {
    const { agent, connect } = await setup();
    const started = agent.start();
    assert.equal(await settlesWithin(started, 50), false, 'start resolved with nobody connected');
    const t = connect({ name: 'ppo' });
    const welcome = await t.nextJson('welcome');
    await withDeadline(started, 'start');
    assert.deepEqual(welcome, {
      type: 'welcome', protocol: PROTOCOL_VERSION, session: 'sess-1', player: 0, rom: 'demo.nes', vars: ['x', 'score'],
      maxSteps: 100, buttons: ['A', 'B', 'SELECT', 'START', 'UP', 'DOWN', 'LEFT', 'RIGHT'], screen: null,
    });
    assert.equal(agent.connected, true);
    assert.equal(agent.wantsScreen, false);
    assert.match(agent.name, /controller 1, ppo/);
  });

  test('start rejects with a clear error after connectTimeoutMs, and on abort', async () => {
    const { agent } = await setup({ connectTimeoutMs: 40 });
    await assert.rejects(agent.start(), /no trainer connected to ws:\/\/127\.0\.0\.1:\d+\/agent for controller 1 within 40 ms/);
    const ac = new AbortController();
    const p = agent.start(ac.signal);
    ac.abort();
    await assert.rejects(p, { name: 'AbortError' });
    const waiting = agent.start();
    await agent.close();
    await assert.rejects(waiting, /closed/);
  });

  test('act sends the state and returns the trainer action as sent, names converted to a mask', async () => {
    const { agent, connect } = await setup();
    const t = connect();
    await agent.start();
    await t.nextJson('welcome');
    const a1 = agent.act(obs(5));
    const s = await t.nextJson('state');
    assert.deepEqual(s, {
      type: 'state', frame: 5, step: 5, episode: 0, timestamp: 1005, vars: { x: 3, score: 50 }, reward: 1,
      terminated: false, truncated: false, info: { lag: false }, screen: false,
    });
    assert.deepEqual(Object.keys(s.vars as object), ['x', 'score'], 'vars follow the welcome order');
    t.send({ type: 'action', frame: 5, buttons: ['right', 'A'], info: { v: 0.5 } });
    assert.deepEqual(await withDeadline(a1, 'act'), { frame: 5, buttons: BUTTON.RIGHT | BUTTON.A, info: { v: 0.5 } });
    // A wrong frame id is passed through untouched: the runtime's desync detector judges it.
    const a2 = agent.act(obs(6));
    await t.nextJson('state');
    t.send({ type: 'action', frame: 4, buttons: 0x82 });
    assert.deepEqual(await withDeadline(a2, 'act'), { frame: 4, buttons: 0x82 });
  });

  test('an action sent before it was asked for answers the next act (a trainer running ahead is visible)', async () => {
    const { agent, connect } = await setup();
    const t = connect();
    await agent.start();
    await t.nextJson('welcome');
    t.send({ type: 'action', frame: 9, buttons: 1 });
    t.send({ type: 'heartbeat', seq: 1, timestamp: 0 });
    await t.nextJson('heartbeat_ack'); // the action was processed before this answer
    assert.deepEqual(await withDeadline(agent.act(obs(7)), 'act'), { frame: 9, buttons: 1 });
  });

  test('screens: a trainer asking for gray/4 gets a binary LSSC frame after each state', async () => {
    const { agent, connect } = await setup();
    const t = connect({ screen: { format: 'gray', downsample: 4 } });
    await agent.start();
    const welcome = await t.nextJson('welcome');
    assert.deepEqual(welcome.screen, { format: 'gray', downsample: 4 });
    assert.equal(agent.wantsScreen, true);
    const rgba = new Uint8Array(256 * 240 * 4);
    for (let i = 0; i < rgba.length; i += 4) rgba.set([200, 200, 200, 255], i);
    const a = agent.act(obs(12, { screen: rgba }));
    const s = await t.nextJson('state');
    assert.equal(s.screen, true);
    const bin = await t.next('a screen frame');
    assert.ok(bin instanceof Uint8Array);
    const f = decodeScreenFrame(bin);
    assert.equal(f.frame, 12);
    assert.equal(f.format, 'gray');
    assert.equal(f.width, 64);
    assert.equal(f.height, 60);
    assert.equal(f.pixels[0], 200);
    t.send({ type: 'action', frame: 12, buttons: 0 });
    await withDeadline(a, 'act');
    // No screen in the observation: the state says so instead of sending a bogus frame.
    const b = agent.act(obs(13));
    assert.equal((await t.nextJson('state')).screen, false);
    t.send({ type: 'action', frame: 13, buttons: 0 });
    await withDeadline(b, 'act');
  });

  test('a bad screen request is refused with 4007 naming the field', async () => {
    const { agent, connect } = await setup();
    const t = connect({ screen: { format: 'gray', downsample: 3 } });
    const closed = await withDeadline(t.closed, 'close');
    assert.equal(closed.code, CLOSE.malformed);
    assert.match(closed.reason, /downsample/);
    assert.equal(agent.connected, false);
  });

  test('a trainer that disconnects mid-frame: act keeps waiting and the held state goes to the next trainer', async () => {
    const { agent, connect } = await setup();
    const t1 = connect();
    await agent.start();
    await t1.nextJson('welcome');
    const a = agent.act(obs(20));
    await t1.nextJson('state');
    t1.close();
    await t1.closed;
    assert.equal(await settlesWithin(a, 60), false, 'act gave up when the trainer left');
    const t2 = connect();
    await t2.nextJson('welcome');
    const s = await t2.nextJson('state');
    assert.equal(s.frame, 20);
    t2.send({ type: 'action', frame: 20, buttons: 3 });
    assert.deepEqual(await withDeadline(a, 'act'), { frame: 20, buttons: 3 });
  });

  for (const [label, payload, pattern] of [
    ['malformed JSON', '{"type":"action", frame:', /not valid JSON/],
    ['an unknown message type', { type: 'jump', frame: 1 }, /unknown agent→bridge message type "jump"/],
    ['a long non-ASCII message type (close reasons are capped at 123 UTF-8 bytes)', { type: 'ä'.repeat(30) }, /unknown agent→bridge message type "ää/],
    ['an out-of-range button mask', { type: 'action', frame: 30, buttons: 300 }, /action\.buttons/],
    ['an unknown button name', { type: 'action', frame: 30, buttons: ['JUMP'] }, /unknown button "JUMP"/],
    ['a binary message', Buffer.from([1, 2, 3]), /binary message/],
  ] as const) {
    test(`${label}: error message, close 4007 with the reason, and the session waits for a good trainer`, async () => {
      const { agent, connect } = await setup();
      const bad = connect();
      await agent.start();
      await bad.nextJson('welcome');
      const a = agent.act(obs(30));
      await bad.nextJson('state');
      if (Buffer.isBuffer(payload)) bad.ws.send(payload);
      else bad.send(payload as Msg | string);
      const err = await bad.nextJson('error');
      assert.match(String(err.message), pattern);
      const closed = await withDeadline(bad.closed, 'close');
      assert.equal(closed.code, CLOSE.malformed);
      assert.match(closed.reason, pattern);
      assert.equal(await settlesWithin(a, 30), false);
      const good = connect();
      await good.nextJson('welcome');
      assert.equal((await good.nextJson('state')).frame, 30);
      good.send({ type: 'action', frame: 30, buttons: 0x10 });
      assert.deepEqual(await withDeadline(a, 'act'), { frame: 30, buttons: 0x10 });
    });
  }

  test('heartbeat and ping from the trainer are answered; heartbeat() and ping() measure the round trip', async () => {
    let clock = 5000;
    const { agent, connect } = await setup({ now: () => clock });
    const t = connect();
    await agent.start();
    await t.nextJson('welcome');
    t.send({ type: 'heartbeat', seq: 7, timestamp: 1 });
    assert.deepEqual(await t.nextJson('heartbeat_ack'), { type: 'heartbeat_ack', seq: 7, timestamp: 5000 });
    t.send({ type: 'ping', id: 3, t0: 42 });
    assert.deepEqual(await t.nextJson('pong'), { type: 'pong', id: 3, t0: 42, t1: 5000 });

    const hb = agent.heartbeat(1000);
    const beat = await t.nextJson('heartbeat');
    clock += 4;
    t.send({ type: 'heartbeat_ack', seq: beat.seq, timestamp: 0 });
    assert.equal(await withDeadline(hb, 'heartbeat'), true);
    assert.equal(agent.lastRttMs, 4);

    const pg = agent.ping(1000);
    const p = await t.nextJson('ping');
    clock += 6;
    t.send({ type: 'pong', id: p.id, t0: p.t0, t1: 9000 });
    assert.equal(await withDeadline(pg, 'ping'), 6);
    assert.equal(agent.clockOffsetMs, 9000 - (5004 + 3));
  });

  test('a trainer flooding error reports gets a few log lines a second, and a count of the rest when the agent closes', async () => {
    const lines: string[] = [];
    const clock = 5000;
    const { agent, connect } = await setup({ now: () => clock, log: (_l, m) => lines.push(m) });
    const t = connect();
    await agent.start();
    await t.nextJson('welcome');
    for (let i = 0; i < 500; i++) t.send({ type: 'error', code: 'oops', message: `report ${i}` });
    // A heartbeat after the flood: once it is answered, every report before it has been handled.
    t.send({ type: 'heartbeat', seq: 1, timestamp: 1 });
    await t.nextJson('heartbeat_ack');
    const reports = lines.filter((l) => /trainer reported oops/.test(l));
    assert.equal(reports.length, 5, reports.join('\n'));
    await agent.close();
    assert.ok(lines.some((l) => /\(495 more like ".*trainer reported" left out of the log\)/.test(l)), lines.join('\n'));
  });

  test('heartbeat() is false for a silent trainer and without a trainer', async () => {
    const { agent, connect } = await setup();
    assert.equal(await agent.heartbeat(50), false);
    const t = connect();
    await agent.start();
    await t.nextJson('welcome');
    assert.equal(await agent.heartbeat(50), false);
    await t.nextJson('heartbeat');
  });

  test('terminate reaches onTerminate; episodeEnd sends episode_end; close sends quit and rejects a pending act', async () => {
    const terminated: number[] = [];
    const { agent, connect } = await setup({ onTerminate: (f) => terminated.push(f) });
    const t = connect();
    await agent.start();
    await t.nextJson('welcome');
    t.send({ type: 'terminate', frame: 44 });
    t.send({ type: 'heartbeat', seq: 1, timestamp: 0 });
    await t.nextJson('heartbeat_ack');
    assert.deepEqual(terminated, [44]);
    agent.episodeEnd({ episode: 0, terminationFrame: 45, rows: 45, reason: 'agent_terminated' });
    assert.deepEqual(await t.nextJson('episode_end'), { type: 'episode_end', episode: 0, terminationFrame: 45, rows: 45, reason: 'agent_terminated' });
    const a = agent.act(obs(45));
    await t.nextJson('state');
    await agent.close();
    await assert.rejects(a, /closed/);
    assert.equal((await t.nextJson('quit')).type, 'quit');
    assert.equal((await withDeadline(t.closed, 'close')).code, CLOSE.normal);
  });

  test('a declared repeat: the agent answers the next k-1 frames itself (marked repeated), then sends frame N+k with the summed reward', async () => {
    const { agent, connect } = await setup({ varRanges: [[0, 255], [-128, 127]] });
    const t = connect({ frameskip: 3 });
    await agent.start();
    assert.deepEqual((await t.nextJson('welcome')).varRanges, [[0, 255], [-128, 127]]);
    const a10 = agent.act(obs(10, { reward: 1 }));
    assert.equal((await t.nextJson('state')).frame, 10);
    t.send({ type: 'action', frame: 10, buttons: BUTTON.LEFT });
    assert.deepEqual(await withDeadline(a10, 'act'), { frame: 10, buttons: BUTTON.LEFT });
    // Frames 11 and 12 are answered at once, with no state sent.
    assert.deepEqual(await withDeadline(agent.act(obs(11, { reward: 2 })), 'act 11'), { frame: 11, buttons: BUTTON.LEFT, info: { repeated: true } });
    assert.deepEqual(await withDeadline(agent.act(obs(12, { reward: 3 })), 'act 12'), { frame: 12, buttons: BUTTON.LEFT, info: { repeated: true } });
    const a13 = agent.act(obs(13, { reward: 4 }));
    const s13 = await t.nextJson('state');
    assert.deepEqual([s13.frame, s13.reward, s13.frames], [13, 2 + 3 + 4, 3]);
    // An action's own repeat overrides the hello's; an episode end inside a repeat carries the sum so far.
    t.send({ type: 'action', frame: 13, buttons: BUTTON.A, repeat: 5 });
    await withDeadline(a13, 'act 13');
    await withDeadline(agent.act(obs(14, { reward: 10 })), 'act 14');
    agent.episodeEnd({ episode: 0, terminationFrame: 16, rows: 16, reason: 'max_steps', lastRewards: [20, 0],
      final: { frame: 16, timestamp: 2016, vars: { score: 7, x: 1 }, info: { lag: false } } });
    assert.deepEqual(await t.nextJson('episode_end'), {
      type: 'episode_end', episode: 0, terminationFrame: 16, rows: 16, reason: 'max_steps', reward: 30, frames: 2,
      final: { frame: 16, timestamp: 2016, vars: { x: 1, score: 7 }, info: { lag: false }, screen: false },
    });
    // The next episode starts fresh: its first frame is sent, not answered from the old repeat.
    const next = agent.act(obs(16, { episode: 1, step: 0, reward: 0 }));
    assert.equal((await t.nextJson('state')).frame, 16);
    t.send({ type: 'action', frame: 16, buttons: 0 });
    await withDeadline(next, 'act 16');
  });

  test('a bad frameskip in the hello is refused with 4007 naming the field', async () => {
    const { connect } = await setup();
    const t = connect({ frameskip: 65 });
    const closed = await withDeadline(t.closed, 'close');
    assert.equal(closed.code, CLOSE.malformed);
    assert.match(closed.reason, /hello\.frameskip must be an integer 1\.\.64, got 65/);
  });

  test('episode_end carries the final state, its screen following as a binary frame for the final frame', async () => {
    const { agent, connect } = await setup();
    const t = connect({ screen: { format: 'gray', downsample: 8 } });
    await agent.start();
    await t.nextJson('welcome');
    const screen = new Uint8Array(256 * 240 * 4).fill(200);
    agent.episodeEnd({ episode: 2, terminationFrame: 90, rows: 30, reason: 'done_flag', lastRewards: [1, 0],
      final: { frame: 90, timestamp: 5, vars: { x: 2, score: 3 }, info: { lag: true }, screen } });
    const end = await t.nextJson('episode_end');
    assert.deepEqual(end.final, { frame: 90, timestamp: 5, vars: { x: 2, score: 3 }, info: { lag: true }, screen: true });
    assert.equal(end.reward, 1);
    const bin = await t.next('the final screen');
    assert.ok(bin instanceof Uint8Array);
    const decoded = decodeScreenFrame(bin);
    assert.deepEqual([decoded.frame, decoded.width, decoded.height, decoded.format], [90, 32, 30, 'gray']);
  });

  test('resync_request resends the unanswered state', async () => {
    const { agent, connect } = await setup();
    const t = connect();
    await agent.start();
    await t.nextJson('welcome');
    const a = agent.act(obs(50));
    await t.nextJson('state');
    t.send({ type: 'resync_request', timestamp: 0, reason: 'lost it' });
    assert.equal((await t.nextJson('state')).frame, 50);
    t.send({ type: 'action', frame: 50, buttons: 0 });
    await withDeadline(a, 'act');
  });

  test('the token may be given as ?token= instead of in the hello', async () => {
    const { agent, connect } = await setup();
    const q = connect({ token: undefined }, `?token=${TOKEN}`);
    await q.nextJson('welcome');
    assert.equal(agent.connected, true);
  });
});

describe('AgentLinkRouter', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function twoAgents() {
    const bridge = new BridgeServer({ token: TOKEN, helloTimeoutMs: 2000 });
    const port = await bridge.listen();
    const router = new AgentLinkRouter(bridge);
    const base = { bridge, router, session: 's', rom: 'r.nes', vars: [], maxSteps: null };
    const p1 = new WebSocketAgent({ ...base, player: 0 });
    const p2 = new WebSocketAgent({ ...base, player: 1 });
    const trainers: Trainer[] = [];
    const connect = (hello: Msg = {}) => {
      const t = new Trainer(port, hello);
      trainers.push(t);
      return t;
    };
    cleanups.push(async () => {
      for (const t of trainers) t.close();
      await p1.close();
      await p2.close();
      await bridge.close();
    });
    return { bridge, router, p1, p2, connect };
  }

  test('routes by hello.player, else to the first free controller, and refuses when none is free', async () => {
    const { p1, p2, connect } = await twoAgents();
    const second = connect({ player: 1 });
    assert.equal((await second.nextJson('welcome')).player, 1);
    await withDeadline(p2.start(), 'p2 start');
    assert.equal(p1.connected, false);
    const first = connect();
    assert.equal((await first.nextJson('welcome')).player, 0);
    await withDeadline(p1.start(), 'p1 start');
    const extra = connect();
    const err = await extra.nextJson('error');
    assert.match(String(err.message), /no free controller/);
    const closed = await withDeadline(extra.closed, 'close');
    assert.match(closed.reason, /no free controller/);
    assert.equal(p1.connected && p2.connected, true, 'a refused link must not disturb the connected ones');
  });

  test('naming a taken controller replaces its link (4009 to the old one); a bad player is refused with 4007', async () => {
    const { p1, connect } = await twoAgents();
    const old = connect({ player: 0 });
    await old.nextJson('welcome');
    const a = p1.act(obs(3));
    await old.nextJson('state');
    const fresh = connect({ player: 0 });
    await fresh.nextJson('welcome');
    assert.equal((await fresh.nextJson('state')).frame, 3);
    assert.equal((await withDeadline(old.closed, 'close')).code, CLOSE.replaced);
    old.send({ type: 'action', frame: 3, buttons: 1 });
    fresh.send({ type: 'action', frame: 3, buttons: 2 });
    assert.deepEqual(await withDeadline(a, 'act'), { frame: 3, buttons: 2 });
    const bad = connect({ player: 2 });
    const closed = await withDeadline(bad.closed, 'close');
    assert.equal(closed.code, CLOSE.malformed);
    assert.match(closed.reason, /hello\.player must be 0 or 1/);
  });

  test('a controller takes one agent per router, and a router must belong to the agent bridge', async () => {
    const { router, bridge } = await twoAgents();
    assert.throws(() => new WebSocketAgent({ bridge, router, player: 0, session: 's', rom: 'r', vars: [], maxSteps: null }), /controller 1 already has/);
    const other = new BridgeServer({ token: TOKEN });
    assert.throws(() => new WebSocketAgent({ bridge: other, router, player: 0, session: 's', rom: 'r', vars: [], maxSteps: null }), /different bridge/);
  });
});

describe('parseScreenRequest', () => {
  test('accepts null, defaults, and names the bad field', () => {
    assert.deepEqual(parseScreenRequest(null), { ok: true, screen: null });
    assert.deepEqual(parseScreenRequest({ format: 'gray' }), { ok: true, screen: { format: 'gray', downsample: 1 } });
    const bad = parseScreenRequest({ format: 'bgr', downsample: 2 });
    assert.equal(bad.ok, false);
    assert.match((bad as { error: string }).error, /hello\.screen\.format must be "rgba" or "gray", got "bgr"/);
    assert.equal(parseScreenRequest('yes').ok, false);
  });
});

describe('fitCloseReason', () => {
  test('keeps short reasons and cuts long ones to 123 UTF-8 bytes at a character boundary', () => {
    assert.equal(fitCloseReason('invalid session token'), 'invalid session token');
    const cut = fitCloseReason('ä'.repeat(100));
    assert.ok(Buffer.byteLength(cut) <= 123, `${Buffer.byteLength(cut)} bytes`);
    assert.match(cut, /^ä+…$/);
    assert.equal(fitCloseReason('x'.repeat(123)), 'x'.repeat(123));
    assert.equal(Buffer.byteLength(fitCloseReason('x'.repeat(200))), 123);
  });
});
