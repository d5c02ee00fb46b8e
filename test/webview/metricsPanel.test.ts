// Metrics panel in real Chromium, driven by the real MetricsController on a live runtime: summary, charts, desync markers, CSV export.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LiveRuntimeSource } from '../../src/extension/panels/runtimeSource';
import { MetricsController } from '../../src/extension/panels/metricsController';
import { METRICS_CSV_HEADER } from '../../src/extension/panels/metricsCsv';
import { PANEL_PROTOCOL_VERSION } from '../../src/webview/panelMessages';
import { panelSuite, type PanelPage } from './harness';
import { RAM_MAP, liveRuntime, makeServices } from './liveSession';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function attr(p: PanelPage, selector: string, name: string): Promise<number> {
  return Number(await p.page.locator(selector).getAttribute(name));
}

/** Pixels in a chart canvas that differ from its top-left corner (what chart.js drew). */
async function inkedPixels(p: PanelPage, id: string): Promise<number> {
  return p.page.evaluate((canvasId) => {
    const c = document.getElementById(canvasId) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] !== d[3] || d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) n++;
    return n;
  }, id);
}

describe('metrics panel (Chromium)', () => {
  const panels = panelSuite();

  test('summary and charts follow the runtime; desyncs become markers; the histogram covers the metrics window', async () => {
    // Two real minor_skip desyncs (the agent's 30th and 90th answers carry the wrong frame id).
    const rt = await liveRuntime({ skipAt: [30, 90] });
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt, ramMap: RAM_MAP, session: 'metrics-1' });
    let ctl!: MetricsController;
    const p = await panels.open('metrics', {
      width: 1200, height: 900,
      beforeLoad: (page) => { ctl = new MetricsController(page, source, makeServices(), undefined, 40); },
    });
    try {
      // Run in bursts with pauses so the host samples several points.
      for (let burst = 0; burst < 6; burst++) {
        for (let i = 0; i < 25; i++) await rt.advance();
        await sleep(60);
      }
      const snap = rt.metrics.snapshot();
      assert.equal(snap.desyncs.minor_skip, 2);
      await p.waitFor('the last sample is shown', async () => (await p.page.locator('#tile-frames .tile-value').innerText()) === String(snap.framesProcessed));
      const points = ctl.series.length;
      assert.ok(points >= 4, `several points sampled (got ${points})`);
      await p.waitFor('all points plotted', async () => (await attr(p, '#chart-delay', 'data-points')) === points);
      assert.equal(await attr(p, '#chart-fps', 'data-points'), points);
      assert.equal(await attr(p, '#chart-delay', 'data-marks'), 2, 'one marker per desync');
      assert.equal(await attr(p, '#chart-hist', 'data-total'), rt.metrics.history().length, 'histogram counts every frame in the window');
      const rate = await p.page.locator('#tile-desync-rate').innerText();
      assert.match(rate, new RegExp(`${(snap.desyncRate * 100).toFixed(2)} %`));
      assert.match(rate, /2 desyncs: minor_skip 2/);
      // The sync tile's hover text says what sync quality means (and, before any screen is paired, what that means).
      const syncTitle = await p.page.locator('#tile-sync').getAttribute('title') ?? '';
      assert.match(syncTitle, /Sync quality: the time between a frame's state and the screen paired with it/);
      if (/no screens paired/.test(await p.page.locator('#tile-sync').innerText())) assert.match(syncTitle, /^No screen paired: /);
      assert.match(await p.page.locator('#chart-sync').locator('xpath=ancestor::figure/figcaption').getAttribute('title') ?? '', /^Sync quality: /);
      for (const id of ['chart-delay', 'chart-hist', 'chart-sync', 'chart-fps', 'chart-latency']) {
        assert.ok((await inkedPixels(p, id)) > 500, `${id} has something drawn`);
      }
      assert.ok(ctl.flowStats.acked >= 1);
      await p.screenshot('metrics-dark');
      assert.deepEqual(p.cspViolations, []);
      assert.deepEqual(p.pageErrors, []);
    } finally {
      ctl.dispose();
      await p.close();
      await rt.close();
    }
  });

  test('Export CSV: the host writes the per-frame window through the save dialog and the panel says where', async () => {
    const rt = await liveRuntime();
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt, ramMap: RAM_MAP });
    const services = makeServices('/tmp/lockstep-metrics.csv');
    let ctl!: MetricsController;
    const p = await panels.open('metrics', { beforeLoad: (page) => { ctl = new MetricsController(page, source, services, undefined, 40); } });
    try {
      for (let i = 0; i < 50; i++) await rt.advance();
      await p.waitFor('export enabled', async () => !(await p.page.locator('#export-csv').evaluate((e) => e.hasAttribute('disabled'))));
      await p.page.locator('#export-csv').click();
      await p.waitFor('saved', async () => (await p.page.locator('#export-status').innerText()).includes('/tmp/lockstep-metrics.csv'));
      assert.equal(services.saved.length, 1);
      const csv = new TextDecoder().decode(services.saved[0].data).trimEnd().split('\n');
      assert.equal(csv[0], METRICS_CSV_HEADER);
      const history = rt.metrics.history();
      assert.equal(csv.length - 1, history.length);
      assert.equal(Number(csv[1].split(',')[0]), history[0].frame);
      assert.deepEqual(services.saved[0].filters, { CSV: ['csv'] });
    } finally {
      ctl.dispose();
      await p.close();
      await rt.close();
    }
  });

  test('a reloaded webview gets the whole series again (reset) and keeps its window choice', async () => {
    const p = await panels.open('metrics', { state: { windowSec: 300 } });
    try {
      await p.waitFor('ready', () => p.messages('ready')[0]);
      const session = { id: 's', rom: 'x.nes', startedAt: 0, live: true, screens: true, screensOff: false, bufferCapacity: 10, ramVars: [] };
      p.post({ type: 'hello', version: PANEL_PROTOCOL_VERSION + 1, panel: 'metrics', session });
      await p.waitFor('version warning', async () => new RegExp(`speaks protocol ${PANEL_PROTOCOL_VERSION}, the extension ${PANEL_PROTOCOL_VERSION + 1}: close and reopen`).test(await p.page.locator('#session-warning').innerText()));
      p.post({ type: 'hello', version: PANEL_PROTOCOL_VERSION, panel: 'metrics', session });
      await p.waitFor('warning cleared', async () => p.page.locator('#session-warning').isHidden());
      const point = (t: number) => ({ t, frame: t * 60, framesProcessed: t * 60, fps: 60, delayP50: 1, delayP99: 2, delayMax: 3, latencyP50: 0.5, latencyP99: 1, syncAvg: 0, syncP99: 0, desyncRate: 0 });
      const summary = { framesProcessed: 180, fps: 60, running: false, desyncRate: 0, desyncs: {}, frameDelay: { avg: 1, p50: 1, p99: 2, max: 3 }, agentLatency: { avg: 0.5, p50: 0.5, p99: 1, max: 1 }, syncQuality: { avg: 0, p99: 0, samples: 180 }, windowFrames: 180, clocks: [{ peer: 'controller 1', offsetMs: 12.5, rttMs: 0.4, rounds: 3 }] };
      p.post({ type: 'metrics', seq: 1, update: { reset: true, points: [point(1), point(2)], summary, delays: [1, 2, 3], desyncs: [] } });
      p.post({ type: 'metrics', seq: 2, update: { reset: false, points: [point(3)], summary, delays: [1, 2, 3], desyncs: [] } });
      await p.waitFor('appended', async () => (await attr(p, '#chart-delay', 'data-points')) === 3);
      const clock = await p.page.locator('#tile-clock-0').innerText();
      assert.match(clock, /Clock offset controller 1/i);
      assert.match(clock, /\+12\.5/);
      assert.match(clock, /round trip .* 3 syncs/);
      p.post({ type: 'metrics', seq: 3, update: { reset: true, points: [point(1)], summary, delays: [1], desyncs: [{ t: 1, frame: 60, type: 'timeout', message: 'late' }] } });
      await p.waitFor('replaced', async () => (await attr(p, '#chart-delay', 'data-points')) === 1);
      assert.equal(await attr(p, '#chart-delay', 'data-marks'), 1);
      assert.deepEqual(p.messages('ack').map((m) => m.seq), [1, 2, 3]);
      assert.equal(await p.page.locator('#window').evaluate((e) => (e as unknown as { value: string }).value), '300');
    } finally {
      await p.close();
    }
  });
  test('nothing overlaps at any panel size (Export CSV and the tiles), and the tiles explain their words and show the run\'s fps', async () => {
    const session = { id: 's', rom: 'a-rather-long-rom-name-for-the-bar.nes', startedAt: 0, live: true, screens: true, screensOff: false, bufferCapacity: 10, ramVars: [] };
    const summary = { framesProcessed: 123456, fps: 248.5, running: true, desyncRate: 0, desyncs: {}, frameDelay: { avg: 1, p50: 1, p99: 2, max: 3 }, agentLatency: { avg: 0.5, p50: 0.5, p99: 1, max: 1 }, syncQuality: { avg: 0, p99: 0, samples: 0 }, windowFrames: 1000, clocks: [] };
    for (const [width, height] of [[1200, 700], [640, 500], [420, 400], [300, 300]] as const) {
      const p = await panels.open('metrics', { width, height });
      try {
        await p.waitFor('ready', () => p.messages('ready')[0]);
        p.post({ type: 'hello', version: PANEL_PROTOCOL_VERSION, panel: 'metrics', session });
        p.post({ type: 'metrics', seq: 1, update: { reset: true, points: [], summary, delays: [], desyncs: [] } });
        await p.waitFor('tiles', async () => (await p.page.locator('#tile-frames').count()) === 1);
        const boxesOf = (selector: string) => p.page.locator(selector).evaluateAll((els) => els.map((el) => {
          const r = el.getBoundingClientRect();
          return { x: r.x, y: r.y, w: r.width, h: r.height, id: el.id || el.tagName };
        }));
        const boxes = { toolbar: await boxesOf('.toolbar > *'), tiles: await boxesOf('.tile') };
        const overlap = (a: { x: number; y: number; w: number; h: number }, b: typeof a) => a.x < b.x + b.w - 0.5 && b.x < a.x + a.w - 0.5 && a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5;
        for (const t of boxes.toolbar) for (const tile of boxes.tiles) {
          assert.ok(!overlap(t, tile), `${width}x${height}: toolbar item ${t.id} ${JSON.stringify(t)} overlaps tile ${tile.id} ${JSON.stringify(tile)}`);
        }
        assert.equal(await p.page.locator('#tile-fps .tile-label').textContent(), 'FPS (this run)');
        assert.equal(await p.page.locator('#tile-fps .tile-value').textContent(), '248.5');
        assert.match(await p.page.locator('#tile-fps').getAttribute('title') ?? '', /current run/);
        assert.match(await p.page.locator('#tile-sync').innerText(), /no screen paired/);
        assert.match(await p.page.locator('#tile-sync').getAttribute('title') ?? '', /^No screen paired: /);
      } finally {
        await p.close();
      }
    }
  });
});
