// UI test in real VS Code: a homebrew ROM that is not the demo, in a folder with no launch.json, started with "Lockstep: Debug ROM", shows its own picture in the screen panel; after Continue and Pause (the frame sheet over the screen panel, or the groups joined) the screen panel command brings it forward on the live paused session.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { VsCodeUi } from './vscodeUi';
import { extensionUnderTest, log, repoPath, screenshotPath, uiDeadline, UiSuite } from './uiTestEnv';

const deadline = uiDeadline();
const ROM = repoPath('test/fixtures/roms/stripes.nes');

/** What the screen panel's canvas shows: share of pixels that are not black, and the distinct colours among them. */
async function screenPicture(frame: Frame): Promise<{ width: number; height: number; lit: number; colours: string[] }> {
  return frame.evaluate(() => {
    const c = document.getElementById('screen') as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const counts = new Map<string, number>();
    let lit = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] + data[i + 1] + data[i + 2] <= 30) continue;
      lit++;
      const key = `${data[i]},${data[i + 1]},${data[i + 2]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    // Colours covering at least 2 % of the screen: the bars, not anti-aliasing or stray pixels.
    const colours = [...counts].filter(([, n]) => n >= (c.width * c.height) / 50).map(([k]) => k);
    return { width: c.width, height: c.height, lit: lit / (c.width * c.height), colours };
  });
}

describe('Debug ROM on a homebrew ROM with no launch.json, in real VS Code', { timeout: Math.max(1000, deadline - Date.now()) }, () => {
  const suite = new UiSuite<VsCodeUi>();
  const { need, test: uiTest } = suite;
  let scratch = '';

  before(async () => {
    if (!existsSync(ROM)) throw new Error(`${ROM} is missing: bash test/fixtures/roms/build.sh`);
    scratch = mkdtempSync(join(tmpdir(), 'lockstep-ui-rom-'));
    const folder = join(scratch, 'my-game');
    mkdirSync(folder);
    copyFileSync(ROM, join(folder, 'stripes.nes'));
    suite.ui = await VsCodeUi.start({ folder, extensionDevelopmentPath: extensionUnderTest(), deadline, log });
  });

  after(async () => {
    await suite.ui?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  uiTest('"Lockstep: Debug ROM" on the open ROM stops on entry and the screen panel shows the game\'s own picture', async () => {
    const u = need();
    // Open the ROM as a user would (a click in the Explorer), then run the command on it.
    await u.runCommand('View: Show Explorer');
    const row = u.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'stripes.nes' });
    await row.first().waitFor({ state: 'visible', timeout: 20_000 });
    await row.first().dblclick();
    await u.waitFor('the ROM tab', async () => ((await u.tabs()).includes('stripes.nes') ? true : undefined));
    // The palette lists Lockstep's commands once the extension host has read its contributions.
    await u.waitFor('"Lockstep: Debug ROM" in the command palette', async () => {
      try {
        await u.runCommand('Lockstep: Debug ROM');
        return true;
      } catch {
        await u.page.keyboard.press('Escape');
        return undefined;
      }
    }, 90_000, 1000);
    await u.waitForPausedState('the session to stop on entry', (s) => /entry/i.test(s), 60_000);
    const tabs = await u.waitFor('the NES Screen panel to open by itself', async () => ((await u.tabs()).includes('NES Screen') ? u.tabs() : undefined));
    assert.ok(!tabs.some((t) => /launch\.json/.test(t)), `no launch.json was needed: ${JSON.stringify(tabs)}`);

    await u.activateTab('NES Screen');
    const screen = await u.panelFrame('screen');
    await u.waitFor('the ROM name in the screen panel', async () => ((await screen.locator('#session-rom').innerText()) === 'stripes.nes' ? true : undefined));
    assert.equal(await screen.locator('#screen-empty').isHidden(), true, `no note instead of the game: ${await screen.locator('#screen-empty').innerText()}`);
    // A new session starts its dropped count at 0 (the issue saw it carried over, non-zero at frame 0).
    await u.waitFor('the entry frame in the status line', async () => (/^frame \d+ · dropped \d+$/.test(await screen.locator('#stream-status').innerText()) ? true : undefined));
    assert.match(await screen.locator('#stream-status').innerText(), /^frame 0 · dropped 0$/);
    // Like any NES game, it draws nothing before the PPU has warmed up: run a few frames.
    await u.runCommand('Lockstep: Step N Frames…');
    await u.answerInputBox('Frames to run', '10');
    await u.waitForStoppedFrame(0);
    await u.activateTab('NES Screen');
    // The stripes ROM fills the screen with blue, red, green and white bars: pixels, not just a canvas.
    const picture = await u.waitFor('the stripes on the screen panel', async () => {
      const p = await screenPicture(screen);
      return p.lit > 0.8 && p.colours.length >= 4 ? p : undefined;
    });
    assert.deepEqual([picture.width, picture.height], [256, 240]);
    assert.ok(picture.lit > 0.8, `only ${(picture.lit * 100).toFixed(0)} % of the screen is not black`);
    const [r, g, b] = picture.colours.map((c) => c.split(',').map(Number)).reduce((acc, [cr, cg, cb]) => [Math.max(acc[0], cr), Math.max(acc[1], cg), Math.max(acc[2], cb)], [0, 0, 0]);
    assert.ok(r > 150 && g > 150 && b > 150, `red, green and blue all appear: brightest channels ${r},${g},${b}`);
    await u.screenshot(screenshotPath('debug-rom-screen'));
  });

  uiTest('after Continue and Pause the frame sheet opens over the NES Screen; "Lockstep: Open Screen Panel" brings the one panel forward on the live, paused session, also after "View: Join All Editor Groups"', async () => {
    const u = need();
    /** Each editor group's tabs, with which one is in front. */
    const groups = async () => u.page.locator('.part.editor .editor-group-container').evaluateAll((els) => els.map((g) => Array.from(g.querySelectorAll<HTMLElement>('.tabs-container .tab'))
      .map((t) => ({ title: t.innerText.replace(/\s*\n\s*/g, '').trim(), active: t.classList.contains('active') }))));
    const screenGroup = async () => (await groups()).find((g) => g.some((t) => t.title === 'NES Screen'));
    const inFront = async () => (await screenGroup())?.find((t) => t.active)?.title;
    const sheetTitle = 'stripes.nes · stopped frame.md';
    /** What the issue saw: the command must put the panel in front of its group, showing the paused session, not "No session". */
    const openScreenPanelShows = async (frame: number, when: string) => {
      await u.runCommand('Lockstep: Open Screen Panel');
      // Under load (two cores shared by several sessions) the command can take seconds to act: the default 30 s wait.
      await u.waitFor(`${when}: the NES Screen in front of its group`, async () => ((await inFront()) === 'NES Screen' ? true : undefined))
        .catch(async (e: Error) => { throw new Error(`${e.message}; groups ${JSON.stringify(await groups())}`); });
      assert.equal((await u.tabs()).filter((t) => t === 'NES Screen').length, 1, `${when}: the existing panel, not a second one`);
      const screen = await u.panelFrame('screen');
      await u.waitFor(`${when}: the live session in the panel`, async () => ((await screen.locator('#session-state').innerText()).toLowerCase() === 'live' ? true : undefined))
        .catch(async (e: Error) => { throw new Error(`${e.message}; the panel reads "${await screen.locator('.session-bar').innerText()}"`); });
      assert.equal(await screen.locator('#session-rom').innerText(), 'stripes.nes');
      await u.waitFor(`${when}: the panel to show the paused frame ${frame}`, async () => ((await screen.locator('#stream-status').innerText()).startsWith(`frame ${frame} `) ? true : undefined));
      assert.ok((await screenPicture(screen)).lit > 0.8, `${when}: the game's picture`);
    };

    // The frame sheet of the first stop is closed and the panels' group is the active one (as after a click in a panel):
    // the next stop opens the sheet in that group, over the NES Screen.
    await u.activateTab(sheetTitle);
    await u.runCommand('View: Close Editor');
    await u.waitFor('the frame sheet to close', async () => (!(await u.tabs()).includes(sheetTitle) ? true : undefined));
    // A click on the panel's tab makes its group the active one even when the tab is already in front there.
    await u.page.locator('.part.editor .tabs-container .tab', { hasText: 'NES Screen' }).click();
    await u.runCommand('Debug: Continue');
    await u.waitFor('the session to run', async () => ((await u.lockstepStatus())?.includes('fps') ? true : undefined));
    await new Promise((r) => setTimeout(r, 1500));
    await u.runCommand('Debug: Pause');
    await u.waitForPausedState('the session to pause', (s) => /pause/i.test(s));
    const frame = await u.waitForStoppedFrame(-1);
    await u.waitFor('the frame sheet in front of the NES Screen\'s group', async () => ((await inFront()) === sheetTitle ? true : undefined))
      .catch(async (e: Error) => { throw new Error(`${e.message}; groups ${JSON.stringify(await groups())}`); });
    await u.screenshot(screenshotPath('debug-rom-after-pause'));
    // The user's eyes (and focus) go back to the ROM's tab in the first group before running the command: the panel must
    // come forward where it is, beside its Sync Buffer and Sync Metrics, not move into the focused group.
    await u.page.locator('.part.editor .tabs-container .tab', { hasText: /^stripes\.nes$/ }).click();
    await openScreenPanelShows(frame, 'with the sheet over the panel');
    const home = await screenGroup();
    assert.ok(home?.some((t) => t.title === 'Sync Buffer') && home.some((t) => t.title === sheetTitle),
      `the NES Screen stays in its own group with the Sync Buffer and the sheet: ${JSON.stringify(await groups())}`);

    await u.runCommand('View: Join All Editor Groups');
    await u.waitFor('one editor group', async () => ((await groups()).length === 1 ? true : undefined));
    await u.activateTab(sheetTitle);
    await openScreenPanelShows(frame, 'after joining the groups');
  });
  uiTest('the Debug Console completes Lockstep\'s commands and, after "press", the button names', async () => {
    const u = need();
    const input = u.page.locator('.repl-input-wrapper .monaco-editor');
    await input.waitFor({ state: 'visible', timeout: 20_000 });
    /** The labels VS Code's suggest widget lists for `text` typed into the console (Ctrl+Space asks the adapter). */
    const suggestions = async (text: string) => {
      await input.click();
      await u.page.keyboard.press('Control+A');
      await u.page.keyboard.press('Backspace');
      await u.page.keyboard.type(text);
      return u.waitFor(`suggestions for "${text}"`, async () => {
        await u.page.keyboard.press('Control+Space');
        const rows = await u.page.locator('.suggest-widget.visible .monaco-list-row .label-name').allInnerTexts().catch(() => []);
        return rows.length > 0 ? rows.map((r) => r.trim()) : undefined;
      }, 20_000, 1000);
    };
    const commands = await suggestions('ga');
    assert.ok(commands.includes('gate'), `"gate" for "ga": ${JSON.stringify(commands)}`);
    await u.page.keyboard.press('Escape');
    const buttons = await suggestions('press A R');
    assert.deepEqual(buttons, ['RIGHT']);
    await u.page.keyboard.press('Escape');
    await u.page.keyboard.press('Control+A');
    await u.page.keyboard.press('Backspace');
  });
});
