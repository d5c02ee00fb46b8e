// Screen panel in real Chromium: exact pixels and integer scaling, overlay, pixel picker, PNG export, a live runtime with step back, flow control.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PANEL_PROTOCOL_VERSION, type SessionInfo } from '../../src/webview/panelMessages';
import { BUTTON } from '../../src/core/buttons';
import { LiveRuntimeSource } from '../../src/extension/panels/runtimeSource';
import { ScreenController } from '../../src/extension/panels/screenController';
import { decodePngInPage, panelSuite, type PanelPage } from './harness';
import { RAM_MAP, liveRuntime, makeServices } from './liveSession';

const W = 256;
const H = 240;

/** A frame where every pixel differs from its neighbours, so any smoothing or off-by-one shows. */
function pattern(): Uint8Array {
  const px = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 4;
      px[i] = x;
      px[i + 1] = y;
      px[i + 2] = (x * 7 + y * 13) & 0xff;
      px[i + 3] = 255;
    }
  }
  return px;
}

const SESSION: SessionInfo = { id: 's1', rom: 'pattern.nes', startedAt: Date.now(), live: true, screens: true, screensOff: false, bufferCapacity: 10, ramVars: [] };

async function canvasPixels(p: PanelPage): Promise<Uint8Array> {
  const b64 = await p.page.evaluate(() => {
    const c = document.getElementById('screen') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
    return btoa(s);
  });
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

async function sendPattern(p: PanelPage, seq: number, frame = 1234): Promise<Uint8Array> {
  const px = pattern();
  await p.waitFor('ready', () => p.messages('ready')[0]);
  p.post({ type: 'hello', version: PANEL_PROTOCOL_VERSION, panel: 'screen', session: SESSION });
  p.post({
    type: 'screen', seq,
    update: {
      frame, episode: 2, step: 77, timestamp: Date.now(), width: W, height: H, pixels: px,
      buttons: [BUTTON.RIGHT | BUTTON.B, 0], syncQualityMs: 0.25, speculative: false, desync: ['frame_skip'], lag: false, dropped: 3,
    },
  });
  await p.waitFor(`ack ${seq}`, () => p.messages('ack').find((m) => m.seq === seq));
  return px;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

describe('screen panel (Chromium)', () => {
  const panels = panelSuite();

  test('a known frame is drawn pixel-exact and scaled by whole pixels with image-rendering: pixelated', async () => {
    const p = await panels.open('screen', { state: { scale: 2, overlay: false, picked: null } });
    try {
      const px = await sendPattern(p, 1);
      assert.ok(sameBytes(await canvasPixels(p), px), 'canvas backing pixels equal the frame sent');
      const css = await p.page.evaluate(() => {
        const c = document.getElementById('screen') as HTMLCanvasElement;
        const r = c.getBoundingClientRect();
        return { w: r.width, h: r.height, rendering: getComputedStyle(c).imageRendering, scale: c.dataset.scale };
      });
      assert.equal(css.w, 512);
      assert.equal(css.h, 480);
      assert.equal(css.scale, '2');
      assert.ok(css.rendering === 'pixelated' || css.rendering === 'crisp-edges', `image-rendering is ${css.rendering}`);
      // What the user sees: every NES pixel becomes an exact 2x2 block of its colour.
      const shot = await decodePngInPage(p.page, await p.page.locator('#screen').screenshot());
      assert.equal(shot.width, 512);
      assert.equal(shot.height, 480);
      let bad = 0;
      for (let y = 0; y < 480 && bad < 5; y++) {
        for (let x = 0; x < 512 && bad < 5; x++) {
          const s = ((y >> 1) * W + (x >> 1)) * 4;
          const d = (y * 512 + x) * 4;
          if (shot.rgba[d] !== px[s] || shot.rgba[d + 1] !== px[s + 1] || shot.rgba[d + 2] !== px[s + 2]) bad++;
        }
      }
      assert.equal(bad, 0, 'screenshot pixels match the frame scaled 2x without smoothing');
      assert.deepEqual(p.cspViolations, []);
      assert.deepEqual(p.pageErrors, []);
    } finally {
      await p.close();
    }
  });

  test('the frame info under the screen shows frame id, episode/step, buttons applied, sync quality and desyncs, and hides no pixel', async () => {
    const p = await panels.open('screen');
    try {
      await sendPattern(p, 1, 4321);
      const canvasBox = await p.page.locator('#screen').boundingBox();
      const infoBox = await p.page.locator('#overlay').boundingBox();
      assert.ok(canvasBox && infoBox);
      assert.ok(infoBox.y >= canvasBox.y + canvasBox.height - 0.5, `frame info (top ${infoBox.y}) starts below the screen (bottom ${canvasBox.y + canvasBox.height})`);
      const text = await p.page.locator('#overlay').innerText();
      assert.match(text, /F 4321/);
      assert.match(text, /ep 2 · step 77/);
      assert.match(text, /P1 B\+RIGHT/);
      assert.match(text, /P2 —/);
      assert.match(text, /sync quality 0\.25 ms/);
      assert.match(text, /desync: frame_skip/);
      assert.match(await p.page.locator('#stream-status').innerText(), /dropped 3/);
      // The words a new user meets have hover text.
      assert.match(await p.page.locator('#stream-status').getAttribute('title') ?? '', /skipped.*newest frame.*loses nothing/s);
      assert.match(await p.page.locator('#overlay .ov-sync').getAttribute('title') ?? '', /^Sync quality: /);
      await p.page.locator('#overlay-toggle').click();
      assert.equal(await p.page.locator('#overlay').isHidden(), true, 'overlay checkbox hides it');
      assert.deepEqual(p.savedState && (p.savedState as { overlay: boolean }).overlay, false, 'overlay choice is kept with setState');
    } finally {
      await p.close();
    }
  });

  test('a session without screens says why: forbidden by the launch configuration, or capture still switching on', async () => {
    const p = await panels.open('screen');
    try {
      await p.waitFor('ready', () => p.messages('ready')[0]);
      p.post({ type: 'hello', version: PANEL_PROTOCOL_VERSION, panel: 'screen', session: { ...SESSION, screens: false, screensOff: true } });
      await p.waitFor('the captureScreens false note', async () => /launch configuration sets "captureScreens": false/.test(await p.page.locator('#screen-empty').innerText()));
      p.post({ type: 'session', session: { ...SESSION, screens: false, screensOff: false } });
      await p.waitFor('the switching note', async () => (await p.page.locator('#screen-empty').innerText()) === 'Switching screen capture on…');
      assert.doesNotMatch(await p.page.locator('body').innerText(), /set "captureScreens": true/, 'no advice to edit a launch configuration a Debug ROM session does not have');
      p.post({ type: 'session', session: SESSION });
      await p.waitFor('the waiting note', async () => (await p.page.locator('#screen-empty').innerText()) === 'Waiting for the first frame…');
    } finally {
      await p.close();
    }
  });

  test('clicking a pixel shows its coordinates and RGB', async () => {
    const p = await panels.open('screen', { state: { scale: 2, overlay: false, picked: null } });
    try {
      const px = await sendPattern(p, 1);
      const box = (await p.page.locator('#screen').boundingBox())!;
      await p.page.mouse.click(box.x + 10 * 2 + 1, box.y + 20 * 2 + 1);
      const info = await p.page.locator('#pixel-info').innerText();
      const i = (20 * W + 10) * 4;
      assert.match(info, /x 10, y 20/);
      assert.ok(info.includes(`rgb(${px[i]}, ${px[i + 1]}, ${px[i + 2]})`), info);
      assert.deepEqual((p.savedState as { picked: unknown }).picked, { x: 10, y: 20 });
      assert.equal(await p.page.locator('#pick-marker').isVisible(), true);
    } finally {
      await p.close();
    }
  });

  test('Save PNG sends the extension a PNG of exactly the frame shown, and shows where it was saved', async () => {
    const p = await panels.open('screen');
    try {
      const px = await sendPattern(p, 1, 99);
      await p.page.locator('#save-png').click();
      const msg = await p.waitFor('savePng', () => p.messages('savePng')[0]);
      assert.equal(msg.frame, 99);
      const png = msg.png as Uint8Array;
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const decoded = await decodePngInPage(p.page, png);
      assert.equal(decoded.width, W);
      assert.equal(decoded.height, H);
      assert.ok(sameBytes(decoded.rgba, px), 'PNG pixels equal the frame');
      p.post({ type: 'saved', what: 'png', path: '/tmp/frame-99.png', error: null });
      await p.waitFor('saved status', async () => (await p.page.locator('#stream-status').innerText()).includes('/tmp/frame-99.png'));
    } finally {
      await p.close();
    }
  });

  test('live runtime: the panel shows the emulator frame, follows frames and step back (controller -> webview)', async () => {
    const rt = await liveRuntime({ stepBackDepth: 20 });
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt, ramMap: RAM_MAP, session: 'live-1' });
    let ctl!: ScreenController;
    const p = await panels.open('screen', {
      state: { scale: 'fit', overlay: true, picked: null },
      beforeLoad: (page) => { ctl = new ScreenController(page, source, makeServices()); },
    });
    try {
      for (let i = 0; i < 40; i++) await rt.advance();
      const shows = async (frame: number) => p.waitFor(`canvas shows frame ${frame}`, async () =>
        (await p.page.locator('#screen').getAttribute('data-frame')) === String(frame));
      await shows(rt.current!.frame);
      assert.ok(sameBytes(await canvasPixels(p), rt.current!.screen!), 'canvas equals runtime.current.screen');
      assert.match(await p.page.locator('#overlay').innerText(), new RegExp(`F ${rt.current!.frame}[\\s\\S]*P1 B\\+RIGHT`));
      const before = rt.current!.frame;
      const restored = await rt.stepBack(5);
      assert.equal(restored.frame, before - 5);
      await shows(restored.frame);
      assert.ok(sameBytes(await canvasPixels(p), restored.screen!), 'after step back the canvas shows the restored screen');
      assert.match(await p.page.locator('#session-rom').innerText(), /demo\.nes/);
      await p.screenshot('screen-dark');
      assert.deepEqual(p.cspViolations, []);
      assert.deepEqual(p.pageErrors, []);
    } finally {
      ctl.dispose();
      await p.close();
      await rt.close();
    }
  });

  test('flow control: with acknowledgements gone, frames past the high watermark are dropped and counted; the newest still arrives', async () => {
    const rt = await liveRuntime();
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt, ramMap: RAM_MAP });
    let ctl!: ScreenController;
    const p = await panels.open('screen', {
      beforeLoad: (page) => { ctl = new ScreenController(page, source, makeServices(), { highWatermark: 3, lowWatermark: 1, stallTimeoutMs: 2000 }); },
    });
    try {
      await p.waitFor('first frame acked', () => ctl.flowStats.acked >= 1 && ctl.flowStats.outstanding === 0);
      p.dropAcks = true;
      const sentBefore = ctl.flowStats.sent;
      const droppedBefore = ctl.flowStats.dropped;
      for (let i = 0; i < 120; i++) await rt.advance();
      const s = ctl.flowStats;
      assert.equal(s.sent - sentBefore, 3, 'only highWatermark frames go out unacknowledged');
      assert.equal(s.outstanding, 3);
      assert.equal(s.throttled, true);
      assert.equal(s.pending, true, 'the newest frame is held, not queued');
      assert.equal(s.dropped - droppedBefore, 120 - 3 - 1, 'every other frame is dropped and counted');
      // The webview did draw and acknowledge the frames it got: the acks were lost on the way.
      await p.waitFor('the webview acks all it was sent', () => p.messages('ack').some((m) => m.seq === s.sent));
      assert.equal(ctl.flowStats.outstanding, 3, 'lost acks leave the backlog where it was');
      p.dropAcks = false;
      // Lost acks count as lost after the stall timeout; the held newest frame is then sent and drawn.
      const final = rt.current!.frame;
      await p.waitFor('the newest frame after the stall', async () => (await p.page.locator('#screen').getAttribute('data-frame')) === String(final));
      assert.equal(ctl.flowStats.lost, 3);
      assert.match(await p.page.locator('#stream-status').innerText(), new RegExp(`dropped ${ctl.flowStats.dropped}\\b`));
      assert.ok(sameBytes(await canvasPixels(p), rt.current!.screen!));
    } finally {
      ctl.dispose();
      await p.close();
      await rt.close();
    }
  });

  test('light theme renders (screenshot)', async () => {
    const p = await panels.open('screen', { theme: 'light', width: 700, height: 560 });
    try {
      await sendPattern(p, 1);
      const bg = await p.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, 'rgb(255, 255, 255)', 'body follows --vscode-editor-background');
      await p.screenshot('screen-light');
    } finally {
      await p.close();
    }
  });
});
