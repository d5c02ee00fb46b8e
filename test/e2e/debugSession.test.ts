// UI test in real VS Code with Lockstep as a development extension: F5 on the demo ROM, Step Frame by its keybinding, Step N Frames, and the three panels showing the session (screenshots).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { VsCodeUi, keybindingFor } from './vscodeUi';
import { screenshotPath, uiDeadline } from './uiTestEnv';
import { demoWorkspaceSuite } from './demoWorkspaceSuite';

const deadline = uiDeadline();
const STEP_FRAME_KEY = keybindingFor('lockstep.stepFrame');
const PANEL_TITLES = ['NES Screen', 'Sync Buffer', 'Sync Metrics'];

describe('F5 on the demo ROM in real VS Code (development extension)', { timeout: Math.max(1000, deadline - Date.now()) }, () => {
  const { suite } = demoWorkspaceSuite(deadline);
  const { need, test: uiTest } = suite;

  uiTest('F5 starts the first launch configuration, stopped on entry, and the panels open by themselves', async () => {
    const u = need();
    await u.startDebuggingWithF5();
    const state = await u.waitForPausedState('the session to stop on entry', (s) => /entry/i.test(s));
    assert.match(state, /entry/i);
    const frame = await u.waitFor('a frame number in the Lockstep status bar item', () => u.statusFrame());
    assert.ok(frame >= 0, `status bar frame ${frame}`);
    const { rows } = await u.callStack();
    assert.ok(rows.some((r) => r.includes(`frame ${frame} (episode 0, step 0)`)), `call stack rows: ${JSON.stringify(rows)}`);
    // lockstep.panels.openOnStart is on by default.
    const tabs = await u.waitFor('the three panels to open on start', async () => {
      const t = await u.tabs();
      return PANEL_TITLES.every((p) => t.includes(p)) ? t : undefined;
    });
    assert.ok(tabs.length >= 3);
    // Notifications do not pop up in smoke-test-driver mode: the notification centre holds them.
    const messages = await u.notifications();
    assert.deepEqual(messages.filter((m) => /lockstep|lua|rom|agent/i.test(m)), [], `notifications: ${JSON.stringify(messages)}`);
  });

  /** The text of the frame sheet, the page VS Code opens for the stopped frame (one tab per session). */
  const frameSheet = async (u: VsCodeUi): Promise<string> => {
    const sheets = (await u.tabs()).filter((t) => /stopped frame\.md$/.test(t));
    assert.equal(sheets.length, 1, `one frame sheet tab, got ${JSON.stringify(await u.tabs())}`);
    await u.activateTab(sheets[0]);
    await new Promise((r) => setTimeout(r, 300));
    // Monaco draws spaces as no-break spaces.
    return (await u.page.locator('.part.editor').innerText()).replace(/\u00a0/g, ' ');
  };

  uiTest('stopping opens the frame sheet for the held frame, not an error editor (a ROM has no source lines)', async () => {
    const u = need();
    const frame = await u.waitFor('the status bar frame', () => u.statusFrame());
    const text = await u.waitFor(`the frame sheet of frame ${frame}`, async () => {
      const t = await frameSheet(u);
      return new RegExp(`frame ${frame} \\(episode 0, step 0\\)`).test(t) ? t : undefined;
    }, 10_000);
    assert.doesNotMatch(text, /Could not load source/);
    assert.match(text, /p1_x = \d+ \(0x[0-9A-F]{2}\)/);
  });

  uiTest('the Variables view shows the stopped frame\'s Game scope (RAM-map variables) without a click', async () => {
    const u = need();
    const rows = await u.waitFor('the Game scope and its variables in the Variables view', async () => {
      const r = (await u.page.locator('.debug-variables .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
      return r.includes('Game') && r.some((t) => /^p1_x = \d+ \(0x[0-9A-F]{2}\)$/.test(t)) ? r : undefined;
    }, 10_000);
    assert.ok(rows.includes('Game'));
  });

  uiTest(`Step Frame (${STEP_FRAME_KEY}, read from package.json) advances the frame by exactly one`, async () => {
    const u = need();
    const before = await u.waitFor('the status bar frame', () => u.statusFrame());
    await u.focusWorkbench();
    await u.page.keyboard.press(STEP_FRAME_KEY);
    const after = await u.waitForStoppedFrame(before);
    assert.equal(after, before + 1);
    await u.waitForPausedState('the session to stop after the step', (s) => /step/i.test(s));
    // The same tab now shows the new frame: refreshed at every stop, never a page of an earlier one.
    await u.waitFor(`the frame sheet of frame ${after}`, async () => (new RegExp(`frame ${after} \\(episode 0, step 1\\)\\s+stopped: step`).test(await frameSheet(u)) ? true : undefined), 10_000);
  });

  uiTest('Step N Frames… from the command palette advances the frame by N', async () => {
    const u = need();
    const before = await u.waitFor('the status bar frame', () => u.statusFrame());
    await u.runCommand('Lockstep: Step N Frames…');
    await u.answerInputBox('Frames to run', '120');
    const after = await u.waitForStoppedFrame(before);
    assert.equal(after, before + 120);
  });

  uiTest('the three panels open from the command palette and show the running session', async () => {
    const u = need();
    await u.runCommand('View: Close All Editor Groups');
    await u.waitFor('the editors to close', async () => ((await u.tabs()).length === 0 ? true : undefined));
    await u.runCommand('Lockstep: Open Screen, Buffer and Metrics Panels');
    const tabs = await u.waitFor('three panel tabs', async () => {
      const t = await u.tabs();
      return PANEL_TITLES.every((p) => t.includes(p)) ? t : undefined;
    });
    assert.deepEqual(tabs.filter((t) => PANEL_TITLES.includes(t)).sort(), [...PANEL_TITLES].sort());
    // Room for the panels; the metrics sample while frames run, so run the game for a while with them open, then pause.
    if (await u.page.locator('.part.panel').isVisible()) await u.runCommand('View: Toggle Panel Visibility');
    await u.activateTab('Sync Metrics');
    await u.runCommand('Debug: Continue');
    await u.waitFor('the session to run', async () => ((await u.lockstepStatus())?.includes('fps') ? true : undefined));
    await new Promise((r) => setTimeout(r, 3000));
    await u.runCommand('Debug: Pause');
    await u.waitForPausedState('the session to pause', (s) => /pause/i.test(s));
    const frame = await u.waitForStoppedFrame(-1);

    // A stop may open the frame's source in front of a panel: bring each panel to the front before reading it.
    await u.activateTab('Sync Metrics');
    const metrics = await u.panelFrame('metrics');
    const points = await u.waitFor('points on the metrics charts', async () => {
      const n = Math.max(0, ...(await metrics.locator('canvas[data-points]').evaluateAll((cs) => cs.map((c) => Number((c as HTMLCanvasElement).dataset.points)))));
      return n >= 4 ? n : undefined;
    });
    assert.ok(points >= 4, `${points} points`);
    await u.waitForCanvasPixels('metrics');

    await u.activateTab('NES Screen');
    const lit = await u.waitForCanvasPixels('screen');
    assert.ok(lit > 100, `only ${lit} lit pixels on the NES screen`);
    const screenFrame = await u.panelFrame('screen');
    await u.waitFor(`the screen panel to show frame ${frame}`, async () => ((await screenFrame.locator('body').innerText()).includes(`frame ${frame}`) ? true : undefined));
    await u.screenshot(screenshotPath('panel-screen'));

    await u.activateTab('Sync Buffer');
    const buffer = await u.panelFrame('buffer');
    const rows = await u.waitFor('rows in the sync buffer table, newest first', async () => {
      const r = await buffer.locator('#rows tr').allInnerTexts();
      return r.length > 0 && r[0].trim().startsWith(String(frame)) ? r : undefined;
    });
    assert.ok(rows.length > 0);
    await u.screenshot(screenshotPath('panel-buffer'));

    await u.activateTab('Sync Metrics');
    await u.screenshot(screenshotPath('panel-metrics'));
  });
});
