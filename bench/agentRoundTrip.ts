// Benchmark: a trainer's round trip through the bridge (state out, action back) vs a bare `ws` echo on loopback (the floor), side by side.
import { cpus } from 'node:os';
import WebSocket, { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { BridgeServer } from '../src/bridge/bridgeServer';
import { PROTOCOL_VERSION } from '../src/bridge/protocol';
import { WebSocketAgent } from '../src/agents/websocketAgent';
import type { Observation } from '../src/core/ports';
import { benchOnnx } from './onnxLatency';

const N = Number(process.env.BENCH_ROUNDTRIPS ?? 3000);
const WARMUP = 300;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** A state message of the size the bridge really sends for the demo ROM (14 RAM-map variables). */
function sampleState(frame: number): string {
  const vars: Record<string, number> = {};
  for (const k of ['frame', 'episode', 'done', 'timer', 'timer_sub', 'score_p1', 'score_p2', 'p1_x', 'p2_x', 'item_x', 'item_y', 'pad1', 'pad2', 'rng']) vars[k] = frame & 0xff;
  return JSON.stringify({ type: 'state', frame, step: frame, episode: 0, timestamp: Date.now(), vars, reward: 0, terminated: false, truncated: false, info: {}, screen: false });
}

/** The floor: a bare ws server echoing each message back to a ws client, TCP_NODELAY both sides. */
async function bareEcho(): Promise<number[]> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => {
    (ws as unknown as { _socket: { setNoDelay(v: boolean): void } })._socket.setNoDelay(true);
    ws.on('message', (d) => ws.send(d));
  });
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
  await new Promise<void>((r) => client.once('open', () => r()));
  const times: number[] = [];
  for (let i = 0; i < N + WARMUP; i++) {
    const t0 = performance.now();
    const back = new Promise<void>((r) => client.once('message', () => r()));
    client.send(sampleState(i));
    await back;
    if (i >= WARMUP) times.push(performance.now() - t0);
  }
  client.close();
  await new Promise<void>((r) => wss.close(() => r()));
  return times;
}

/** Through Lockstep: WebSocketAgent.act() sends the state, a ws trainer parses it and answers with an action for that frame. */
async function throughBridge(): Promise<number[]> {
  const bridge = new BridgeServer();
  await bridge.listen();
  const agent = new WebSocketAgent({ bridge, player: 0, session: 'bench', rom: 'demo.nes', vars: [], maxSteps: null });
  const trainer = new WebSocket(bridge.url('agent'), { perMessageDeflate: false });
  trainer.on('open', () => trainer.send(JSON.stringify({ type: 'hello', role: 'agent', protocol: PROTOCOL_VERSION, token: bridge.token })));
  trainer.on('message', (d, binary) => {
    if (binary) return;
    const m = JSON.parse(d.toString()) as { type: string; frame?: number };
    if (m.type === 'state') trainer.send(JSON.stringify({ type: 'action', frame: m.frame, buttons: 0x80 }));
  });
  await agent.start();
  const ram = new Uint8Array(0x800);
  const vars: Record<string, number> = {};
  for (const k of ['frame', 'episode', 'done', 'timer', 'timer_sub', 'score_p1', 'score_p2', 'p1_x', 'p2_x', 'item_x', 'item_y', 'pad1', 'pad2', 'rng']) vars[k] = 1;
  const times: number[] = [];
  for (let i = 0; i < N + WARMUP; i++) {
    const obs: Observation = { frame: i, step: i, episode: 0, player: 0, timestamp: Date.now(), ram, vars, reward: 0, terminated: false, truncated: false, info: {} };
    const t0 = performance.now();
    const a = await agent.act(obs);
    if (a.frame !== i) throw new Error(`answer for frame ${a.frame}, expected ${i}`);
    if (i >= WARMUP) times.push(performance.now() - t0);
  }
  trainer.close();
  await agent.close();
  await bridge.close();
  return times;
}

async function main(): Promise<void> {
  // Alternate the two so machine noise falls on both alike.
  const echo: number[] = [];
  const bridge: number[] = [];
  for (let r = 0; r < 2; r++) {
    echo.push(...(await bareEcho()));
    bridge.push(...(await throughBridge()));
  }
  const onnx = await benchOnnx();
  const f = (x: number) => x.toFixed(3);
  console.log(`Agent round trip — ${echo.length} round trips each on 127.0.0.1, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  console.log('');
  console.log('| path | p50 ms | p99 ms |');
  console.log('|---|---:|---:|');
  console.log(`| bare ws echo (floor) | ${f(pct(echo, 50))} | ${f(pct(echo, 99))} |`);
  console.log(`| bridge: WebSocketAgent state -> trainer action | ${f(pct(bridge, 50))} | ${f(pct(bridge, 99))} |`);
  console.log(`| ONNX demo policy inference (in process) | ${f(onnx.p50Ms)} | ${f(onnx.p99Ms)} |`);
  console.log('');
  console.log(`| ratio | value | target |`);
  console.log('|---|---:|---|');
  console.log(`| bridge / bare echo, p50 | ${(pct(bridge, 50) / pct(echo, 50)).toFixed(2)} | <= 1.5 |`);
  console.log(`| bridge / bare echo, p99 | ${(pct(bridge, 99) / pct(echo, 99)).toFixed(2)} | (information) |`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
