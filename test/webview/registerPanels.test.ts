// registerPanels against a stand-in `vscode` module: commands, webview options and CSP, one panel per kind, serializers, auto-open on F5.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';
import { PANEL_PROTOCOL_VERSION } from '../../src/webview/panelMessages';
import { LiveRuntimeSource } from '../../src/extension/panels/runtimeSource';
import { createFakeVscode, FakeUri, type FakePanel } from './fakeVscode';
import { RAM_MAP, liveRuntime } from './liveSession';

type Loader = { _load(request: string, parent: unknown, isMain: boolean): unknown };
const loader = Module as unknown as Loader;

describe('registerPanels (stand-in vscode)', () => {
  const fake = createFakeVscode();
  const originalLoad = loader._load;
  let registerPanels: typeof import('../../src/extension/panels/registerPanels').registerPanels;
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
  const context = { extensionUri: FakeUri.file('/ext') } as never;

  before(async () => {
    loader._load = function (request, parent, isMain) {
      return request === 'vscode' ? fake.api : originalLoad.call(this, request, parent, isMain);
    };
    ({ registerPanels } = await import('../../src/extension/panels/registerPanels'));
  });
  after(() => {
    loader._load = originalLoad;
  });

  test('commands open one panel per kind with scripts on, resources limited to dist/webview and media, and a nonce CSP', async () => {
    const source = new LiveRuntimeSource();
    const d = registerPanels(context, source, log);
    try {
      assert.deepEqual([...fake.commands.keys()].sort(), ['lockstep.openAgentView', 'lockstep.openBuffer', 'lockstep.openMetrics', 'lockstep.openPanels', 'lockstep.openScreen', 'lockstep.openTimeline']);
      assert.deepEqual([...fake.serializers.keys()].sort(), ['lockstep.agentView', 'lockstep.buffer', 'lockstep.metrics', 'lockstep.screen', 'lockstep.timeline']);
      fake.commands.get('lockstep.openScreen')!();
      fake.commands.get('lockstep.openScreen')!();
      const screens = fake.panels.filter((p) => p.viewType === 'lockstep.screen' && !p.disposed);
      assert.equal(screens.length, 1, 'a second open reveals the first');
      assert.equal(screens[0].revealed, 1);
      // In its own group: with no column VS Code would move it to the active group (where the frame sheet opened).
      assert.deepEqual(screens[0].revealColumns, [screens[0].viewColumn]);
      const w = screens[0].webview;
      assert.equal(w.options.enableScripts, true);
      assert.deepEqual(w.options.localResourceRoots?.map((u) => u.path), ['/ext/dist/webview', '/ext/media']);
      const nonce = /script-src 'nonce-([^']+)'/.exec(w.html)?.[1];
      assert.ok(nonce && nonce.length >= 16);
      assert.ok(w.html.includes(`<script nonce="${nonce}" src="https://fake.vscode-cdn.net/ext/dist/webview/screenPanel.js"></script>`));
      assert.ok(w.html.includes('href="https://fake.vscode-cdn.net/ext/media/panels.css"'));
      assert.doesNotMatch(w.html, /unsafe-eval|unsafe-inline/);
      fake.commands.get('lockstep.openPanels')!();
      const open = fake.panels.filter((p) => !p.disposed);
      assert.deepEqual(open.map((p) => p.viewType).sort(), ['lockstep.buffer', 'lockstep.metrics', 'lockstep.screen']);
      const buffer = open.find((p) => p.viewType === 'lockstep.buffer')!;
      const metrics = open.find((p) => p.viewType === 'lockstep.metrics')!;
      assert.equal(buffer.viewColumn, metrics.viewColumn, 'opened together, they share one editor group');
      assert.equal(buffer.preserveFocus, true);
    } finally {
      d.dispose();
    }
    assert.equal(fake.commands.size, 0, 'disposing unregisters the commands');
    assert.ok(fake.panels.every((p) => p.disposed), 'and closes the panels');
  });

  test('a restored panel gets a fresh host on the running session; the webview handshake reaches the controller', async () => {
    const rt = await liveRuntime();
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt, ramMap: RAM_MAP, session: 'restored' });
    const d = registerPanels(context, source, log);
    try {
      const panel = fake.api.window.createWebviewPanel('lockstep.metrics', 'old', { viewColumn: 1 }, {}) as FakePanel;
      await fake.serializers.get('lockstep.metrics')!.deserializeWebviewPanel(panel, { windowSec: 60 });
      assert.match(panel.webview.html, /metricsPanel\.js/);
      assert.equal(panel.webview.options.enableScripts, true);
      panel.webview.received.fire({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'metrics' });
      const hello = panel.webview.posted[0] as { type: string; session: { id: string; live: boolean } };
      assert.equal(hello.type, 'hello');
      assert.deepEqual([hello.session.id, hello.session.live], ['restored', true]);
    } finally {
      d.dispose();
      await rt.close();
    }
  });

  test('F5: a new session opens the configured panels once; openOnStart false opens none', async () => {
    const source = new LiveRuntimeSource();
    const rt = await liveRuntime();
    fake.settings['lockstep.panels.startPanels'] = ['screen', 'metrics', 'bogus'];
    let d = registerPanels(context, source, log);
    try {
      const before = fake.panels.length;
      const a = source.attach({ runtime: rt });
      source.changed();
      const opened = fake.panels.slice(before);
      assert.deepEqual(opened.map((p) => p.viewType), ['lockstep.screen', 'lockstep.metrics']);
      assert.ok(opened.every((p) => p.preserveFocus), 'auto-opened panels leave focus in the editor');
      assert.ok(logs.some((l) => /startPanels: unknown panel/.test(l)));
      a.dispose();
    } finally {
      d.dispose();
    }
    fake.settings['lockstep.panels.openOnStart'] = false;
    d = registerPanels(context, source, log);
    try {
      const before = fake.panels.length;
      source.attach({ runtime: rt });
      assert.equal(fake.panels.length, before);
    } finally {
      d.dispose();
      await rt.close();
    }
  });
  test('onScreensShown: true when the first screen-showing panel (screen or buffer) opens, false when the last one closes', async () => {
    const calls: boolean[] = [];
    const d = registerPanels(context, new LiveRuntimeSource(), log, { onScreensShown: (shown) => calls.push(shown) });
    try {
      fake.commands.get('lockstep.openMetrics')!();
      assert.deepEqual(calls, [], 'the metrics panel shows no screens');
      fake.commands.get('lockstep.openScreen')!();
      fake.commands.get('lockstep.openBuffer')!();
      assert.deepEqual(calls, [true], 'told once, when the first one opened');
      const live = (type: string) => fake.panels.find((p) => p.viewType === type && !p.disposed)!;
      live('lockstep.screen').dispose();
      assert.deepEqual(calls, [true], 'the buffer panel still shows screens');
      live('lockstep.buffer').dispose();
      assert.deepEqual(calls, [true, false]);
      fake.commands.get('lockstep.openPanels')!();
      assert.deepEqual(calls, [true, false, true]);
    } finally {
      d.dispose();
    }
    assert.deepEqual(calls, [true, false, true, false], 'closing everything says so too');
  });
});
