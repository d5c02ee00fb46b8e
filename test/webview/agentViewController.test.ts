// AgentViewController in Node over a real runtime and a real WebSocket trainer on loopback: the view shows exactly what the trainer received, and a held (late) frame.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { BridgeServer } from '../../src/bridge/bridgeServer';
import { PROTOCOL_VERSION } from '../../src/bridge/protocol';
import { decodeScreenFrame } from '../../src/bridge/screenFrame';
import { WebSocketAgent } from '../../src/agents/websocketAgent';
import { LockstepRuntime } from '../../src/core/runtime/runtime';
import { InProcessEmulator } from '../../src/emulators/embedded/embeddedEmulator';
import { defaultSyncConfig, mergeSyncConfig } from '../../src/core/config/config';
import { BUTTON } from '../../src/core/buttons';
import { PANEL_PROTOCOL_VERSION, type AgentViewUpdate, type HostMessage } from '../../src/webview/panelMessages';
import type { PanelChannel } from '../../src/extension/panels/panelController';
import { LiveRuntimeSource, type DisposableLike } from '../../src/extension/panels/runtimeSource';
import { AgentViewController } from '../../src/extension/panels/agentViewController';
import { RAM_MAP, ROM, makeServices } from './liveSession';

const TOKEN = 'eye-token';
/** The trainer answers this state (by arrival order) only after the frame timeout: that frame runs held. */
const LATE_AT = 4;

/** A webview stand-in that acknowledges everything it is sent. */
class AckingChannel implements PanelChannel {
  readonly posted: HostMessage[] = [];
  private readonly listeners = new Set<(raw: unknown) => void>();
  post(message: HostMessage): void {
    this.posted.push(message);
    if ('seq' in message) queueMicrotask(() => this.send({ type: 'ack', seq: message.seq }));
  }
  onMessage(listener: (raw: unknown) => void): DisposableLike {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
  send(raw: unknown): void {
    for (const l of [...this.listeners]) l(raw);
  }
  latest(): AgentViewUpdate | undefined {
    return this.posted.filter((m): m is Extract<HostMessage, { type: 'agentView' }> => m.type === 'agentView').at(-1)?.update;
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('AgentViewController (Node, real runtime, real WebSocket trainer)', () => {
  test('for the held frame: the variables and gray 2x-downsampled screen exactly as the trainer received them; a late answer shows as held', async () => {
    const bridge = new BridgeServer({ token: TOKEN, helloTimeoutMs: 2000 });
    const port = await bridge.listen();
    const names = RAM_MAP.variables.map((v) => v.name).reverse();
    const agent = new WebSocketAgent({ bridge, player: 0, session: 'eye', rom: 'demo.nes', vars: names, maxSteps: null });
    const rt = new LockstepRuntime(
      { emulator: new InProcessEmulator(), agents: [agent, undefined], ramMap: RAM_MAP, sync: mergeSyncConfig(defaultSyncConfig(), { onTimeout: 'skip', frameTimeoutMs: 60 }) },
      { romPath: ROM, captureScreens: true, stepBackDepth: 0, history: {} },
    );
    // What the trainer received, by frame: the state message and the screen frame that followed it.
    const received = new Map<number, { state: Record<string, unknown>; screen: ReturnType<typeof decodeScreenFrame> }>();
    let states = 0;
    let pending: Record<string, unknown> | undefined;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/agent`);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', role: 'agent', protocol: PROTOCOL_VERSION, token: TOKEN, name: 'eye-trainer', screen: { format: 'gray', downsample: 2 } })));
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const screen = decodeScreenFrame(new Uint8Array(data as Buffer));
        const state = pending!;
        pending = undefined;
        received.set(screen.frame, { state, screen });
        const n = states++;
        const answer = () => ws.send(JSON.stringify({ type: 'action', frame: state.frame, buttons: BUTTON.RIGHT, info: { n } }));
        if (n === LATE_AT) setTimeout(answer, 250);
        else answer();
        return;
      }
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      if (m.type === 'state') pending = m;
      if (m.type === 'heartbeat') ws.send(JSON.stringify({ type: 'heartbeat_ack', seq: m.seq, timestamp: Date.now() }));
    });
    const source = new LiveRuntimeSource();
    const channel = new AckingChannel();
    let ctl: AgentViewController | undefined;
    try {
      await rt.start();
      source.attach({ runtime: rt, ramMap: RAM_MAP, session: 'eye' });
      ctl = new AgentViewController(channel, source, makeServices());
      channel.send({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'agentView' });
      const first = rt.current!.frame;
      for (let i = 0; i < 8; i++) await rt.advance();
      const lateFrame = first + LATE_AT;

      // The late frame: the trainer answered after the timeout; the frame ran with the held (previous) buttons.
      await rt.travelTo(rt.sessionHistory!.oldestTick + LATE_AT);
      const late = await until(`the view of frame ${lateFrame}`, () => { const l = channel.latest(); return l?.held?.frame === lateFrame && l.agents.length ? l : undefined; });
      const b = late.agents[0];
      assert.ok(b.tags.includes('held'), JSON.stringify(b.tags));
      assert.ok(b.tags.includes('late'), JSON.stringify(b.tags));
      assert.equal(b.applied?.held, true);
      assert.equal(b.applied?.latencyMs, null, 'a held frame has no agent latency in its row');
      assert.ok(b.desyncs.some((d) => d.type === 'timeout'), JSON.stringify(b.desyncs));
      assert.deepEqual(b.screen?.stack[0], received.get(lateFrame)!.screen.pixels);
      // An earlier, ordinary frame (travel within the episode drops the later ticks, so the late one was looked at first): variables in the welcome's order with the values sent, the screen as the trainer decoded it.
      const normal = first + 2;
      await rt.travelTo(rt.sessionHistory!.oldestTick + 2);
      assert.equal(rt.current!.frame, normal);
      const u = await until(`the view of frame ${normal}`, () => { const l = channel.latest(); return l?.held?.frame === normal && l.agents.length ? l : undefined; });
      const a = u.agents[0];
      const sent = received.get(normal)!;
      assert.equal(a.varsSource, 'as sent');
      assert.deepEqual(a.vars.map((v) => v.name), names, 'variables in the order the trainer got them');
      assert.deepEqual(Object.fromEntries(a.vars.map((v) => [v.name, v.value])), sent.state.vars);
      assert.equal(a.info, JSON.stringify(sent.state.info));
      assert.equal(a.via, 'WebSocket state message + screen frame');
      assert.ok(a.screen);
      assert.deepEqual([a.screen.width, a.screen.height, a.screen.channels], [128, 120, 1]);
      assert.deepEqual(a.screen.stackFrames, [normal]);
      assert.deepEqual(a.screen.stack[0], sent.screen.pixels, 'the exact gray bytes the trainer received');
      assert.deepEqual(a.tags, ['answered']);
      assert.equal(a.applied?.buttons, BUTTON.RIGHT);
      assert.equal(a.applied?.held, false);
      assert.equal(typeof a.applied?.latencyMs, 'number');
      assert.equal(a.applied?.info, JSON.stringify({ n: 2 }));

    } finally {
      ctl?.dispose();
      ws.terminate();
      await rt.close();
      await agent.close();
      await bridge.close();
    }
  });
});
