// lockstep.lua in a real headless FCEUX sending states as JSON, as binary "LSST" messages, and with screens in the screen file: same machine states every way.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BridgeServer, type BridgeLink } from '../../src/bridge/bridgeServer';
import { BUTTON, type ButtonPair } from '../../src/core/buttons';
import { demoRomPath } from '../../src/core/packageRoot';
import { binaryFrameKind, decodeScreenFrame, decodeStateFrame, GD_HEADER_BYTES, SCREEN_HEADER_BYTES, type StateFrame } from '../../src/bridge/screenFrame';
import type { EmulatorFrame } from '../../src/core/ports';
import { FceuxEmulator, type FceuxActionEncoding, type FceuxStateTransport } from '../../src/emulators/fceux/fceuxEmulator';
import { encodeActionFrame } from '../../src/bridge/actionFrame';
import { locateFceux, lockstepLuaPath } from '../../src/emulators/fceux/fceuxLocator';
import { FceuxProcess, type FceuxExit } from '../../src/emulators/fceux/fceuxProcess';

const ROM = demoRomPath();
const GD_BYTES = GD_HEADER_BYTES + 256 * 240 * 4;

function digest(bytes: Uint8Array | undefined): string {
  return bytes ? createHash('sha256').update(bytes).digest('hex').slice(0, 16) : 'none';
}

function inputs(count: number): ButtonPair[] {
  const seq: ButtonPair[] = [[BUTTON.RIGHT, 0], [BUTTON.RIGHT | BUTTON.A, BUTTON.LEFT], [0, BUTTON.LEFT], [BUTTON.LEFT, BUTTON.RIGHT]];
  return Array.from({ length: count }, (_, i) => seq[Math.floor(i / 9) % seq.length]);
}

/** The same session through one transport: stepped frames (some without screens), snapshot, load, resync, reset. */
async function session(transport: FceuxStateTransport, actions: FceuxActionEncoding = 'binary', luaPath?: string): Promise<{ trace: string[]; logs: string[]; fileSize?: number }> {
  const logs: string[] = [];
  const emu = new FceuxEmulator({
    stateTransport: transport, actions, luaPath, stepTimeoutMs: 5000, connectTimeoutMs: 15000,
    log: (level, message) => { if (level !== 'info' || message.startsWith('lockstep.lua')) logs.push(`${level}: ${message}`); },
  });
  const trace: string[] = [];
  const kept: Array<[EmulatorFrame, string]> = [];
  const note = (what: string, f: EmulatorFrame, screen: boolean) => {
    assert.equal(f.screen !== undefined, screen, `${what} at frame ${f.frame} ${screen ? 'carries' : 'lacks'} a screen (${transport})`);
    if (f.screen) assert.equal(f.screen.length, 256 * 240 * 4);
    assert.equal(f.ram.length, 2048);
    trace.push(`${what} ${f.frame} lag=${f.lag} ram=${digest(f.ram)} screen=${digest(f.screen)}`);
    kept.push([f, digest(f.ram)]);
  };
  try {
    const { first } = await emu.start(ROM, { screen: true });
    note('start', first, true);
    const steps = inputs(90);
    for (let i = 0; i < steps.length; i++) {
      const screen = i % 7 !== 3;
      note('step', await emu.step(steps[i], { screen }), screen);
    }
    const snap = await emu.saveSnapshot();
    for (let i = 0; i < 20; i++) note('step', await emu.step([BUTTON.LEFT, BUTTON.RIGHT], { screen: true }), true);
    note('load', await emu.loadSnapshot(snap, { screen: true }), true);
    note('current', await emu.current({ screen: true }), true);
    note('reset', await emu.reset({ screen: false }), false);
    for (let i = 0; i < 10; i++) note('step', await emu.step([BUTTON.RIGHT, 0], { screen: true }), true);
    // Every frame's RAM is its own: the frames after it (whose images may share a block with it) left it as it was.
    assert.deepEqual(kept.map(([f]) => digest(f.ram)), kept.map(([, d]) => d));
    const path = emu.screenFilePath;
    return { trace, logs, fileSize: path && existsSync(path) ? statSync(path).size : undefined };
  } finally {
    const path = emu.screenFilePath;
    await emu.close();
    if (path) assert.equal(existsSync(path), false, 'the screen file is removed on close');
  }
}

describe('state transports (real FCEUX, headless)', () => {
  test('json, binary and file transports, and JSON or binary actions (also to a script without them), give identical frames, RAM and screens', async () => {
    const json = await session('json');
    const binary = await session('binary');
    const file = await session('file');
    const jsonActions = await session('file', 'json');
    // A lockstep.lua from before binary actions (its hello does not offer them) is sent JSON actions.
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-old-script-'));
    const oldScript = join(dir, 'lockstep.lua');
    const script = readFileSync(lockstepLuaPath(), 'utf8');
    assert.match(script, /,\s*binaryActions = true/);
    assert.match(script, /if op == 2 then/);
    // Without the offer in its hello, and ignoring binary messages while it waits for an action, as such a script did.
    writeFileSync(oldScript, script.replace(/,\s*binaryActions = true/, '').replace('if op == 2 then', 'if false then'));
    let older: Awaited<ReturnType<typeof session>>;
    try {
      older = await session('file', 'binary', oldScript);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(json.trace.length, 124);
    assert.deepEqual(binary.trace, json.trace);
    assert.deepEqual(file.trace, json.trace);
    assert.deepEqual(jsonActions.trace, json.trace);
    assert.deepEqual(older.trace, json.trace);
    assert.equal(file.fileSize, SCREEN_HEADER_BYTES + GD_BYTES, 'screens went through the file');
    for (const r of [json, binary, file, jsonActions, older]) assert.deepEqual(r.logs.filter((l) => !l.startsWith('info')), [], 'no warnings');
    // The paddle moved and the picture changed: the traces are not trivially equal.
    assert.ok(new Set(json.trace.map((t) => t.split(' screen=')[1])).size > 20);
  });
});

describe('screen file cleanup (real FCEUX, headless)', () => {
  test('a Node process that exits without close() leaves no screen file behind', () => {
    const module = join(__dirname, '..', '..', 'src', 'emulators', 'fceux', 'fceuxEmulator');
    const script = [
      `const { FceuxEmulator } = require(${JSON.stringify(module)});`,
      'const emu = new FceuxEmulator();',
      `emu.start(${JSON.stringify(ROM)}, { screen: true }).then(() => emu.step([0, 0], { screen: true })).then(() => {`,
      "  console.log('FILE ' + emu.screenFilePath); process.exit(0); }, (e) => { console.error(e); process.exit(1); });",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 30000 });
    assert.equal(child.status, 0, child.stderr);
    const path = /FILE (\S+\.gd)/.exec(child.stdout)?.[1] ?? assert.fail(`child printed no screen file: ${child.stdout}`);
    assert.equal(existsSync(dirname(path)), false, 'its folder went with the process');
  });
});

/** Collects one link's JSON messages and binary states as the test drives a real FCEUX by hand. */
class Link {
  readonly texts: Array<Record<string, unknown>> = [];
  readonly states: StateFrame[] = [];
  private wake?: () => void;
  constructor(readonly link: BridgeLink) {
    link.onMessage((data) => {
      if (typeof data === 'string') this.texts.push(JSON.parse(data) as Record<string, unknown>);
      else if (binaryFrameKind(data) === 'state') this.states.push(decodeStateFrame(data.slice()));
      this.wake?.();
    });
  }

  private async waitFor<T>(take: () => T | undefined, what: string, ms = 5000): Promise<T> {
    const deadline = Date.now() + ms;
    while (true) {
      const v = take();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms; texts ${JSON.stringify(this.texts.map((t) => t.type))}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 50).unref();
      });
    }
  }

  state(): Promise<StateFrame> {
    return this.waitFor(() => this.states.shift(), 'binary state');
  }

  text(type: string): Promise<Record<string, unknown>> {
    return this.waitFor(() => {
      const i = this.texts.findIndex((t) => t.type === type);
      return i >= 0 ? this.texts.splice(i, 1)[0] : undefined;
    }, `${type} message`);
  }
}

/** The one link FCEUX opens to a hand-driven bridge, within 15 s. */
async function firstLink(links: Link[]): Promise<Link> {
  const deadline = Date.now() + 15000;
  while (links.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(links.length, 1, 'FCEUX connected');
  return links[0];
}

/** Tells the script to quit and waits for FCEUX to exit (10 s at most). */
function quit(l: Link, proc: FceuxProcess): Promise<FceuxExit> {
  l.link.sendJson({ type: 'quit', code: 0 });
  return Promise.race([proc.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('FCEUX did not quit')), 10000).unref())]);
}

describe('lockstep.lua binary states against a hand-driven bridge (real FCEUX, headless)', () => {
  test('screens inside or in the file as offered; odd action text, resyncs and a refused file name all behave', async () => {
    const bridge = new BridgeServer();
    const port = await bridge.listen();
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-transport-test-'));
    const screenFile = join(dir, 'lockstep-screen-test1.gd');
    writeFileSync(screenFile, '');
    const links: Link[] = [];
    bridge.setHandler('emulator', (l) => links.push(new Link(l)));
    const lines: string[] = [];
    const proc = new FceuxProcess({
      fceuxPath: locateFceux(undefined), romPath: ROM, luaPath: lockstepLuaPath(), host: '127.0.0.1', port, token: bridge.token,
      headless: true, onLine: (_s, line) => lines.push(line),
    });
    const fileFrame = () => decodeScreenFrame(new Uint8Array(readFileSync(screenFile))).frame;
    try {
      const l = await firstLink(links);
      l.link.sendJson({ type: 'welcome', protocol: 1, session: 't', ram: [[0x10, 4], [0x700, 2]], screen: true, binaryState: true, screenFile });
      const first = await l.state();
      assert.equal(first.ram.length, 6, 'only the requested ranges');
      assert.ok(first.screen, 'the state sent after the welcome carries its screen inside');
      assert.equal(first.screenInFile, undefined);

      l.link.sendJson({ type: 'action', frame: first.frame, buttons: [BUTTON.RIGHT, 0], screen: true });
      const second = await l.state();
      assert.deepEqual([second.frame, second.screenInFile, second.screen], [first.frame + 1, true, undefined]);
      assert.equal(fileFrame(), second.frame, 'the file holds the stepped frame\'s screen');

      // Another key order than the bridge's own actions: the script's general decoder takes it.
      l.link.sendJson({ buttons: [0, 0], frame: second.frame, type: 'action', screen: true });
      const third = await l.state();
      assert.deepEqual([third.frame, third.screenInFile], [second.frame + 1, true]);
      assert.equal(fileFrame(), third.frame);

      l.link.sendJson({ type: 'resync_request', timestamp: 1 });
      const again = await l.state();
      assert.deepEqual([again.frame, again.screenInFile], [third.frame, undefined]);
      assert.ok(again.screen, 'a resync carries its screen inside');

      l.link.sendJson({ type: 'action', frame: third.frame, buttons: [0, 0], screen: false });
      const noScreen = await l.state();
      assert.deepEqual([noScreen.screen, noScreen.screenInFile], [undefined, undefined]);
      assert.equal(fileFrame(), third.frame, 'no screen asked, the file is left alone');

      l.link.sendJson({ type: 'action', frame: noScreen.frame + 3, buttons: [0, 0], screen: true });
      assert.equal((await l.text('error')).code, 'wrong_frame');

      l.link.sendJson({ type: 'welcome', protocol: 1, session: 't', ram: [[0, 2048]], screen: true, binaryState: true, screenFile: join(dir, 'notes.txt') });
      l.link.sendJson({ type: 'action', frame: noScreen.frame, buttons: [0, 0], screen: true });
      const inside = await l.state();
      assert.ok(inside.screen, 'a screen file with another name is not written to');
      assert.equal(inside.ram.length, 2048);

      l.link.sendJson({ type: 'welcome', protocol: 1, session: 't', ram: [[0, 2048]], screen: false });
      l.link.sendJson({ type: 'action', frame: inside.frame, buttons: [0, 0], screen: false });
      const json = await l.text('state');
      assert.deepEqual([json.frame, json.screen], [inside.frame + 1, false], 'without binaryState the script sends JSON again');

      assert.equal((await quit(l, proc)).code, 0);
      assert.match(lines.join('\n'), /ignoring screen file .*notes\.txt: not a lockstep-screen-\*\.gd file/);
    } finally {
      await proc.stop(0);
      await bridge.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('binary actions: offered in the hello, run the frame with their buttons and screen flag; bad ones are refused by name', async () => {
    const bridge = new BridgeServer();
    const port = await bridge.listen();
    const links: Link[] = [];
    bridge.setHandler('emulator', (l) => links.push(new Link(l)));
    const proc = new FceuxProcess({
      fceuxPath: locateFceux(undefined), romPath: ROM, luaPath: lockstepLuaPath(), host: '127.0.0.1', port, token: bridge.token, headless: true,
    });
    try {
      const l = await firstLink(links);
      assert.equal(l.link.hello.binaryActions, true, 'the script offers binary actions');
      l.link.sendJson({ type: 'welcome', protocol: 1, session: 't', ram: [[0, 2048]], screen: false, binaryState: true });
      const first = await l.state();

      // The same frames with the same buttons, once as JSON and once as binary actions, from one snapshot.
      const pressed = [...Array(8).fill(BUTTON.RIGHT), ...Array(8).fill(BUTTON.RIGHT | BUTTON.A), ...Array(8).fill(BUTTON.LEFT)] as number[];
      l.link.sendJson({ type: 'savestate', op: 'save', slot: 1, screen: false });
      await l.text('savestate_ack');
      const run = async (send: (frame: number, p1: number) => void, buttons = pressed): Promise<string[]> => {
        let at = first.frame;
        const out: string[] = [];
        for (const p1 of buttons) {
          send(at, p1);
          const s = await l.state();
          assert.equal(s.frame, at + 1);
          out.push(digest(s.ram));
          at = s.frame;
        }
        return out;
      };
      const viaJson = await run((frame, p1) => l.link.sendJson({ type: 'action', frame, buttons: [p1, 0], screen: false }));
      l.link.sendJson({ type: 'savestate', op: 'load', slot: 1, screen: false });
      assert.equal((await l.state()).frame, first.frame);
      const viaBinary = await run((frame, p1) => l.link.sendBinary(encodeActionFrame(frame, p1, 0, false)));
      assert.deepEqual(viaBinary, viaJson, 'a binary action runs the frame exactly as its JSON twin');
      l.link.sendJson({ type: 'savestate', op: 'load', slot: 1, screen: false });
      assert.equal((await l.state()).frame, first.frame);
      const released = await run((frame, p1) => l.link.sendBinary(encodeActionFrame(frame, p1, 0, false)), pressed.map(() => 0));
      assert.notDeepEqual(released, viaBinary, 'the buttons made a difference: the comparison above is not trivial');
      const held = first.frame + pressed.length;

      // The screen flag asks for the next state's screen, as the JSON action's screen field does.
      l.link.sendBinary(encodeActionFrame(held, 0, 0, true));
      const withScreen = await l.state();
      assert.equal(withScreen.frame, held + 1);
      assert.ok(withScreen.screen, 'screen flag set: the state carries its screen');
      const at = withScreen.frame;

      l.link.sendBinary(encodeActionFrame(at + 2, 0, 0, false));
      assert.deepEqual(await l.text('error'), { type: 'error', code: 'wrong_frame', message: `action for frame ${at + 2} but FCEUX is at frame ${at}` });
      const badMagic = encodeActionFrame(at, 0, 0, false);
      badMagic[3] = 0x58;
      l.link.sendBinary(badMagic);
      assert.equal((await l.text('error')).code, 'malformed');
      l.link.sendBinary(encodeActionFrame(at, 0, 0, false).subarray(0, 10));
      assert.match(String((await l.text('error')).message), /binary message of 10 bytes from the bridge is not an LSAC action/);
      const badVersion = encodeActionFrame(at, 0, 0, false);
      badVersion[4] = 2;
      l.link.sendBinary(badVersion);
      assert.deepEqual(await l.text('error'), { type: 'error', code: 'bad_action', message: 'binary action version 2 not supported (this script reads 1)' });
      const badFlags = encodeActionFrame(at, 0, 0, false);
      badFlags[5] = 6;
      l.link.sendBinary(badFlags);
      assert.deepEqual(await l.text('error'), { type: 'error', code: 'bad_action', message: 'binary action has unknown flags 6' });
      assert.equal(l.states.length, 0, 'no refused action ran a frame');

      // The frame is still held: a good action runs it.
      l.link.sendBinary(encodeActionFrame(at, 0, 0, false));
      assert.equal((await l.state()).frame, at + 1);
      assert.equal((await quit(l, proc)).code, 0);
    } finally {
      await proc.stop(0);
      await bridge.close();
    }
  });
});
