// Timeline host logic in plain Node over a real runtime with the session history: strips only when something moved, peeks, travel refusals, thumbnails after a cut history, bounded thumbnails.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PANEL_PROTOCOL_VERSION, type HostMessage } from '../../src/webview/panelMessages';
import type { PanelChannel } from '../../src/extension/panels/panelController';
import { LiveRuntimeSource, type DisposableLike } from '../../src/extension/panels/runtimeSource';
import { TimelineController } from '../../src/extension/panels/timelineController';
import { ThumbnailStore, THUMB_WIDTH, THUMB_HEIGHT } from '../../src/extension/panels/thumbnailStore';
import { RAM_MAP, liveRuntime, makeServices } from './liveSession';

class Channel implements PanelChannel {
  readonly posted: HostMessage[] = [];
  private readonly listeners = new Set<(raw: unknown) => void>();
  post(m: HostMessage): void {
    this.posted.push(m);
  }
  onMessage(l: (raw: unknown) => void): DisposableLike {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  }
  send(raw: unknown): void {
    for (const l of [...this.listeners]) l(raw);
  }
  of<T extends HostMessage['type']>(type: T): Array<Extract<HostMessage, { type: T }>> {
    return this.posted.filter((m): m is Extract<HostMessage, { type: T }> => m.type === type);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('timeline controller (Node, real runtime)', () => {
  test('a strip is sent on ready and again only when the history moved; peeks answer in range and say "not found" outside', async () => {
    const rt = await liveRuntime({ history: true, maxSteps: 20 });
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt, ramMap: RAM_MAP, session: 'n1' });
    const ch = new Channel();
    const ctl = new TimelineController(ch, source, makeServices());
    try {
      for (let i = 0; i < 25; i++) await rt.advance();
      ch.send({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'timeline' });
      // A strip offered before ready may go first; each is acknowledged as the webview does.
      const first = await until('the strip of the whole history', () => {
        const all = ch.of('timeline');
        if (all.length) ch.send({ type: 'ack', seq: all.at(-1)!.seq });
        return all.find((m) => m.update.headTick === 25);
      });
      assert.deepEqual(first.update.episodes.map((e) => [e.episode, e.firstTick, e.lastTick, e.end]), [[0, 0, 19, 'max_steps'], [1, 20, 25, null]]);
      assert.equal(first.update.canTravel, false, 'no travel service: no debug session');
      ch.send({ type: 'ack', seq: first.seq });
      const sent = ch.of('timeline').length;
      await sleep(150);
      assert.equal(ch.of('timeline').length, sent, 'nothing moved: no new strip');
      await rt.advance();
      const second = await until('a strip after a frame', () => ch.of('timeline')[sent]);
      assert.equal(second.update.headTick, 26);

      ch.send({ type: 'peek', tick: 5 });
      const peek = ch.of('timelinePeek')[0].peek;
      assert.equal(peek.found, true);
      assert.deepEqual([peek.episode, peek.step, peek.frame], [0, 5, rt.sessionHistory!.stateAt(5).frame]);
      assert.equal(peek.thumb?.length, THUMB_WIDTH * THUMB_HEIGHT * 4);
      assert.equal(peek.thumbTick, 5);
      ch.send({ type: 'peek', tick: 999 });
      assert.equal(ch.of('timelinePeek')[1].peek.found, false);

      ch.send({ type: 'travel', tick: 3 });
      const refused = await until('the travel answer', () => ch.of('travelled')[0]);
      assert.match(refused.error ?? '', /No Lockstep debug session is running/);
    } finally {
      ctl.dispose();
      await rt.close();
    }
  });

  test('after a travel that cuts the open episode, ticks held again show their new screens, not the lost future\'s', async () => {
    const rt = await liveRuntime({ history: true });
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt, ramMap: RAM_MAP, session: 'n2' });
    const ch = new Channel();
    const services = makeServices();
    services.travel = async (tick) => void (await rt.travelTo(tick));
    const ctl = new TimelineController(ch, source, services);
    try {
      ch.send({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'timeline' });
      for (let i = 0; i < 30; i++) await rt.advance();
      ch.send({ type: 'travel', tick: 10 });
      assert.equal((await until('travelled', () => ch.of('travelled')[0])).error, null);
      assert.equal(rt.sessionHistory!.headTick, 10);
      await sleep(80);
      ch.send({ type: 'peek', tick: 20 });
      assert.equal(ch.of('timelinePeek').at(-1)!.peek.found, false, 'tick 20 was cut');
      // Held again (the holding agent presses the same buttons, so compare with the runtime's own screen).
      for (let i = 0; i < 10; i++) await rt.advance();
      ch.send({ type: 'peek', tick: 20 });
      const p = ch.of('timelinePeek').at(-1)!.peek;
      assert.equal(p.thumbTick, 20);
      const store = new ThumbnailStore();
      store.add(20, rt.current!.screen!);
      assert.deepEqual(p.thumb, store.nearest(20, 0)!.rgba);
    } finally {
      ctl.dispose();
      await rt.close();
    }
  });

  test('thumbnails stay within their capacity, the newest dense and the oldest thinned, and never cross an episode start', () => {
    const store = new ThumbnailStore(16);
    const screen = new Uint8Array(256 * 240 * 4);
    for (let t = 0; t < 100; t++) store.add(t, screen);
    assert.ok(store.size <= 16, `${store.size} kept`);
    assert.equal(store.nearest(99, 0)?.tick, 99);
    assert.equal(store.nearest(98, 0)?.tick, 98, 'the newest ticks are all kept');
    const old = store.nearest(10, 0)?.tick;
    assert.ok(old !== undefined && old <= 10);
    assert.equal(store.nearest(10, 11), undefined, 'nothing from before the episode start');
    store.truncateAfter(50);
    assert.ok((store.nearest(99, 0)?.tick ?? 0) <= 50);
  });
});
