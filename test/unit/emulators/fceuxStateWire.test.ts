// FceuxEmulator (attach mode) against a stand-in for lockstep.lua: binary states, screens inside or in the screen file, the file's fallback, and JSON states from older scripts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, writeSync, closeSync } from 'node:fs';
import { WebSocket } from 'ws';
import { BridgeServer } from '../../../src/bridge/bridgeServer';
import { demoRomPath } from '../../../src/core/packageRoot';
import { GD_HEADER_BYTES, encodeScreenFrame, encodeStateFrame, gdToRgba } from '../../../src/bridge/screenFrame';
import { FceuxEmulator, type FceuxStateTransport } from '../../../src/emulators/fceux/fceuxEmulator';

type Msg = Record<string, unknown> & { type: string };

/** A 256x240 gd screenshot whose pixels depend on `seed`. */
function gd(seed: number): Uint8Array {
  const out = new Uint8Array(GD_HEADER_BYTES + 256 * 240 * 4);
  out.set([0xff, 0xfe, 1, 0, 0, 240, 1, 0xff, 0xff, 0xff, 0xff]);
  for (let i = GD_HEADER_BYTES; i < out.length; i++) out[i] = (i - GD_HEADER_BYTES) % 4 === 0 ? 0 : (i * seed) & 0xff;
  return out;
}

function ram(seed: number): Uint8Array {
  return Uint8Array.from({ length: 2048 }, (_, i) => (i + seed) & 0xff);
}

/** The emulator side of the link, driven by the test: a queue of the bridge's JSON messages. */
class StandIn {
  readonly inbox: Msg[] = [];
  private wake?: () => void;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.inbox.push(JSON.parse(String(data)) as Msg);
      this.wake?.();
    });
  }

  static async connect(bridge: BridgeServer): Promise<StandIn> {
    const ws = new WebSocket(bridge.url('emulator'));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const s = new StandIn(ws);
    ws.send(JSON.stringify({ type: 'hello', role: 'emulator', protocol: 1, token: bridge.token, emulator: 'stand-in', rom: { name: 'demo.nes', md5: '' } }));
    return s;
  }

  async next(type: string, ms = 3000): Promise<Msg> {
    const deadline = Date.now() + ms;
    while (true) {
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} within ${ms} ms; got ${JSON.stringify(this.inbox.map((m) => m.type))}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, left).unref();
      });
    }
  }

  sendState(frame: number, seed: number, screen?: 'inside' | 'file', welcome?: Msg): void {
    if (screen === 'file') {
      const fd = openSync(welcome!.screenFile as string, 'r+');
      writeSync(fd, encodeScreenFrame({ frame, width: 256, height: 240, format: 'gd', pixels: gd(seed) }), 0, undefined, 0);
      closeSync(fd);
    }
    this.ws.send(encodeStateFrame({
      frame, timestamp: 1718000000000.125 + frame, lag: frame % 2 === 1, ram: ram(seed), screenInFile: screen === 'file',
      screen: screen === 'inside' ? { frame, width: 256, height: 240, format: 'gd', pixels: gd(seed) } : undefined,
    }));
  }
}

/** Starts an attach-mode emulator on its own bridge and hands the test the stand-in's side. */
async function withStandIn(
  transport: FceuxStateTransport,
  body: (emu: FceuxEmulator, s: StandIn, welcome: Msg, warnings: string[]) => Promise<void>,
  screens = true,
): Promise<void> {
  const bridge = new BridgeServer();
  const warnings: string[] = [];
  const emu = new FceuxEmulator({
    mode: 'attach', bridge, stateTransport: transport, connectTimeoutMs: 5000, stepTimeoutMs: 3000,
    log: (level, message) => { if (level !== 'info') warnings.push(message); },
  });
  let stand: StandIn | undefined;
  try {
    const started = emu.start(demoRomPath(), { screen: screens });
    while (bridge.port === 0) await new Promise((r) => setTimeout(r, 5));
    stand = await StandIn.connect(bridge);
    const welcome = await stand.next('welcome');
    assert.equal(welcome.screen, screens);
    stand.sendState(10, 1, screens ? 'inside' : undefined);
    const { first } = await started;
    assert.deepEqual([first.frame, first.ram[0], first.lag], [10, 1, false]);
    assert.deepEqual(first.screen, screens ? gdToRgba(gd(1)).rgba : undefined);
    await body(emu, stand, welcome, warnings);
  } finally {
    stand?.ws.close();
    await emu.close();
    await bridge.close();
  }
}

describe('FceuxEmulator: binary states from a stand-in script', () => {
  test('the welcome offers binary states and a screen file; stepped screens come from the file', async () => {
    await withStandIn('file', async (emu, s, welcome) => {
      assert.equal(welcome.binaryState, true);
      assert.match(String(welcome.screenFile), /lockstep-screen-[0-9a-f]+\.gd$/);
      const stepping = emu.step([0x81, 0], { screen: true });
      const action = await s.next('action');
      assert.deepEqual([action.frame, action.buttons, action.screen], [10, [0x81, 0], true]);
      s.sendState(11, 2, 'file', welcome);
      const next = await stepping;
      assert.deepEqual([next.frame, next.timestamp, next.lag, next.ram[5]], [11, 1718000000011.125, true, 7]);
      assert.deepEqual(next.screen, gdToRgba(gd(2)).rgba);
    });
  });

  test('screens are converted when first read; one left unread in the file buffer survives the next file read', async () => {
    await withStandIn('file', async (emu, s, welcome) => {
      const one = emu.step([0, 0], { screen: true });
      await s.next('action');
      s.sendState(11, 21, 'file', welcome);
      const a = await one;
      assert.equal(Object.getOwnPropertyDescriptor(a, 'screen')?.get !== undefined, true, 'not converted yet');
      const two = emu.step([0, 0], { screen: true });
      await s.next('action');
      s.sendState(12, 22, 'file', welcome);
      const b = await two;
      assert.deepEqual(a.screen, gdToRgba(gd(21)).rgba, 'frame 11 keeps its own picture although the file now holds frame 12');
      assert.deepEqual(b.screen, gdToRgba(gd(22)).rgba);
      assert.equal(Object.getOwnPropertyDescriptor(b, 'screen')?.value, b.screen, 'a plain value once read');
      assert.deepEqual({ ...a }.screen, a.screen, 'spreading a frame copies its screen');
      const replaced = new Uint8Array(4);
      b.screen = replaced;
      assert.equal(b.screen, replaced, 'the screen can be replaced like any field');
    });
  });

  test('a screen file that does not hold this frame: the state is asked for again, with the screen inside', async () => {
    await withStandIn('file', async (emu, s, welcome, warnings) => {
      const stepping = emu.step([0, 0], { screen: true });
      await s.next('action');
      // The file holds another frame's screen than the state announcing it.
      const fd = openSync(welcome.screenFile as string, 'r+');
      writeSync(fd, encodeScreenFrame({ frame: 99, width: 256, height: 240, format: 'gd', pixels: gd(4) }), 0, undefined, 0);
      closeSync(fd);
      s.ws.send(encodeStateFrame({ frame: 11, timestamp: 1, lag: false, ram: ram(4), screenInFile: true }));
      assert.equal((await s.next('configure')).screen, true, 'states the script sends on its own carry screens from now on');
      await s.next('resync_request');
      s.sendState(11, 5, 'inside');
      const f = await stepping;
      assert.equal(f.frame, 11);
      assert.deepEqual(f.screen, gdToRgba(gd(5)).rgba);
      assert.ok(warnings.some((w) => /bad screen file from FCEUX \(screen is for frame 99, state for frame 11\)/.test(w)), warnings.join('\n'));
    }, false);
  });

  test('transport binary: no screen file is offered; screens travel inside the state', async () => {
    await withStandIn('binary', async (emu, s, welcome) => {
      assert.deepEqual([welcome.binaryState, welcome.screenFile], [true, undefined]);
      const stepping = emu.step([0, 0], { screen: true });
      await s.next('action');
      s.sendState(11, 6, 'inside');
      assert.deepEqual((await stepping).screen, gdToRgba(gd(6)).rgba);
    });
  });

  test('transport json: the welcome asks for nothing new, and JSON states with a following screen still work', async () => {
    await withStandIn('json', async (emu, s, welcome) => {
      assert.deepEqual([welcome.binaryState, welcome.screenFile], [undefined, undefined]);
      const stepping = emu.step([0, 0], { screen: true });
      await s.next('action');
      s.ws.send(JSON.stringify({ type: 'state', frame: 11, timestamp: 5.5, ram: Buffer.from(ram(8)).toString('base64'), lag: false, screen: true }));
      s.ws.send(encodeScreenFrame({ frame: 11, width: 256, height: 240, format: 'gd', pixels: gd(8) }));
      const f = await stepping;
      assert.deepEqual([f.frame, f.timestamp, f.ram[0]], [11, 5.5, 8]);
      assert.deepEqual(f.screen, gdToRgba(gd(8)).rgba);
    });
  });

  test('a malformed binary state is logged and ignored; the next good one answers the step', async () => {
    await withStandIn('file', async (emu, s, _welcome, warnings) => {
      const stepping = emu.step([0, 0]);
      await s.next('action');
      const bad = encodeStateFrame({ frame: 11, timestamp: 1, lag: false, ram: ram(1) });
      s.ws.send(bad.subarray(0, bad.length - 1));
      s.sendState(11, 9);
      const f = await stepping;
      assert.deepEqual([f.frame, f.ram[0], f.screen], [11, 9, undefined]);
      assert.ok(warnings.some((w) => /bad state from FCEUX: state frame truncated: 2048 bytes of RAM announced, 2047 present/.test(w)), warnings.join('\n'));
    });
  });

  test('an unknown stateTransport is refused up front', () => {
    assert.throws(() => new FceuxEmulator({ stateTransport: 'pigeon' as FceuxStateTransport }), /stateTransport must be one of json, binary, file, got "pigeon"/);
  });
});
