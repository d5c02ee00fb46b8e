// Drives a real VS Code workbench (code-server + headless Chromium) from a UI test: start and stop it, run commands, read the debug UI, find Lockstep's webviews, save screenshots.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import {
  REPO_ROOT, findInstall, isolatedEnv, launchChromium, pidsCarryingMarker, remoteUri, runCodeServerCli, startCodeServer, sweep,
  waitUntilReaped, workbenchUrl, writeSettings,
} from '../../scripts/vscode/codeServerHost.mjs';

export type PanelKind = 'screen' | 'buffer' | 'metrics' | 'timeline' | 'agentView';

export interface VsCodeUiOptions {
  /** Folder the workbench opens. */
  folder: string;
  /** Load the extension from this folder (a development extension); omit to test what is installed in extensionsDir. */
  extensionDevelopmentPath?: string;
  /** Extensions folder (e.g. one a .vsix was installed into); default: an empty one in the scratch folder. */
  extensionsDir?: string;
  /** User settings on top of the quiet defaults. */
  settings?: Record<string, unknown>;
  /** Absolute time (ms since the epoch) by which everything must be over. */
  deadline: number;
  log?: (line: string) => void;
}

/** Settings that keep the workbench predictable for screenshots: no secondary side bar, no chat, no welcome page. */
export const UI_TEST_SETTINGS: Record<string, unknown> = {
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.colorTheme': 'Default Dark Modern',
  'window.commandCenter': false,
  'editor.minimap.enabled': false,
};

/** Every process of one UI run carries this marker prefix (set by runUi.ts), so the runner can sweep what a test left. */
export const UI_RUN_VAR = 'LOCKSTEP_UI_RUN';

/** "ctrl+alt+." (package.json) -> "Control+Alt+Period" (Playwright). */
export function playwrightKey(vscodeKey: string): string {
  const names: Record<string, string> = {
    ctrl: 'Control', alt: 'Alt', shift: 'Shift', cmd: 'Meta', meta: 'Meta', win: 'Meta',
    '.': 'Period', ',': 'Comma', '/': 'Slash', ';': 'Semicolon', "'": 'Quote', '[': 'BracketLeft', ']': 'BracketRight',
    '-': 'Minus', '=': 'Equal', '`': 'Backquote', '\\': 'Backslash', enter: 'Enter', escape: 'Escape', space: 'Space', tab: 'Tab',
  };
  return vscodeKey.split('+').map((part) => {
    const p = part.trim().toLowerCase();
    if (names[p]) return names[p];
    if (/^f\d{1,2}$/.test(p)) return p.toUpperCase();
    if (/^[a-z0-9]$/.test(p)) return p.toUpperCase();
    throw new Error(`keybinding "${vscodeKey}": no Playwright name for "${part}"`);
  }).join('+');
}

/** The key package.json binds to `command` (the Linux/Windows one), as Playwright spells it. */
export function keybindingFor(command: string, manifestPath = join(REPO_ROOT, 'package.json')): string {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { contributes?: { keybindings?: Array<{ command: string; key: string }> } };
  const kb = manifest.contributes?.keybindings?.find((k) => k.command === command);
  if (!kb) throw new Error(`${manifestPath} binds no key to ${command}`);
  return playwrightKey(kb.key);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class VsCodeUi {
  private constructor(
    readonly page: Page,
    readonly port: number,
    private readonly context: BrowserContext,
    private readonly scratch: string,
    private readonly marker: string,
    private readonly serverPid: number,
    private readonly deadline: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts code-server and Chromium, opens the folder and waits for the workbench. */
  static async start(o: VsCodeUiOptions): Promise<VsCodeUi> {
    const log = o.log ?? (() => undefined);
    const scratch = mkdtempSync(join(tmpdir(), 'lockstep-ui-'));
    const marker = `${process.env[UI_RUN_VAR] ?? 'ui'}-${randomUUID()}`;
    let serverPid: number | undefined;
    try {
      const env = isolatedEnv(scratch, marker);
      const dirs = { userDataDir: join(scratch, 'user-data'), extensionsDir: o.extensionsDir ?? join(scratch, 'extensions') };
      mkdirSync(dirs.extensionsDir, { recursive: true });
      writeSettings(dirs.userDataDir, { ...UI_TEST_SETTINGS, ...o.settings });
      const started = Date.now();
      const { child, port } = await startCodeServer(findInstall(), env, dirs, join(scratch, 'code-server.log'), { deadline: o.deadline, say: log });
      serverPid = child.pid;
      log(`code-server on 127.0.0.1:${port} in ${Date.now() - started} ms`);
      const context = await launchChromium(join(scratch, 'browser-profile'), env, o.deadline, { width: 1280, height: 800 });
      const page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(30_000);
      const ui = new VsCodeUi(page, port, context, scratch, marker, child.pid, o.deadline, log);
      const payload: Array<[string, string]> = o.extensionDevelopmentPath ? [['extensionDevelopmentPath', remoteUri(port, o.extensionDevelopmentPath)]] : [];
      await page.goto(workbenchUrl(port, o.folder, payload), { waitUntil: 'domcontentloaded', timeout: ui.timeLeft() });
      await ui.waitForWorkbench();
      return ui;
    } catch (e) {
      await sweep(marker, serverPid, log);
      rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
      throw e;
    }
  }

  /** Installs a .vsix into `extensionsDir` with code-server's own CLI (as `code --install-extension` would). */
  static async installVsix(vsix: string, extensionsDir: string, deadlineMs: number): Promise<string> {
    const scratch = mkdtempSync(join(tmpdir(), 'lockstep-ui-install-'));
    const marker = `${process.env[UI_RUN_VAR] ?? 'ui'}-${randomUUID()}`;
    try {
      const env = isolatedEnv(scratch, marker);
      const r = await runCodeServerCli(findInstall(), env, { userDataDir: join(scratch, 'user-data'), extensionsDir }, ['--install-extension', vsix], deadlineMs, undefined, 'pipe');
      await sweep(marker, r.pid);
      if (r.code !== 0) throw new Error(`code-server --install-extension ${vsix} exited with ${r.code}:\n${r.output}`);
      return r.output.trim();
    } finally {
      rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  timeLeft(): number {
    return Math.max(1000, this.deadline - Date.now());
  }

  async waitForWorkbench(): Promise<void> {
    await this.page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: this.timeLeft() });
    // The extension host and the contributed views come up after the workbench paints.
    await this.page.waitForFunction(() => !document.querySelector('.monaco-workbench .part.statusbar .codicon-loading'), undefined, { timeout: 30_000 }).catch(() => undefined);
  }

  /** Polls `probe` until it returns something other than undefined. */
  async waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 250): Promise<T> {
    const until = Math.min(Date.now() + timeoutMs, this.deadline);
    let last: unknown;
    while (Date.now() < until) {
      try {
        const v = await probe();
        if (v !== undefined) return v;
      } catch (e) {
        last = e;
      }
      await sleep(intervalMs);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
  }

  /** Runs a command from the command palette by its exact label ("Lockstep: Open Sync Metrics Panel"). */
  async runCommand(label: string): Promise<void> {
    await this.openQuickInput('F1');
    await this.page.keyboard.type(label);
    await this.pickQuickItem(label);
  }

  /** Picks the quick-pick row whose label is exactly `label`; fails naming the rows it saw. */
  async pickQuickItem(label: string): Promise<void> {
    const rows = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    const labels = () => rows.evaluateAll((els) => els.map((e) => (e.querySelector('.label-name')?.textContent ?? e.textContent ?? '').trim()));
    const index = await this.waitFor(`"${label}" in the quick pick`, async () => {
      const i = (await labels()).indexOf(label);
      return i >= 0 ? i : undefined;
    }, 10_000).catch(async (e: Error) => {
      throw new Error(`${e.message}; rows: ${JSON.stringify(await labels())}`);
    });
    // Not Playwright's 30 s default: a quick pick closed under the click (a session that stops opens its frame sheet,
    // which takes the focus) fails in 10 s, so a caller polling with waitFor opens the palette again within its own time.
    await rows.nth(index).click({ timeout: 10_000 });
  }

  async openQuickInput(key: string): Promise<void> {
    await this.focusWorkbench();
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press(key);
    await this.page.locator('.quick-input-widget').waitFor({ state: 'visible', timeout: 10_000 });
  }

  /** Text of a quick input that is showing (title, prompt, rows). */
  async quickInputText(): Promise<string> {
    return this.page.locator('.quick-input-widget').innerText();
  }

  /** Waits for an input box whose prompt contains `prompt`, types `value` (replacing what is there) and confirms. */
  async answerInputBox(prompt: string, value: string): Promise<void> {
    await this.waitFor(`an input box asking "${prompt}"`, async () => ((await this.quickInputText()).includes(prompt) ? true : undefined), 10_000);
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.fill(value);
    await this.page.keyboard.press('Enter');
  }

  /**
   * Answers code-server's simple file dialog (a quick input holding a path, with an OK button labelled `okLabel`):
   * types the folder, waits for the dialog to follow it, then accepts.
   */
  async answerFolderDialog(okLabel: string, folder: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    await this.waitFor(`a folder dialog with "${okLabel}"`, async () => ((await widget.isVisible()) && (await widget.innerText()).includes(okLabel) ? true : undefined), 10_000);
    const input = widget.locator('.quick-input-box input');
    const typed = folder.endsWith('/') ? folder : `${folder}/`;
    await input.fill(typed);
    // The dialog lists the typed folder asynchronously; accepting before it has caught up is ignored.
    await sleep(1000);
    await this.waitFor('the folder dialog to accept', async () => {
      if (!(await widget.isVisible())) return true;
      if ((await input.inputValue()) !== typed) await input.fill(typed);
      await widget.locator('.monaco-button', { hasText: okLabel }).first().click({ timeout: 2000 }).catch(() => this.page.keyboard.press('Enter'));
      await sleep(1000);
      return (await widget.isVisible()) ? undefined : true;
    }, 15_000, 0);
  }

  /**
   * Presses F5 until a debug session is up: `debuggersAvailable` becomes true only once the extension host has read
   * the contributions, and F5 before that does nothing (or offers to pick a debugger). After each press it waits a
   * while for the session, so a slow start is not answered with a second F5 (which would continue or start another).
   */
  async startDebuggingWithF5(): Promise<number> {
    const toolbar = this.page.locator('.debug-toolbar');
    const dialog = this.page.locator('.monaco-dialog-box');
    const picker = this.page.locator('.quick-input-widget');
    const started = Date.now();
    let presses = 0;
    await this.waitFor('the debug toolbar after F5', async () => {
      if (await toolbar.isVisible()) return true;
      if (await picker.isVisible()) await this.page.keyboard.press('Escape');
      await this.focusWorkbench();
      await this.page.keyboard.press('F5');
      presses++;
      for (let i = 0; i < 20; i++) {
        await sleep(200);
        if (await toolbar.isVisible()) return true;
        // "… is already running": a press that raced the first session; never start a second one.
        if (await dialog.isVisible()) {
          await this.page.keyboard.press('Escape');
          return (await toolbar.isVisible()) ? true : undefined;
        }
      }
      return undefined;
    }, 90_000, 0);
    this.log(`debug toolbar after ${presses} F5 press(es), ${Date.now() - started} ms`);
    return presses;
  }

  /** Gives the keyboard back to the workbench (a click in a webview or an editor keeps it there otherwise). */
  async focusWorkbench(): Promise<void> {
    // The side bar's title text: clicking it does nothing else (the title bar's other parts open menus or dropdowns).
    await this.page.locator('.part.sidebar .composite.title .title-label').first().click({ timeout: 5000 }).catch(() => undefined);
  }

  /** The Lockstep status bar item's text, e.g. "frame 124 · 0 desyncs" (undefined while there is none). */
  async lockstepStatus(): Promise<string | undefined> {
    const texts = await this.page.locator('.part.statusbar .statusbar-item').allInnerTexts();
    return texts.map((t) => t.trim()).find((t) => /^frame (\d+|—) · /.test(t));
  }

  /** Waits until the session has stopped on a frame other than `previous` (the status shows fps only while running). */
  async waitForStoppedFrame(previous: number, timeoutMs = 30_000): Promise<number> {
    return this.waitFor(`the session to stop on a frame after ${previous}`, async () => {
      const text = await this.lockstepStatus();
      const m = /^frame (\d+) · /.exec(text ?? '');
      return m && !text!.includes(' fps') && Number(m[1]) !== previous ? Number(m[1]) : undefined;
    }, timeoutMs);
  }

  async statusFrame(): Promise<number | undefined> {
    const m = /^frame (\d+) · /.exec((await this.lockstepStatus()) ?? '');
    return m ? Number(m[1]) : undefined;
  }

  /** The Call Stack view's header state ("Paused on step", "Desync: frame_skip at frame 94", …) and its rows. */
  async callStack(): Promise<{ state: string; rows: string[] }> {
    await this.showDebugView();
    const view = this.page.locator('.debug-call-stack');
    const state = await this.page.locator('.call-stack-state-message .label').allInnerTexts();
    const rows = await view.locator('.monaco-list-row').allInnerTexts();
    return { state: state.map((s) => s.trim()).filter(Boolean).join(' | '), rows: rows.map((r) => r.replace(/\s+/g, ' ').trim()) };
  }

  async waitForPausedState(what: string, test: (state: string) => boolean, timeoutMs = 30_000): Promise<string> {
    return this.waitFor(what, async () => {
      const { state } = await this.callStack();
      return test(state) ? state : undefined;
    }, timeoutMs);
  }

  /** Shows the Run and Debug view (Variables, Call Stack, Breakpoints) unless it is showing. */
  async showDebugView(): Promise<void> {
    if (await this.page.locator('.debug-call-stack').isVisible()) return;
    await this.runCommand('View: Show Run and Debug');
    await this.page.locator('.debug-call-stack').waitFor({ state: 'visible', timeout: 10_000 });
  }

  /** Titles of the editor tabs. */
  async tabs(): Promise<string[]> {
    // A tab's label renders name and extension apart ("demo\n.nes").
    return (await this.page.locator('.part.editor .tabs-container .tab').allInnerTexts()).map((t) => t.replace(/\s*\n\s*/g, '').trim());
  }

  async activateTab(title: string): Promise<void> {
    const tabs = this.page.locator('.part.editor .tabs-container .tab');
    const i = (await this.tabs()).indexOf(title);
    if (i < 0) throw new Error(`no editor tab "${title}" (tabs: ${JSON.stringify(await this.tabs())})`);
    const tab = tabs.nth(i);
    const active = async () => (await tab.getAttribute('class'))?.split(/\s+/).includes('active') ?? false;
    if (await active()) return;
    // The floating debug toolbar sits over the first group's tabs; a tab opens on mouse-down, which can be sent directly.
    await tab.click({ timeout: 2000 }).catch(async () => {
      await tab.dispatchEvent('mousedown', { button: 0 });
      await tab.dispatchEvent('mouseup', { button: 0 });
    });
    await this.waitFor(`the "${title}" tab to be active`, async () => ((await active()) ? true : undefined), 5000);
  }

  /** The innermost frame of a Lockstep panel's webview (webviews nest: the editor's iframe holds the content iframe). */
  async panelFrame(kind: PanelKind): Promise<Frame> {
    return this.waitFor(`the ${kind} panel's webview content`, async () => {
      for (const f of this.page.frames()) {
        if (f === this.page.mainFrame()) continue;
        const panel = await f.evaluate(() => document.body?.dataset.panel).catch(() => undefined);
        if (panel === kind) return f;
      }
      return undefined;
    });
  }

  /** The first frame (webview content included) whose body text contains `text`. */
  async frameWithText(text: string, timeoutMs = 10_000): Promise<Frame> {
    return this.waitFor(`a frame showing "${text}"`, async () => {
      for (const f of this.page.frames()) {
        const t = await f.evaluate(() => document.body?.innerText ?? '').catch(() => '');
        if (t.includes(text)) return f;
      }
      return undefined;
    }, timeoutMs);
  }

  /** Resolves once the panel's canvas (the `index`-th) holds non-black pixels: something was drawn. */
  async waitForCanvasPixels(kind: PanelKind, selector = 'canvas'): Promise<number> {
    return this.waitFor(`non-black pixels on the ${kind} panel's ${selector}`, async () => {
      const frame = await this.panelFrame(kind);
      const lit = await frame.evaluate((sel) => {
        const c = document.querySelector(sel) as HTMLCanvasElement | null;
        if (!c || c.width === 0 || c.height === 0) return 0;
        const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
        if (!data) return 0;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] > 30) n++;
        return n;
      }, selector);
      return lit > 0 ? lit : undefined;
    });
  }

  /** Messages in the notification centre (notifications do not pop up in smoke-test-driver mode). */
  async notifications(): Promise<string[]> {
    await this.page.keyboard.press('Escape');
    await this.runCommand('Notifications: Show Notifications');
    const center = this.page.locator('.notifications-center');
    await center.waitFor({ state: 'visible', timeout: 10_000 });
    const texts = await center.locator('.notification-list-item-message').allInnerTexts();
    await center.locator('.notifications-center-header').click().catch(() => undefined);
    await this.page.keyboard.press('Escape');
    return texts.map((t) => t.trim());
  }

  async screenshot(file: string): Promise<void> {
    await this.page.mouse.move(0, 799);
    await sleep(300);
    await this.page.screenshot({ path: file, timeout: 15_000 });
    this.log(`screenshot ${file}`);
  }

  /** Closes Chromium and code-server and everything they started; idempotent. */
  async close(): Promise<void> {
    const seen = pidsCarryingMarker(this.marker);
    await Promise.race([this.context.close().catch(() => undefined), sleep(5000)]);
    await sweep(this.marker, this.serverPid, this.log);
    await waitUntilReaped(seen, 5000);
    rmSync(this.scratch, { recursive: true, force: true, maxRetries: 3 });
  }
}
