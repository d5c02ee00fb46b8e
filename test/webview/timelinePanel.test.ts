// Timeline panel in real Chromium over a real runtime with the session history: the strip, hover peek (thumbnail + row), click to travel through run control.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LiveRuntimeSource } from '../../src/extension/panels/runtimeSource';
import { TimelineController } from '../../src/extension/panels/timelineController';
import { THUMB_HEIGHT, THUMB_STEP, THUMB_WIDTH } from '../../src/extension/panels/thumbnailStore';
import { ThumbnailKeeper } from '../../src/extension/panels/thumbnailKeeper';
import { RunControl, type StopInfo, type StopChecks } from '../../src/session/runControl';
import { NES_WIDTH } from '../../src/core/nes';
import type { LockstepRuntime } from '../../src/core/runtime/runtime';
import { panelSuite, type PanelPage } from './harness';
import { RAM_MAP, liveRuntime, makeServices } from './liveSession';

const EPISODE = 40;
/** The agent answers its 10th and 55th calls with a frame id ahead: two real minor_skip desyncs. */
const SKIPS = [10, 55];

const NO_CHECKS: StopChecks = { rebase: () => undefined, hasFrameChecks: false, checkFrame: () => undefined, desyncStops: () => ({ stops: false }) };

/** A session stopped after 2.5 episodes, every held state's screen kept by tick (what the panel must show on hover). */
async function stoppedSession(): Promise<{ rt: LockstepRuntime; rc: RunControl; source: LiveRuntimeSource; thumbnails: ThumbnailKeeper; screens: Map<number, Uint8Array>; stops: StopInfo[] }> {
  const rt = await liveRuntime({ history: true, maxSteps: EPISODE, skipAt: SKIPS });
  // As in the extension: the session is attached (and its thumbnails kept) from its start, the timeline opens later.
  const source = new LiveRuntimeSource();
  source.attach({ runtime: rt, ramMap: RAM_MAP, session: 'tl' });
  const thumbnails = new ThumbnailKeeper(source);
  const screens = new Map<number, Uint8Array>();
  screens.set(rt.currentTick, rt.current!.screen!.slice());
  rt.events.on('frame', ({ current }) => screens.set(rt.currentTick, current.screen!.slice()));
  const rc = new RunControl({ waitNoticeMs: 60_000, statusIntervalMs: 60_000 });
  const stops: StopInfo[] = [];
  rc.events.on('stopped', (s) => stops.push(s));
  rc.starting({ pauseUntilAction: false, stepBackDepth: 0 });
  rc.attach(rt, NO_CHECKS, [{}]);
  rc.run({ kind: 'frames', count: 2 * EPISODE + 20 }, false);
  const deadline = Date.now() + 20_000;
  while (rc.state !== 'stopped') {
    if (Date.now() > deadline) throw new Error('the run did not stop');
    await new Promise((r) => setTimeout(r, 10));
  }
  return { rt, rc, source, thumbnails, screens, stops };
}

/** The thumbnail the panel should draw for a screen: the middle pixel of every 4x4 block. */
function expectedThumb(screen: Uint8Array): Uint8Array {
  const out = new Uint8Array(THUMB_WIDTH * THUMB_HEIGHT * 4);
  for (let y = 0; y < THUMB_HEIGHT; y++) {
    for (let x = 0; x < THUMB_WIDTH; x++) {
      const i = ((y * THUMB_STEP + 2) * NES_WIDTH + x * THUMB_STEP + 2) * 4;
      const o = (y * THUMB_WIDTH + x) * 4;
      out.set([screen[i], screen[i + 1], screen[i + 2], 255], o);
    }
  }
  return out;
}

async function thumbPixels(p: PanelPage): Promise<Uint8Array> {
  const b64 = await p.page.evaluate(() => {
    const c = document.getElementById('peek-thumb') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
    return btoa(s);
  });
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/** Page coordinates of the middle of a tick's slot on the strip. */
async function tickPoint(p: PanelPage, tick: number): Promise<{ x: number; y: number }> {
  const box = await p.page.locator('#tl-strip').boundingBox();
  assert.ok(box);
  const oldest = Number(await p.page.locator('#tl-strip').getAttribute('data-oldest'));
  const head = Number(await p.page.locator('#tl-strip').getAttribute('data-head'));
  return { x: box.x + ((tick - oldest + 0.5) / (head - oldest + 1)) * box.width, y: box.y + box.height / 2 };
}

describe('timeline panel (Chromium, real runtime)', () => {
  const panels = panelSuite();

  test('the strip shows every episode, the desyncs where they happened and the stop; hovering a tick shows its screen thumbnail and row', async () => {
    const { rt, source, thumbnails, screens } = await stoppedSession();
    const h = rt.sessionHistory!;
    const services = { ...makeServices(), thumbnails };
    let ctl: TimelineController | undefined;
    const p = await panels.open('timeline', { width: 1000, height: 420, beforeLoad: (page) => { ctl = new TimelineController(page, source, services); } });
    try {
      await p.waitFor('the strip with the whole history', async () => (await p.page.locator('#tl-strip').getAttribute('data-head')) === String(h.headTick) || undefined);
      const episodes = await p.page.locator('.tl-episode').evaluateAll((els) => els.map((e) => [Number((e as HTMLElement).dataset.episode), Number((e as HTMLElement).dataset.first), Number((e as HTMLElement).dataset.last)]));
      assert.deepEqual(episodes, h.episodes.map((e) => [e.episode, e.firstTick, e.lastTick]));
      assert.equal(episodes.length, 3);
      const desyncTicks = await p.page.locator('.tl-marker.desync').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.tick)));
      const expected = h.markers.filter((m) => m.kind === 'desync').map((m) => m.tick);
      assert.equal(expected.length, SKIPS.length, `the agent's skips made ${SKIPS.length} desyncs: ${JSON.stringify(h.markers)}`);
      assert.deepEqual(desyncTicks, expected);
      const stopTicks = await p.page.locator('.tl-marker.stop').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.tick)));
      assert.deepEqual(stopTicks, [h.headTick], 'the forward stop at the end of the run is marked where it held');
      assert.equal(await p.page.locator('#tl-strip').getAttribute('data-current'), String(h.headTick));

      // Hover a tick of the first episode: its frame, counters, buttons and RAM-map variables, and its own screen.
      const tick = 23;
      const pt = await tickPoint(p, tick);
      await p.page.mouse.move(pt.x, pt.y);
      await p.waitFor(`the peek of tick ${tick}`, async () => (await p.page.locator('#tl-peek').getAttribute('data-tick')) === String(tick) || undefined);
      const s = h.stateAt(tick);
      const cell = (k: string) => p.page.locator(`#peek-row td[data-key="${k}"]`).innerText();
      assert.equal(await cell('frame'), String(s.frame));
      assert.equal(await cell('episode · step'), `0 · ${tick}`);
      assert.equal(await cell('buttons out'), 'P1 B+RIGHT · P2 —', 'the holding agent pressed B+RIGHT on controller 1');
      const vars = RAM_MAP.read(h.ramAt(tick));
      for (const [k, v] of Object.entries(vars)) assert.equal(await cell(`var.${k}`), String(v), `variable ${k}`);
      assert.equal(await p.page.locator('#peek-thumb').getAttribute('data-tick'), String(tick), 'the thumbnail is the hovered tick\'s own screen');
      const px = await thumbPixels(p);
      assert.deepEqual(px, expectedThumb(screens.get(tick)!), 'thumbnail pixels are the tick\'s screen, downsampled');
      // Another tick shows another picture: the demo's screen moves with the player.
      const later = EPISODE - 1;
      const pt2 = await tickPoint(p, later);
      await p.page.mouse.move(pt2.x, pt2.y);
      await p.waitFor(`the peek of tick ${later}`, async () => (await p.page.locator('#tl-peek').getAttribute('data-tick')) === String(later) || undefined);
      assert.deepEqual(await thumbPixels(p), expectedThumb(screens.get(later)!));
      assert.notDeepEqual(expectedThumb(screens.get(later)!), expectedThumb(screens.get(tick)!), 'the two ticks show different screens');
      await p.screenshot('timeline-hover');
      assert.deepEqual(p.cspViolations, []);
      assert.deepEqual(p.pageErrors, []);
    } finally {
      ctl?.dispose();
      thumbnails.dispose();
      await p.close();
      await rt.close();
    }
  });

  test('clicking a tick travels there through run control: the session stops on that frame (reason goto) and the cursor moves', async () => {
    const { rt, rc, source, thumbnails, stops } = await stoppedSession();
    const h = rt.sessionHistory!;
    const services = { ...makeServices(), thumbnails };
    // What the extension's travel does through the debug adapter's lockstep.travel, minus the DAP hop.
    services.travel = async (tick) => {
      const to = await rc.travel(tick);
      rc.stopAt('goto', { description: `Travelled to frame ${to.to} (episode ${to.episode}, step ${to.step})` });
    };
    let ctl: TimelineController | undefined;
    const p = await panels.open('timeline', { width: 1000, height: 420, beforeLoad: (page) => { ctl = new TimelineController(page, source, services); } });
    try {
      await p.waitFor('the strip', async () => (await p.page.locator('#tl-strip').getAttribute('data-head')) === String(h.headTick) || undefined);
      const target = EPISODE + 12;
      const want = h.stateAt(target);
      const pt = await tickPoint(p, target);
      await p.page.mouse.click(pt.x, pt.y);
      const travel = await p.waitFor('the travel request', () => p.messages('travel')[0]);
      assert.equal(travel.tick, target);
      await p.waitFor('the travel answer', async () => /Stopped on tick/.test(await p.page.locator('#tl-travel').innerText()) || undefined);
      assert.equal(rt.currentTick, target);
      assert.equal(rt.current!.frame, want.frame);
      assert.equal(rt.episodeIndex, 1);
      assert.equal(rt.stepIndex, 12);
      assert.equal(rc.state, 'stopped');
      assert.equal(stops.at(-1)?.reason, 'goto');
      assert.match(stops.at(-1)?.description ?? '', /episode 1, step 12/);
      await p.waitFor('the cursor on the travelled tick', async () => (await p.page.locator('#tl-strip').getAttribute('data-current')) === String(target) || undefined);
      assert.equal(await p.page.locator('#tl-strip').getAttribute('data-head'), String(h.headTick), 'travelling into a finished episode keeps the later history');

      // A refused travel says why in the panel (the session is running).
      rc.run({ kind: 'continue' }, false);
      const pt2 = await tickPoint(p, 3);
      await p.page.mouse.click(pt2.x, pt2.y);
      await p.waitFor('the refusal', async () => /Could not travel: .*pause first/i.test(await p.page.locator('#tl-travel').innerText()) || undefined);
      rc.pause();
      assert.deepEqual(p.cspViolations, []);
      assert.deepEqual(p.pageErrors, []);
    } finally {
      ctl?.dispose();
      thumbnails.dispose();
      await rc.halt();
      await p.close();
      await rt.close();
    }
  });

  test('a session without history says how to get one, and nothing can be clicked', async () => {
    const rt = await liveRuntime();
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt, ramMap: RAM_MAP, session: 'nohist' });
    let ctl: TimelineController | undefined;
    const p = await panels.open('timeline', { beforeLoad: (page) => { ctl = new TimelineController(page, source, makeServices()); } });
    try {
      const text = await p.waitFor('the explanation', async () => {
        const t = await p.page.locator('#tl-empty').innerText();
        return /timeTravel/.test(t) ? t : undefined;
      });
      assert.match(text, /"timeTravel": true/);
      assert.equal(await p.page.locator('#tl-strip').isVisible(), false);
    } finally {
      ctl?.dispose();
      await p.close();
      await rt.close();
    }
  });
});
