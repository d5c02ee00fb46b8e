// Host-side panel controllers in plain Node over a fake webview channel: handshake, sessions coming and going, visibility, saving, bad input.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PANEL_PROTOCOL_VERSION, type HostMessage } from '../../src/webview/panelMessages';
import type { PanelChannel } from '../../src/extension/panels/panelController';
import { LiveRuntimeSource, type DisposableLike } from '../../src/extension/panels/runtimeSource';
import { ScreenController } from '../../src/extension/panels/screenController';
import { BufferController, bufferRows } from '../../src/extension/panels/bufferController';
import { MetricsController } from '../../src/extension/panels/metricsController';
import { BUTTON } from '../../src/core/buttons';
import { RAM_MAP, liveRuntime, makeServices } from './liveSession';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class FakeChannel implements PanelChannel {
  readonly posted: HostMessage[] = [];
  private readonly listeners = new Set<(raw: unknown) => void>();
  post(message: HostMessage): void {
    this.posted.push(message);
  }
  onMessage(listener: (raw: unknown) => void): DisposableLike {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
  send(raw: unknown): void {
    for (const l of [...this.listeners]) l(raw);
  }
  of<T extends HostMessage['type']>(type: T): Array<Extract<HostMessage, { type: T }>> {
    return this.posted.filter((m): m is Extract<HostMessage, { type: T }> => m.type === type);
  }
  ackAll(): void {
    const seqs = this.posted.flatMap((m) => ('seq' in m ? [m.seq] : []));
    if (seqs.length) this.send({ type: 'ack', seq: Math.max(...seqs) });
  }
}

async function until(what: string, probe: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('panel controllers (Node, fake webview)', () => {
  test('handshake: nothing is sent before ready; hello carries the session; a version or panel mismatch is logged', async () => {
    const rt = await liveRuntime();
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt, ramMap: RAM_MAP, session: 'abc' });
    const ch = new FakeChannel();
    const services = makeServices();
    const ctl = new ScreenController(ch, source, services);
    try {
      await rt.advance();
      await sleep(60);
      assert.equal(ch.posted.length, 0, 'a webview that has not said ready gets nothing');
      ch.send({ type: 'ready', version: PANEL_PROTOCOL_VERSION + 1, panel: 'buffer' });
      const hello = ch.of('hello')[0];
      assert.equal(hello.version, PANEL_PROTOCOL_VERSION);
      assert.equal(hello.panel, 'screen');
      assert.equal(hello.session?.id, 'abc');
      assert.equal(hello.session?.rom, 'demo.nes');
      assert.equal(hello.session?.live, true);
      assert.equal(hello.session?.screens, true);
      assert.deepEqual(hello.session?.ramVars.find((v) => v.name === 'p1_x'), { name: 'p1_x', address: 0x18, size: 1, signed: false, meaning: RAM_MAP.lookup('p1_x')!.meaning });
      assert.ok(services.logs.some((l) => new RegExp(`^error screen panel speaks protocol ${PANEL_PROTOCOL_VERSION + 1}, the extension ${PANEL_PROTOCOL_VERSION}`).test(l)));
      assert.ok(services.logs.some((l) => /^error a buffer webview is attached to the screen panel host/.test(l)));
      const screen = ch.of('screen').at(-1)!;
      assert.equal(screen.update.frame, rt.current!.frame);
      assert.equal(screen.update.pixels?.length, 256 * 240 * 4);
      assert.deepEqual(screen.update.buttons, [BUTTON.RIGHT | BUTTON.B, 0], 'the buttons applied on the previous frame');
    } finally {
      ctl.dispose();
      await rt.close();
    }
  });

  test('bad webview messages are logged with the reason, never thrown', async () => {
    const source = new LiveRuntimeSource();
    const ch = new FakeChannel();
    const services = makeServices();
    const ctl = new ScreenController(ch, source, services);
    try {
      ch.send('hello');
      ch.send({ type: 'ack', seq: 'x' });
      ch.send({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'screen' });
      ch.send({ type: 'ack', seq: 50 });
      ch.send({ type: 'selectRow', frame: 3 });
      assert.match(services.logs[0], /^warn screen panel: ignored a bad message: webview message must be an object, got "hello"/);
      assert.match(services.logs[1], /ack\.seq must be a non-negative integer, got "x"/);
      assert.match(services.logs[2], /^warn screen panel: ack: flow control: ack for seq 50, but only 0 were sent/);
      assert.match(services.logs[3], /unexpected selectRow message/);
      assert.equal(ch.of('hello')[0].session, null, 'no session yet');
    } finally {
      ctl.dispose();
    }
  });

  test('sessions come and go: the panel is told, keeps the ended session, and switches to a new one', async () => {
    const source = new LiveRuntimeSource();
    const ch = new FakeChannel();
    const ctl = new BufferController(ch, source, makeServices());
    const rt1 = await liveRuntime();
    const rt2 = await liveRuntime();
    const ackLoop = setInterval(() => ch.ackAll(), 20);
    try {
      ch.send({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'buffer' });
      const a = source.attach({ runtime: rt1, ramMap: RAM_MAP, session: 'one' });
      assert.deepEqual(ch.of('session').map((m) => [m.session?.id, m.session?.live]), [['one', true]]);
      a.dispose();
      assert.deepEqual(ch.of('session').map((m) => [m.session?.id, m.session?.live]), [['one', true], ['one', false]]);
      assert.equal(ctl.runtime, rt1, 'the ended session stays shown');
      source.attach({ runtime: rt2, session: 'two' });
      assert.deepEqual(ch.of('session').at(-1)?.session?.id, 'two');
      assert.equal(ctl.runtime, rt2);
      ch.ackAll();
      for (let i = 0; i < 5; i++) await rt2.advance();
      await until('rows of the new session', () => ch.of('bufferRows').some((m) => m.rows.at(-1)?.frame === rt2.current!.frame));
      assert.deepEqual(ch.of('bufferRows').at(-1)!.rows, bufferRows(rt2, 2000));
      ch.send({ type: 'selectRow', frame: rt2.current!.frame });
      const d = ch.of('bufferDetail').at(-1)!.detail;
      assert.equal(d.found, true);
      assert.deepEqual([...d.ram!], [...rt2.current!.ram]);
      assert.deepEqual(d.vars, RAM_MAP.read(rt2.current!.ram), 'variables come from the runtime');
      assert.deepEqual(ch.of('session').at(-1)?.session?.ramVars, [], 'without the session RAM map no addresses are known');
    } finally {
      clearInterval(ackLoop);
      ctl.dispose();
      await rt1.close();
      await rt2.close();
    }
  });

  test('a hidden panel is sent nothing; shown again it gets the newest frame only', async () => {
    const rt = await liveRuntime();
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt });
    const ch = new FakeChannel();
    const ctl = new ScreenController(ch, source, makeServices());
    try {
      ch.send({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'screen' });
      ch.ackAll();
      ctl.setVisible(false);
      const before = ch.of('screen').length;
      for (let i = 0; i < 10; i++) await rt.advance();
      assert.equal(ch.of('screen').length, before);
      ctl.setVisible(true);
      assert.equal(ch.of('screen').length, before + 1);
      assert.equal(ch.of('screen').at(-1)!.update.frame, rt.current!.frame);
      assert.equal(ctl.flowStats.dropped, 9);
    } finally {
      ctl.dispose();
      await rt.close();
    }
  });

  test('shown again (another editor was over it, its group was joined), the panel is told the live session and the held frame anew', async () => {
    const rt = await liveRuntime();
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt, session: 'paused-one' });
    const ch = new FakeChannel();
    const ctl = new ScreenController(ch, source, makeServices());
    try {
      ch.send({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'screen' });
      ch.ackAll();
      await rt.advance();
      ch.ackAll();
      ctl.setVisible(false);
      const sessionsBefore = ch.of('session').length;
      const screensBefore = ch.of('screen').length;
      ctl.setVisible(true);
      const told = ch.of('session').slice(sessionsBefore);
      assert.equal(told.length, 1, 'one session message on being shown');
      assert.deepEqual([told[0].session?.id, told[0].session?.live], ['paused-one', true]);
      const shown = ch.of('screen').slice(screensBefore);
      assert.equal(shown.length, 1, 'and the held frame once');
      assert.equal(shown[0].update.frame, rt.current!.frame);
      // Staying visible tells it nothing more.
      ctl.setVisible(true);
      assert.equal(ch.of('session').length, sessionsBefore + 1);
    } finally {
      ctl.dispose();
      await rt.close();
    }
  });

  test('"dropped" counts per session: a new session starts at 0 whatever the panel skipped before', async () => {
    const rt1 = await liveRuntime();
    const rt2 = await liveRuntime();
    const source = new LiveRuntimeSource();
    const first = source.attach({ runtime: rt1 });
    const ch = new FakeChannel();
    const ctl = new ScreenController(ch, source, makeServices());
    try {
      ch.send({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'screen' });
      ch.ackAll();
      ctl.setVisible(false);
      for (let i = 0; i < 10; i++) await rt1.advance();
      ctl.setVisible(true);
      assert.equal(ch.of('screen').at(-1)!.update.dropped, 9, 'frames skipped while hidden');
      ch.ackAll();
      first.dispose();
      source.attach({ runtime: rt2 });
      await rt2.advance();
      await until('a frame of the second session', () => ch.of('screen').at(-1)!.update.frame === rt2.current!.frame);
      assert.equal(ch.of('screen').at(-1)!.update.dropped, 0, 'the second session has skipped nothing yet');
    } finally {
      ctl.dispose();
      await rt1.close();
      await rt2.close();
    }
  });

  test('when capture follows the panels, the webview is told as it switches, and the held frame gets its screen', async () => {
    const rt = await liveRuntime({ captureScreens: 'panels' });
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt });
    const ch = new FakeChannel();
    const ctl = new ScreenController(ch, source, makeServices());
    try {
      ch.send({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'screen' });
      const hello = ch.of('hello')[0];
      assert.equal(hello.session?.screens, false);
      assert.equal(hello.session?.screensOff, false, 'not forbidden by the launch configuration: only not switched on yet');
      assert.equal(ch.of('screen').at(-1)?.update.pixels ?? null, null);
      ch.ackAll();
      rt.setScreensShown(true);
      await rt.refreshScreen();
      await until('the session message saying screens are captured', () => ch.of('session').some((m) => m.session?.screens === true));
      await until('the held frame with its pixels', () => (ch.of('screen').at(-1)?.update.pixels?.length ?? 0) === 256 * 240 * 4);
      assert.equal(ch.of('screen').at(-1)!.update.frame, rt.current!.frame);
      assert.equal(ch.of('screen').at(-1)!.update.dropped, 0, 'the held frame again, with its screen, is no frame skipped');
    } finally {
      ctl.dispose();
      await rt.close();
    }
  });

  test('saving: the PNG goes to the save dialog; saved, cancelled and failed saves are reported to the webview', async () => {
    const source = new LiveRuntimeSource();
    const ok = makeServices('/tmp/f.png');
    const ch = new FakeChannel();
    const ctl = new ScreenController(ch, source, ok);
    const cancelled = makeServices(undefined);
    const ch2 = new FakeChannel();
    const ctl2 = new ScreenController(ch2, source, cancelled);
    const failing = { ...makeServices(), saveFile: async () => { throw new Error('EACCES: permission denied'); } };
    const ch3 = new FakeChannel();
    const ctl3 = new ScreenController(ch3, source, failing);
    try {
      for (const c of [ch, ch2, ch3]) c.send({ type: 'savePng', frame: 42, png: PNG });
      await until('saved', () => ch.of('saved').length > 0 && ch2.of('saved').length > 0 && ch3.of('saved').length > 0);
      assert.equal(ok.saved[0].defaultName, 'frame-42.png');
      assert.deepEqual(ok.saved[0].filters, { 'PNG image': ['png'] });
      assert.deepEqual([...ok.saved[0].data], [...PNG]);
      assert.deepEqual(ch.of('saved')[0], { type: 'saved', what: 'png', path: '/tmp/f.png', error: null });
      assert.deepEqual(ch2.of('saved')[0], { type: 'saved', what: 'png', path: null, error: null });
      assert.deepEqual(ch3.of('saved')[0], { type: 'saved', what: 'png', path: null, error: 'EACCES: permission denied' });
    } finally {
      ctl.dispose();
      ctl2.dispose();
      ctl3.dispose();
    }
  });

  test('metrics: a paused session adds no points; export without a session is refused with a reason', async () => {
    const source = new LiveRuntimeSource();
    const ch = new FakeChannel();
    const ctl = new MetricsController(ch, source, makeServices(), undefined, 20);
    const rt = await liveRuntime();
    try {
      ch.send({ type: 'exportCsv' });
      assert.deepEqual(ch.of('saved')[0], { type: 'saved', what: 'csv', path: null, error: 'no session to export metrics from' });
      ch.send({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'metrics' });
      source.attach({ runtime: rt });
      for (let i = 0; i < 20; i++) await rt.advance();
      await until('a point', () => ctl.series.length >= 1);
      await sleep(120);
      const n = ctl.series.length;
      await sleep(120);
      assert.equal(ctl.series.length, n, 'no new points while paused');
      assert.equal(ctl.series.at(-1)!.framesProcessed, 20);
      await until('metrics sent', () => ch.of('metrics').some((m) => m.update.points.some((p) => p.framesProcessed === 20)));
      const first = ch.of('metrics')[0];
      assert.equal(first.update.reset, true);
      // Appended updates never repeat a point.
      ch.ackAll();
      for (let i = 0; i < 10; i++) await rt.advance();
      await until('next point', () => ch.of('metrics').some((m) => m.update.points.some((p) => p.framesProcessed === 30)));
      const sentPoints = ch.of('metrics').flatMap((m) => m.update.points.map((p) => p.framesProcessed));
      assert.deepEqual(sentPoints, [...new Set(sentPoints)].sort((a, b) => a - b));
    } finally {
      ctl.dispose();
      await rt.close();
    }
  });
});
