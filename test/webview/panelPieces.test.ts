// Unit tests of the panels' pure pieces: message validation, HTML/CSP, metrics CSV, histogram bins, integer scaling, formatting.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseWebviewMessage, PANEL_PROTOCOL_VERSION, MAX_PNG_BYTES } from '../../src/webview/panelMessages';
import { contentSecurityPolicy, panelHtml } from '../../src/extension/panels/panelHtml';
import { METRICS_CSV_HEADER, metricsCsv } from '../../src/extension/panels/metricsCsv';
import { histogram } from '../../src/webview/histogram';
import { screenScale } from '../../src/webview/screenScale';
import { formatButtons, hexDump, formatMs } from '../../src/webview/format';
import { BUTTON } from '../../src/core/buttons';

const PNG_HEAD = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('webview protocol: parseWebviewMessage', () => {
  test('accepts every message kind', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'screen' }), { type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: 'screen' });
    assert.deepEqual(parseWebviewMessage({ type: 'travel', tick: 12, extra: 1 }), { type: 'travel', tick: 12 });
    assert.deepEqual(parseWebviewMessage({ type: 'peek', tick: 0 }), { type: 'peek', tick: 0 });
    assert.deepEqual(parseWebviewMessage({ type: 'ack', seq: 7 }), { type: 'ack', seq: 7 });
    assert.deepEqual(parseWebviewMessage({ type: 'selectRow', frame: 12 }), { type: 'selectRow', frame: 12 });
    assert.deepEqual(parseWebviewMessage({ type: 'exportCsv' }), { type: 'exportCsv' });
    assert.deepEqual(parseWebviewMessage({ type: 'log', level: 'warn', message: 'x' }), { type: 'log', level: 'warn', message: 'x' });
    const png = new Uint8Array([...PNG_HEAD, 1, 2, 3]);
    const m = parseWebviewMessage({ type: 'savePng', frame: 3, png: png.buffer });
    assert.equal(m.type, 'savePng');
    assert.deepEqual(m.type === 'savePng' && [...m.png], [...png], 'an ArrayBuffer is accepted as bytes');
  });

  test('rejects bad input with the field and value named', () => {
    const cases: Array<[unknown, RegExp]> = [
      [null, /must be an object, got null/],
      [[1], /must be an object, got an array/],
      [{}, /needs a string "type", got undefined/],
      [{ type: 'nope' }, /unknown webview message type "nope"/],
      [{ type: 'ready', version: '1', panel: 'screen' }, /ready.version must be an integer, got "1"/],
      [{ type: 'ready', version: 1, panel: 'tv' }, /ready.panel must be one of screen, buffer, metrics, timeline, agentView, got "tv"/],
      [{ type: 'ack', seq: -2 }, /ack.seq must be a non-negative integer, got -2/],
      [{ type: 'ack', seq: 1.5 }, /ack.seq must be a non-negative integer, got 1.5/],
      [{ type: 'selectRow' }, /selectRow.frame must be a non-negative integer, got undefined/],
      [{ type: 'savePng', frame: 1, png: 'data:image/png;base64,xx' }, /savePng.png must be a Uint8Array, got "data:image\/png;base64,xx"/],
      [{ type: 'savePng', frame: 1, png: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) }, /not a PNG image/],
      [{ type: 'savePng', frame: 1, png: new Uint8Array(MAX_PNG_BYTES + 1) }, /over the 4194304-byte limit/],
      [{ type: 'log', level: 'debug', message: 'x' }, /log.level must be info, warn or error, got "debug"/],
      [{ type: 'peek', tick: -1 }, /peek.tick must be a non-negative integer, got -1/],
      [{ type: 'travel', tick: '12' }, /travel.tick must be a non-negative integer, got "12"/],
    ];
    for (const [raw, re] of cases) assert.throws(() => parseWebviewMessage(raw), re, JSON.stringify(raw));
  });
});

describe('panel HTML', () => {
  const opts = { kind: 'screen' as const, title: 'NES <Screen>', cspSource: 'https://x.vscode-cdn.net', nonce: 'abcdefghijklmnopqrstuvwx', scriptUri: 'https://x.vscode-cdn.net/dist/webview/screenPanel.js', styleUri: 'https://x.vscode-cdn.net/media/panels.css' };

  test('CSP: nothing by default, scripts only with the nonce, no unsafe-eval or unsafe-inline', () => {
    const csp = contentSecurityPolicy(opts.cspSource, opts.nonce);
    assert.match(csp, /^default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abcdefghijklmnopqrstuvwx'(;|$)/);
    assert.match(csp, /style-src https:\/\/x\.vscode-cdn\.net 'nonce-abcdefghijklmnopqrstuvwx'/);
    assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline|\*/);
  });

  test('loads the bundle and stylesheet with the nonce and escapes the title', () => {
    const html = panelHtml(opts);
    assert.ok(html.includes(`<script nonce="${opts.nonce}" src="${opts.scriptUri}"></script>`));
    assert.ok(html.includes(`<link rel="stylesheet" href="${opts.styleUri}"`));
    assert.ok(html.includes('<title>NES &lt;Screen&gt;</title>'));
    assert.ok(html.includes('data-panel="screen"'));
    assert.equal((html.match(/<script/g) ?? []).length, 1, 'one script, no inline code');
  });

  test('rejects a weak nonce or an odd CSP source', () => {
    assert.throws(() => panelHtml({ ...opts, nonce: 'short' }), /nonce must be 16\+/);
    assert.throws(() => panelHtml({ ...opts, cspSource: 'https://a "b"' }), /cspSource must be CSP source expressions/);
    assert.throws(() => panelHtml({ ...opts, cspSource: "https://a; script-src 'unsafe-eval'" }), /cspSource must be CSP source expressions/);
    assert.throws(() => panelHtml({ ...opts, cspSource: '' }), /cspSource must be CSP source expressions/);
    // code-server's and vscode.dev's form: 'self' and a wildcard host.
    const listed = panelHtml({ ...opts, cspSource: "'self' https://*.vscode-cdn.net" });
    assert.match(listed, /img-src 'self' https:\/\/\*\.vscode-cdn\.net data:;/);
  });
});

describe('metrics CSV', () => {
  test('one row per frame, times relative to the session start, desync types per frame, empty sync when unpaired', () => {
    const csv = metricsCsv([
      { frame: 10, t: 1000.5, frameDelayMs: 0.1234, agentLatencyMs: 0.5, syncQualityMs: 0 },
      { frame: 11, t: 1017.25, frameDelayMs: 16.7, agentLatencyMs: 12, syncQualityMs: null },
    ], [{ frame: 11, type: 'timeout' }, { frame: 11, type: 'frame_skip' }, { frame: 99, type: 'minor_skip' }], 1000);
    assert.equal(csv, `${METRICS_CSV_HEADER}\n10,0.5,0.123,0.5,0,\n11,17.25,16.7,12,,timeout;frame_skip\n`);
  });
});

describe('webview helpers', () => {
  test('histogram: nice bin widths from zero, every finite value counted once', () => {
    const values = [0, 0.2, 0.4, 0.9, 1.1, 3.8, Number.NaN];
    const hgram = histogram(values, 4);
    assert.equal(hgram.width, 1);
    assert.deepEqual(hgram.edges, [0, 1, 2, 3]);
    assert.deepEqual(hgram.counts, [4, 1, 0, 1]);
    assert.equal(hgram.overflow, false);
    assert.deepEqual(histogram([], 5).counts, [0]);
    assert.throws(() => histogram([1], 0), /bins must be a positive integer/);
    assert.throws(() => histogram([1], 2, 0), /clip must be in/);
  });

  test('histogram: a few outliers go to an overflow bin instead of squashing the others', () => {
    const values = [...Array.from({ length: 99 }, (_, i) => (i % 10) / 10), 50];
    const hgram = histogram(values, 10, 0.99);
    assert.equal(hgram.overflow, true);
    assert.equal(hgram.width, 0.1);
    assert.equal(hgram.counts.length, 10, '9 bins up to the 99th percentile (0.9) and the overflow bin');
    assert.equal(hgram.counts.at(-1), 9 + 1, 'the nine 0.9 values and the 50 ms outlier');
    assert.deepEqual(hgram.counts.slice(0, 9), [10, 10, 10, 10, 10, 10, 10, 10, 10], 'no value lands in a neighbouring bin through rounding');
    assert.equal(hgram.counts.reduce((a, b) => a + b, 0), 100);
  });

  test('screenScale: whole device pixels per NES pixel, fit picks the largest that fits', () => {
    assert.deepEqual(screenScale('fit', 800, 500, 1, 256, 240), { factor: 2, cssWidth: 512, cssHeight: 480 });
    assert.deepEqual(screenScale('fit', 100, 100, 1, 256, 240), { factor: 1, cssWidth: 256, cssHeight: 240 }, 'never below 1');
    assert.deepEqual(screenScale('fit', 800, 500, 2, 256, 240), { factor: 4, cssWidth: 512, cssHeight: 480 });
    const odd = screenScale(2, 0, 0, 1.25, 256, 240);
    assert.equal(odd.factor, 3, '2x on a 1.25 display is rounded to 3 device pixels');
    assert.equal(odd.cssWidth * 1.25, 768);
  });

  test('formatting: buttons, milliseconds, hex dump', () => {
    assert.equal(formatButtons(BUTTON.B | BUTTON.RIGHT), 'B+RIGHT');
    assert.equal(formatButtons(0), '—');
    assert.equal(formatMs(null), '—');
    assert.equal(formatMs(1.234), '1.23 ms');
    const dump = hexDump(new Uint8Array([0x41, 0x00, 0xff, ...new Array(15).fill(0x20)]), 0x10);
    assert.equal(dump.split('\n').length, 2);
    assert.match(dump, /^\$0010 {2}41 00 FF 20/);
    assert.match(dump.split('\n')[0], /A\.\. {13}$/);
  });
});
