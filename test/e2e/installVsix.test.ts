// UI test of the packaged extension: the .vsix installed into a clean code-server, then the walkthrough's path (demo workspace, F5, Step Frame by keybinding, panels, a desync breakpoint from a misbehaving agent), with screenshots.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageVsix } from '../../scripts/packageVsix';
import { DEMO_CONFIG_NAMES, DEMO_PATHS, FRAME_SKIPPER_GAP } from '../../src/extension/demoWorkspace';
import { VsCodeUi, keybindingFor } from './vscodeUi';
import { REPO_ROOT, VSIX_VAR, log, screenshotPath, uiDeadline, UiSuite } from './uiTestEnv';

const deadline = uiDeadline();
const STEP_FRAME_KEY = keybindingFor('lockstep.stepFrame');
const EXTENSION_ID = 'lockstep-nes.lockstep-nes';

interface WalkthroughStep { id: string; title: string; media: { markdown?: string; svg?: string; image?: string } }
const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  contributes: { walkthroughs: Array<{ id: string; title: string; steps: WalkthroughStep[] }> };
};
const walkthrough = manifest.contributes.walkthroughs[0];

describe('the .vsix installed into a clean code-server, following the walkthrough', { timeout: Math.max(1000, deadline - Date.now()) }, () => {
  const suite = new UiSuite<VsCodeUi>();
  const { need, test: uiTest } = suite;
  let scratch = '';
  let installed = '';
  let demo = '';

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'lockstep-ui-install-'));
    let vsix = process.env[VSIX_VAR];
    if (!vsix) {
      vsix = join(scratch, 'lockstep.vsix');
      const started = Date.now();
      packageVsix({ root: REPO_ROOT, outFile: vsix });
      log(`packaged ${vsix} in ${Date.now() - started} ms`);
    }
    const extensionsDir = join(scratch, 'extensions');
    mkdirSync(extensionsDir);
    log(await VsCodeUi.installVsix(vsix, extensionsDir, 120_000));
    installed = join(extensionsDir, `${EXTENSION_ID}-${manifest.version}`);
    const start = join(scratch, 'start');
    demo = join(scratch, 'my-demo');
    mkdirSync(start);
    mkdirSync(demo);
    // No extensionDevelopmentPath: a development copy with the same id would hide the installed one.
    suite.ui = await VsCodeUi.start({ folder: start, extensionsDir, deadline, log });
  });

  after(async () => {
    await suite.ui?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
  });

  uiTest('code-server installed the package as lockstep-nes.lockstep-nes with its bundles', async () => {
    assert.ok(existsSync(installed), `missing ${installed}; extensions folder holds ${readdirSync(join(installed, '..')).join(', ')}`);
    for (const f of ['package.json', 'dist/extension.js', 'roms/demo/demo.nes']) assert.ok(existsSync(join(installed, f)), `${f} not installed`);
  });

  uiTest('the installed package carries every walkthrough media file', async () => {
    const media = walkthrough.steps.flatMap((s) => [s.media.markdown, s.media.svg, s.media.image]).filter((m): m is string => !!m);
    assert.ok(media.length >= walkthrough.steps.length);
    const missing = media.filter((m) => !existsSync(join(installed, m)));
    assert.deepEqual(missing, [], `not in the .vsix (see .vscodeignore): ${missing.join(', ')}`);
  });

  uiTest('the walkthrough opens from the Welcome page with all its steps and their media', async () => {
    const u = need();
    // Room for the step's media beside the steps, as on a usual screen.
    await u.runCommand('View: Close Primary Side Bar');
    try {
      await u.runCommand('Welcome: Open Walkthrough...');
      await u.pickQuickItem(walkthrough.title);
      const page = u.page.locator('.gettingStartedContainer');
      await u.waitFor('the walkthrough page', async () => ((await page.innerText()).includes(walkthrough.title) ? true : undefined));
      const text = await page.innerText();
      for (const s of walkthrough.steps) assert.ok(text.includes(s.title), `step "${s.title}" not shown`);
      // Step media render in webviews: the first step's markdown lists the demo's files.
      await u.frameWithText('asks for an empty folder');
      await u.screenshot(screenshotPath('walkthrough'));
      await u.page.locator('.gettingStartedContainer .step-title', { hasText: 'Step one frame' }).first().click();
      await u.waitFor('the Step one frame step to open', async () => ((await page.innerText()).includes('runs exactly one frame') ? true : undefined), 10_000);
      // SVG media take the theme's colours (var(--vscode-…) in presentation attributes): no text left black on dark.
      const fills = await u.waitFor('the step\'s SVG with its text drawn', async () => {
        for (const f of u.page.frames()) {
          const got = await f.evaluate(() => Array.from(document.querySelectorAll('svg text')).map((t) => getComputedStyle(t).fill)).catch(() => []);
          if (got.length > 0) return got;
        }
        return undefined;
      }, 10_000);
      assert.ok(fills.every((fill) => fill !== 'rgb(0, 0, 0)'), `SVG text fills: ${[...new Set(fills)].join(', ')}`);
      await u.screenshot(screenshotPath('walkthrough-step-frame'));
    } finally {
      await u.runCommand('View: Toggle Primary Side Bar Visibility');
    }
  });

  uiTest('its Create Demo Workspace button asks for a folder, writes the demo there and opens it', async () => {
    const u = need();
    // Escape (used around the command palette) takes the Welcome page back to its overview: open the walkthrough again.
    await u.runCommand('Welcome: Open Walkthrough...');
    await u.pickQuickItem(walkthrough.title);
    await u.page.locator('.gettingStartedContainer .step-title', { hasText: walkthrough.steps[0].title }).first().click();
    await u.page.getByRole('button', { name: 'Create Demo Workspace' }).first().click();
    // code-server's simple file dialog: a quick input holding a path.
    await u.answerFolderDialog('Create Demo Workspace Here', demo);
    await u.page.waitForURL((url) => url.searchParams.get('folder') === demo, { timeout: 30_000 }).catch(async (e: Error) => {
      // The command reports what went wrong in a notification (they do not pop up in smoke-test-driver mode).
      throw new Error(`${e.message.split('\n')[0]}; notifications: ${JSON.stringify(await u.notifications())}`);
    });
    await u.waitForWorkbench();
    for (const f of [DEMO_PATHS.launch, DEMO_PATHS.config, DEMO_PATHS.rom, DEMO_PATHS.ramMap, DEMO_PATHS.misbehavingAgent, DEMO_PATHS.readme]) {
      assert.ok(existsSync(join(demo, f)), `${f} was not written`);
    }
  });

  uiTest('the demo written by the installed package includes the Python example next to its client', async () => {
    for (const f of [DEMO_PATHS.pythonExample, `${DEMO_PATHS.pythonClient}/__init__.py`, `${DEMO_PATHS.pythonClient}/env.py`]) {
      assert.ok(existsSync(join(demo, f)), `${f} missing: the .vsix carries no Python example (dist/python/)`);
    }
    assert.match(readFileSync(join(demo, DEMO_PATHS.readme), 'utf8'), /python3 python\/random_agent\.py --port \d+ --token \S+/);
  });

  uiTest('F5 runs the demo ROM and stops on entry', async () => {
    const u = need();
    await u.startDebuggingWithF5();
    await u.waitForPausedState('the session to stop on entry', (s) => /entry/i.test(s));
    const frame = await u.waitFor('a frame in the Lockstep status bar item', () => u.statusFrame());
    assert.ok(frame >= 0);
  });

  uiTest(`Step Frame by its keybinding (${STEP_FRAME_KEY}) advances one frame`, async () => {
    const u = need();
    const before = await u.waitFor('the status bar frame', () => u.statusFrame());
    await u.focusWorkbench();
    await u.page.keyboard.press(STEP_FRAME_KEY);
    assert.equal(await u.waitForStoppedFrame(before), before + 1);
  });

  uiTest('the panels are open and the screen panel shows the game', async () => {
    const u = need();
    const tabs = await u.waitFor('the panels (opened on start)', async () => {
      const t = await u.tabs();
      return ['NES Screen', 'Sync Buffer', 'Sync Metrics'].every((p) => t.includes(p)) ? t : undefined;
    });
    assert.ok(tabs.includes('NES Screen'));
    await u.activateTab('NES Screen');
    assert.ok((await u.waitForCanvasPixels('screen')) > 100);
    await u.screenshot(screenshotPath('install-panels'));
  });

  uiTest('a misbehaving agent stops on the frame_skip desync breakpoint, shown in the Call Stack and Debug Console', async () => {
    const u = need();
    // The filter is on by default: its checkbox in the Breakpoints view is ticked.
    await u.showDebugView();
    const row = u.page.locator('.debug-breakpoints .monaco-list-row', { hasText: 'Frame skip' }).first();
    const checked = await row.evaluate((el) => {
      const input = el.querySelector('input[type=checkbox]') as HTMLInputElement | null;
      if (input) return input.checked;
      const box = el.querySelector('[role=checkbox]');
      return box ? box.getAttribute('aria-checked') === 'true' : `no checkbox in ${el.outerHTML.slice(0, 400)}`;
    });
    assert.equal(checked, true, 'the Frame skip exception breakpoint is not enabled');

    await u.runCommand('Debug: Stop');
    await u.waitFor('the session to end', async () => ((await u.page.locator('.debug-toolbar').isVisible()) ? undefined : true));
    await u.runCommand('Debug: Select and Start Debugging');
    await u.pickQuickItem(DEMO_CONFIG_NAMES.misbehaving);
    const state = await u.waitForPausedState('a stop on the frame_skip desync', (s) => /frame_skip/.test(s), 60_000);
    const m = /Desync: frame_skip at frame (\d+)/.exec(state);
    assert.ok(m, `call stack state: ${state}`);
    const frame = Number(m[1]);
    assert.equal(await u.waitForStoppedFrame(-1), frame, 'the status bar shows the held frame');
    await u.runCommand('Debug Console: Focus on Debug Console View');
    const repl = u.page.locator('.repl .monaco-list-rows');
    const line = await u.waitFor('the desync in the Debug Console', async () => {
      const t = await repl.innerText();
      return t.includes('frame_skip') ? t : undefined;
    });
    assert.match(line, new RegExp(`sent an action for frame ${frame + FRAME_SKIPPER_GAP} while the emulator holds frame ${frame}`));
    await u.focusWorkbench();
    await u.screenshot(screenshotPath('desync-breakpoint'));
  });

  uiTest('the Sync Buffer panel marks the desync on the held frame', async () => {
    const u = need();
    const frame = await u.waitFor('the status bar frame', () => u.statusFrame());
    await u.activateTab('Sync Buffer');
    const buffer = await u.panelFrame('buffer');
    const row = await u.waitFor(`a desync mark on frame ${frame} in the sync buffer`, async () => {
      const rows = await buffer.locator('#rows tr').allInnerTexts();
      return rows.find((r) => r.trim().startsWith(String(frame)) && r.includes('frame_skip'));
    });
    assert.ok(row);
    // The same stop with the buffer beside it: what the README shows.
    await u.focusWorkbench();
    await u.screenshot(screenshotPath('desync-breakpoint'));
  });
});
