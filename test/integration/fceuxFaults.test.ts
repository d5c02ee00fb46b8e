// lockstep.lua in a real headless FCEUX against bridges that fail: restarts, silence, refusals, odd WebSocket framing; plus attach mode.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { BridgeServer, type BridgeLink } from '../../src/bridge/bridgeServer';
import { BUTTON } from '../../src/core/buttons';
import { demoRomPath } from '../../src/core/packageRoot';
import { CLOSE } from '../../src/bridge/protocol';
import { decodeBase64Ram } from '../../src/bridge/protocolCodec';
import { encodeActionFrame } from '../../src/bridge/actionFrame';
import { decodeStateFrame } from '../../src/bridge/screenFrame';
import { FceuxEmulator } from '../../src/emulators/fceux/fceuxEmulator';
import { locateFceux, lockstepLuaPath } from '../../src/emulators/fceux/fceuxLocator';
import { FceuxProcess, type FceuxExit } from '../../src/emulators/fceux/fceuxProcess';
import { LUA_EXIT } from '../../src/emulators/fceux/luaExitCodes';
import { until, within } from './deadlines';

const ROM = demoRomPath();
const P1_X = 0x18;
type Msg = Record<string, unknown> & { type: string };

/** Every output line of each FCEUX, kept whole (FCEUX's block-buffered stdout arrives in a burst at exit). */
const output = new WeakMap<FceuxProcess, string[]>();

function launch(port: number, token: string, scriptEnv: Record<string, string> = {}, exitOnFatal = true): FceuxProcess {
  const lines: string[] = [];
  const proc = new FceuxProcess({
    fceuxPath: locateFceux(undefined), romPath: ROM, luaPath: lockstepLuaPath(), host: '127.0.0.1', port, token,
    headless: true, scriptEnv, exitOnFatal, onLine: (_stream, line) => lines.push(line),
  });
  output.set(proc, lines);
  return proc;
}

function outputOf(proc: FceuxProcess): string {
  return (output.get(proc) ?? []).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** Runs `body` with FCEUX; whatever happens, FCEUX is stopped (deadline, then SIGHUP/SIGKILL) and must be gone. */
async function withProcess(proc: FceuxProcess, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } finally {
    await proc.stop(0);
    assert.equal(existsSync(proc.home), false, 'FCEUX_HOME removed');
    if (proc.pid !== undefined) {
      assert.throws(() => process.kill(proc.pid!, 0), 'FCEUX must not outlive the test');
    }
  }
}

/** The bridge side of one emulator link, as a test drives it: a queue of JSON messages and screens. */
class Peer {
  readonly received: Msg[] = [];
  closed?: { code: number; reason: string };
  private wake?: () => void;

  /** `binary`: the welcome asks for binary states, and actions go as binary frames (as FceuxEmulator runs it). */
  constructor(readonly link: BridgeLink, readonly binary = false) {
    link.onMessage((data) => {
      if (typeof data === 'string') {
        this.received.push(JSON.parse(data) as Msg);
      } else {
        const s = decodeStateFrame(data);
        this.received.push({ type: 'state', frame: s.frame, ram: Buffer.from(s.ram).toString('base64'), binary: true });
      }
      this.wake?.();
    });
    link.onClose((code, reason) => {
      this.closed = { code, reason };
      this.wake?.();
    });
  }

  /** Removes and returns the first message matching `pred`, waiting up to `ms`. */
  async next(pred: (m: Msg) => boolean, ms = 5000): Promise<Msg> {
    const deadline = Date.now() + ms;
    while (true) {
      const i = this.received.findIndex(pred);
      if (i >= 0) return this.received.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${ms} ms; got ${JSON.stringify(this.received.map((m) => m.type))}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, left).unref();
      });
    }
  }

  state(ms = 5000): Promise<Msg> {
    return this.next((m) => m.type === 'state', ms);
  }

  welcome(): void {
    this.link.sendJson({ type: 'welcome', protocol: 1, session: 'test', ram: [[0, 0x800]], screen: false, ...(this.binary ? { binaryState: true } : {}) });
  }

  /** Runs `count` frames holding `buttons`; returns the last state. */
  async run(from: Msg, count: number, buttons: [number, number] = [0, 0]): Promise<Msg> {
    let s = from;
    for (let i = 0; i < count; i++) {
      if (this.binary) this.link.sendBinary(encodeActionFrame(s.frame as number, buttons[0], buttons[1], false));
      else this.link.sendJson({ type: 'action', frame: s.frame, buttons });
      const next = await this.state();
      assert.equal(next.binary === true, this.binary, 'states come as the welcome asked');
      assert.equal(next.frame, (s.frame as number) + 1, 'consecutive frames');
      s = next;
    }
    return s;
  }
}

/** Hands out each new emulator link of a bridge as a Peer. */
function peers(bridge: BridgeServer, binary = false): () => Promise<Peer> {
  const queue: Peer[] = [];
  let wake: (() => void) | undefined;
  bridge.setHandler('emulator', (link) => {
    queue.push(new Peer(link, binary));
    wake?.();
  });
  return async () => {
    while (queue.length === 0) await within(new Promise<void>((r) => (wake = r)), 10000, 'an emulator link');
    return queue.shift()!;
  };
}

function ram(state: Msg): Buffer {
  return Buffer.from(state.ram as string, 'base64');
}

async function expectExit(proc: FceuxProcess, code: number, ms = 10000): Promise<FceuxExit> {
  const exit = await within(proc.exited, ms, `FCEUX exit with code ${code}`);
  assert.equal(exit.code, code, `exit code (${exit.description}); stderr: ${proc.lastErrorLines(6).join(' | ')}`);
  return exit;
}

describe('lockstep.lua faults (real FCEUX, headless)', () => {
  test('a wrong token is refused with close 4001 and FCEUX exits 3 with a clear message', async () => {
    const bridge = new BridgeServer({ token: 'right-token' });
    const port = await bridge.listen();
    bridge.setHandler('emulator', () => assert.fail('a link with a wrong token must not be handed out'));
    const proc = launch(port, 'wrong-token');
    try {
      await withProcess(proc, async () => {
        assert.ok(existsSync(proc.home), 'a fresh FCEUX_HOME while FCEUX runs');
        await expectExit(proc, LUA_EXIT.badToken);
        assert.match(proc.lastErrorLines(6).join('\n'), /refused the session token \(close 4001\)/);
      });
    } finally {
      await bridge.close();
    }
  });

  test('a protocol version refusal (close 4005) ends FCEUX with exit 5', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws: WebSocket) => ws.once('message', () => ws.close(CLOSE.badVersion, 'protocol version 1 not supported (bridge speaks 2)')));
    const proc = launch((wss.address() as AddressInfo).port, 'any');
    try {
      await withProcess(proc, async () => {
        await expectExit(proc, LUA_EXIT.protocol);
        assert.match(proc.lastErrorLines(6).join('\n'), /protocol version mismatch \(close 4005\): protocol version 1 not supported/);
      });
    } finally {
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });

  test('WebSocket details: server pings, 64-bit lengths, fragmented messages', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const connected = new Promise<WebSocket>((r) => wss.once('connection', (ws: WebSocket) => r(ws)));
    const proc = launch((wss.address() as AddressInfo).port, 'any');
    try {
      await withProcess(proc, async () => {
        const ws = await within(connected, 10000, 'FCEUX to connect');
        const inbox: Msg[] = [];
        let wake: (() => void) | undefined;
        ws.on('message', (data, isBinary) => {
          if (!isBinary) inbox.push(JSON.parse(String(data)) as Msg);
          wake?.();
        });
        const next = async (type: string) => {
          const deadline = Date.now() + 5000;
          while (Date.now() < deadline) {
            const i = inbox.findIndex((m) => m.type === type);
            if (i >= 0) return inbox.splice(i, 1)[0];
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 50).unref();
            });
          }
          throw new Error(`no ${type}; got ${JSON.stringify(inbox.map((m) => m.type))}`);
        };
        const hello = await next('hello');
        assert.deepEqual([hello.role, hello.protocol, hello.token, hello.emulator], ['emulator', 1, 'any', 'fceux']);
        assert.match((hello.rom as { md5: string }).md5, /^[0-9a-f]{32}$/);
        ws.send(JSON.stringify({ type: 'welcome', protocol: 1, session: 's', ram: [[0x18, 2], [0x700, 2]], screen: false }));
        const first = await next('state');
        assert.equal(decodeBase64Ram(first.ram as string).length, 4, 'only the requested RAM ranges, in strict base64');

        const pong = new Promise<Buffer>((r) => ws.once('pong', (data: Buffer) => r(data)));
        ws.ping(Buffer.from('are you there'));
        assert.equal(String(await within(pong, 5000, 'a WebSocket pong')), 'are you there');

        ws.send(JSON.stringify({ type: 'heartbeat', seq: 42, timestamp: 1, pad: 'x'.repeat(70000) }));
        assert.equal((await next('heartbeat_ack')).seq, 42, 'a 70 KB message (64-bit length) is read whole');

        ws.send('{"type":"heartbeat",', { fin: false });
        ws.send('"seq":43,"timestamp":1}', { fin: true });
        assert.equal((await next('heartbeat_ack')).seq, 43, 'a fragmented message is reassembled');

        ws.send(JSON.stringify({ type: 'action', frame: (first.frame as number) + 5, buttons: [0, 0] }));
        const err = await next('error');
        assert.equal(err.code, 'wrong_frame');
        ws.send(JSON.stringify({ type: 'savestate', op: 'rewind', slot: 1 }));
        const badOp = await next('error');
        assert.equal(badOp.code, 'bad_savestate');
        assert.match(String(badOp.message), /op must be save, load, drop or replay, got "rewind"/, 'an unknown op names every op there is');
        ws.send(JSON.stringify({ type: 'action', frame: first.frame, buttons: [BUTTON.RIGHT, 0] }));
        const second = await next('state');
        assert.equal(second.frame, (first.frame as number) + 1, 'the action for the held frame still runs it');

        ws.send(JSON.stringify({ type: 'quit', code: 0 }));
        await expectExit(proc, 0);
      });
    } finally {
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });

  for (const binary of [false, true]) test(`a bridge that dies and comes back within the backoff gets the same frame again (${binary ? 'binary states and actions' : 'JSON'})`, async () => {
    const token = 'restart-token';
    const bridge = new BridgeServer({ token });
    const port = await bridge.listen();
    const nextPeer = peers(bridge, binary);
    const proc = launch(port, token, { LOCKSTEP_RECONNECT_TRIES: '6', LOCKSTEP_RECONNECT_MS: '100' });
    let bridge2: BridgeServer | undefined;
    try {
      await withProcess(proc, async () => {
        const a = await nextPeer();
        a.welcome();
        const held = await a.run(await a.state(), 30, [BUTTON.RIGHT, 0]);
        await bridge.close();
        // Let the script's first reconnect attempts hit a closed port before the bridge returns.
        await sleep(250);
        bridge2 = new BridgeServer({ token, port });
        await bridge2.listen();
        const nextPeer2 = peers(bridge2, binary);
        const b = await nextPeer2();
        assert.equal(b.link.hello.token, token, 're-hello with the same token');
        b.welcome();
        const again = await b.state();
        assert.equal(again.frame, held.frame, 'the current state is sent again after the reconnect');
        assert.deepEqual(ram(again), ram(held));
        const after = await b.run(again, 30, [BUTTON.RIGHT, 0]);
        assert.equal(after.frame, (held.frame as number) + 30);
        b.link.sendJson({ type: 'quit', code: 0 });
        await expectExit(proc, 0);
        const out = outputOf(proc);
        assert.match(out, /lost the bridge/);
        assert.match(out, /connection attempt 1 failed/);
        assert.match(out, /reconnected to the bridge/);
      });
    } finally {
      await bridge.close();
      await bridge2?.close();
    }
  });

  test('a bridge that dies for good: FCEUX gives up after its retries and exits 4', async () => {
    const bridge = new BridgeServer({ token: 't' });
    const port = await bridge.listen();
    const nextPeer = peers(bridge);
    const proc = launch(port, 't', { LOCKSTEP_RECONNECT_TRIES: '3', LOCKSTEP_RECONNECT_MS: '50' });
    try {
      await withProcess(proc, async () => {
        const a = await nextPeer();
        a.welcome();
        await a.run(await a.state(), 10);
        await bridge.close();
        await expectExit(proc, LUA_EXIT.bridgeGone);
        assert.match(proc.lastErrorLines(4).join('\n'), /bridge gone: 4 connection attempts to 127\.0\.0\.1:\d+ failed/);
      });
    } finally {
      await bridge.close();
    }
  });

  test('a bridge that stops answering: heartbeats, then a reconnect that resends the held state', async () => {
    const bridge = new BridgeServer({ token: 't' });
    const port = await bridge.listen();
    const nextPeer = peers(bridge);
    const proc = launch(port, 't', { LOCKSTEP_HEARTBEAT_MS: '100', LOCKSTEP_DEAD_MS: '600' });
    try {
      await withProcess(proc, async () => {
        const a = await nextPeer();
        a.welcome();
        const held = await a.run(await a.state(), 20);
        // Silence: no action, no heartbeat_ack. The script must notice and reconnect on its own.
        const b = await nextPeer();
        const beats = a.received.filter((m) => m.type === 'heartbeat');
        assert.ok(beats.length >= 2, `heartbeats while idle (${beats.length})`);
        await until(() => a.closed !== undefined, 3000, 'the old link to close', 20);
        b.welcome();
        const again = await b.state();
        assert.equal(again.frame, held.frame);
        // A bridge that answers heartbeats keeps the link, however long it waits for an action.
        const answer = b.link.onMessage((d) => {
          const m = typeof d === 'string' ? (JSON.parse(d) as Msg) : undefined;
          if (m?.type === 'heartbeat') b.link.sendJson({ type: 'heartbeat_ack', seq: m.seq, timestamp: Date.now() });
        });
        await sleep(1200);
        answer();
        assert.equal(b.closed, undefined, 'answered heartbeats keep the link open');
        const after = await b.run(again, 5);
        assert.equal(after.frame, (held.frame as number) + 5);
        b.link.sendJson({ type: 'quit', code: 0 });
        await expectExit(proc, 0);
      });
    } finally {
      await bridge.close();
    }
  });

  test('attach mode: FceuxEmulator waits for a user-started FCEUX, and close() stops only the script', async () => {
    const bridge = new BridgeServer();
    const port = await bridge.listen();
    const emu = new FceuxEmulator({ mode: 'attach', bridge, connectTimeoutMs: 15000 });
    const started = emu.start(ROM);
    // A "user" FCEUX: the script configured through the environment, not launched by Lockstep.
    const proc = launch(port, bridge.token, {}, false);
    try {
      await withProcess(proc, async () => {
        const { first } = await started;
        assert.equal(emu.pid, undefined, 'attach mode launches nothing');
        let f = first;
        for (let i = 0; i < 20; i++) {
          const next = await emu.step([BUTTON.RIGHT, 0]);
          assert.equal(next.frame, f.frame + 1);
          f = next;
        }
        assert.ok(f.ram[P1_X] > 64, 'the paddle moved');
        await emu.close();
        await until(() => /bridge said quit/.test(outputOf(proc)), 5000, 'the script to stop', 20);
        await sleep(300);
        assert.equal(proc.exitStatus, undefined, 'FCEUX itself keeps running after the script stopped');
      });
      assert.equal(proc.exitStatus?.signal, 'SIGHUP', 'stop() ended the running FCEUX with SIGHUP');
    } finally {
      await emu.close();
      await bridge.close();
    }
  });
});
