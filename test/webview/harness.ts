// Test harness for the panel webviews in real Chromium: built bundles behind the real HTML/CSP, a stubbed VS Code API, a page as PanelChannel.
import { before, after } from 'node:test';
import { createServer, type Server } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, normalize, sep, extname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { HostMessage, PanelKind } from '../../src/webview/panelMessages';
import { PANEL_SCRIPTS, panelHtml } from '../../src/extension/panels/panelHtml';
import type { PanelChannel } from '../../src/extension/panels/panelController';
import type { DisposableLike } from '../../src/extension/panels/runtimeSource';
import { THEMES, type ThemeKind } from './themes';

export const ROOT = join(__dirname, '..', '..');
export const SHOTS = join(ROOT, 'test-results', 'panels');

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchBrowser(): Promise<Browser> {
  for (const kind of Object.keys(PANEL_SCRIPTS) as PanelKind[]) {
    if (!existsSync(join(ROOT, 'dist', 'webview', PANEL_SCRIPTS[kind]))) throw new Error(`dist/webview/${PANEL_SCRIPTS[kind]} is missing: run \`npm run build\` first`);
  }
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30_000 });
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.map': 'application/json' };

/** Serves /panel/<kind> (the panel HTML) and, like localResourceRoots, only files under dist/webview and media. */
export class PanelServer {
  private constructor(private readonly server: Server, readonly origin: string) {}

  static async start(): Promise<PanelServer> {
    let origin = '';
    const server = createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', origin);
        if (url.pathname === '/favicon.ico') {
          // A browser tab asks for it; a VS Code webview does not.
          res.writeHead(204).end();
          return;
        }
        const m = /^\/panel\/(screen|buffer|metrics|timeline|agentView)$/.exec(url.pathname);
        if (m) {
          const kind = m[1] as PanelKind;
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(panelHtml({
            kind, title: kind, cspSource: origin, nonce: randomBytes(18).toString('base64'),
            scriptUri: `${origin}/dist/webview/${PANEL_SCRIPTS[kind]}`, styleUri: `${origin}/media/panels.css`,
          }));
          return;
        }
        const rel = normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
        const allowed = [join('dist', 'webview') + sep, 'media' + sep].some((p) => rel.startsWith(p)) && !rel.includes('..');
        if (!allowed) {
          res.writeHead(404).end();
          return;
        }
        try {
          const body = await readFile(join(ROOT, rel));
          res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream' });
          res.end(body);
        } catch {
          res.writeHead(404).end();
        }
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return new PanelServer(server, origin);
  }

  url(kind: PanelKind): string {
    return `${this.origin}/panel/${kind}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Typed arrays cross page.evaluate/exposeFunction as base64, and are rebuilt on the other side as Uint8Array. */
function encode(v: unknown): unknown {
  if (v instanceof Uint8Array) return { __u8: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
}

function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.__u8 === 'string') return new Uint8Array(Buffer.from(o.__u8, 'base64'));
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

/**
 * Runs in the page before any of its scripts. Kept as text: tsx compiles test code with esbuild's keepNames, whose
 * helper would not exist inside the page if a TypeScript function were serialised instead.
 */
const PAGE_INIT = String.raw`
(() => {
  const init = __LS_INIT__;
  const toB64 = (u) => {
    let s = '';
    for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const enc = (v) => {
    if (v instanceof Uint8Array) return { __u8: toB64(v) };
    if (v instanceof ArrayBuffer) return { __u8: toB64(new Uint8Array(v)) };
    if (Array.isArray(v)) return v.map(enc);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, enc(x)]));
    return v;
  };
  const dec = (v) => {
    if (Array.isArray(v)) return v.map(dec);
    if (v && typeof v === 'object') {
      if (typeof v.__u8 === 'string') return Uint8Array.from(atob(v.__u8), (c) => c.charCodeAt(0));
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, dec(x)]));
    }
    return v;
  };
  window.__lsDeliver = (json) => window.dispatchEvent(new MessageEvent('message', { data: dec(JSON.parse(json)) }));
  let state = init.state;
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
    acquired = true;
    return {
      postMessage: (m) => { window.__lsToHost(JSON.stringify(enc(m))); },
      getState: () => state,
      setState: (s) => { state = s; window.__lsState(JSON.stringify(s)); return s; },
    };
  };
  // VS Code puts the theme's variables on <html> and the theme kind on <body> before the panel's scripts run.
  const applyTheme = () => {
    const html = document.documentElement;
    if (html && !html.dataset.themed) {
      html.dataset.themed = '1';
      for (const [k, val] of Object.entries(init.theme.vars)) html.style.setProperty(k, val);
    }
    if (document.body && !document.body.classList.contains(init.theme.bodyClass)) {
      document.body.classList.add(init.theme.bodyClass);
      document.body.dataset.vscodeThemeKind = init.theme.bodyClass;
      return true;
    }
    return false;
  };
  if (!applyTheme()) {
    const mo = new MutationObserver(() => { if (applyTheme()) mo.disconnect(); });
    mo.observe(document, { childList: true, subtree: true });
  }
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__lsCsp(e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)'));
  });
})();
`;

export interface OpenOptions {
  theme?: ThemeKind;
  state?: unknown;
  width?: number;
  height?: number;
  /** Runs before the page loads, like a PanelHost creating its controller before setting the webview's HTML. */
  beforeLoad?: (page: PanelPage) => void;
}

/**
 * One panel page: acquireVsCodeApi is stubbed (postMessage capture, getState/setState), VS Code theme variables are set,
 * and the page is a PanelChannel so the real host-side controllers can drive it.
 */
export class PanelPage implements PanelChannel {
  /** Messages the webview posted, decoded, in order. */
  readonly received: Array<Record<string, unknown>> = [];
  readonly cspViolations: string[] = [];
  readonly pageErrors: string[] = [];
  /** Simulates acknowledgements lost on the way (the webview still sends them). */
  dropAcks = false;
  savedState: unknown;
  private readonly listeners = new Set<(raw: unknown) => void>();
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(readonly page: Page, readonly kind: PanelKind) {}

  static async open(browser: Browser, server: PanelServer, kind: PanelKind, options: OpenOptions = {}): Promise<PanelPage> {
    const page = await browser.newPage({ viewport: { width: options.width ?? 900, height: options.height ?? 640 }, deviceScaleFactor: 1 });
    const p = new PanelPage(page, kind);
    page.on('pageerror', (e) => p.pageErrors.push(e.message));
    page.on('console', (msg) => { if (msg.type() === 'error') p.pageErrors.push(msg.text()); });
    await page.exposeFunction('__lsToHost', (json: string) => {
      const m = decode(JSON.parse(json)) as Record<string, unknown>;
      p.received.push(m);
      if (m.type === 'ack' && p.dropAcks) return;
      for (const l of [...p.listeners]) l(m);
    });
    await page.exposeFunction('__lsState', (json: string) => { p.savedState = JSON.parse(json); });
    await page.exposeFunction('__lsCsp', (s: string) => { p.cspViolations.push(s); });
    await page.addInitScript({ content: PAGE_INIT.replace('__LS_INIT__', JSON.stringify({ state: options.state ?? null, theme: THEMES[options.theme ?? 'dark'] })) });
    options.beforeLoad?.(p);
    await page.goto(server.url(kind));
    return p;
  }

  post(message: HostMessage): void {
    const json = JSON.stringify(encode(message));
    this.chain = this.chain.then(() => this.page.evaluate((j) => (window as unknown as { __lsDeliver(j: string): void }).__lsDeliver(j), json)).catch(() => undefined);
  }

  onMessage(listener: (raw: unknown) => void): DisposableLike {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Waits until every posted message has been dispatched in the page. */
  async flush(): Promise<void> {
    await this.chain;
  }

  messages(type: string): Array<Record<string, unknown>> {
    return this.received.filter((m) => m.type === type);
  }

  async waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async screenshot(name: string): Promise<string> {
    await mkdir(SHOTS, { recursive: true });
    const path = join(SHOTS, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  async close(): Promise<void> {
    await this.page.close();
  }
}

/** Decodes a PNG in the page (createImageBitmap) and returns its RGBA pixels. */
export async function decodePngInPage(page: Page, png: Uint8Array): Promise<{ width: number; height: number; rgba: Uint8Array }> {
  const r = await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/png' }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = c.getContext('2d')!;
    ctx.drawImage(bmp, 0, 0);
    const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
    return { width: bmp.width, height: bmp.height, b64: btoa(s) };
  }, Buffer.from(png).toString('base64'));
  return { width: r.width, height: r.height, rgba: new Uint8Array(Buffer.from(r.b64, 'base64')) };
}

/**
 * Call inside a describe: one Chromium and one panel server for the suite's tests, started before them and closed after.
 * `open` opens a panel page on them.
 */
export function panelSuite(): { open: (kind: PanelKind, options?: OpenOptions) => Promise<PanelPage> } {
  let browser: Browser | undefined;
  let server: PanelServer | undefined;
  before(async () => {
    browser = await launchBrowser();
    server = await PanelServer.start();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    open: (kind, options) => {
      if (!browser || !server) throw new Error('panelSuite: the browser and the panel server start before the tests');
      return PanelPage.open(browser, server, kind, options);
    },
  };
}
