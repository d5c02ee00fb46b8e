// UI test in real VS Code: the Timeline panel beside a paused demo session; hovering peeks at a frame, clicking it stops the debugger there (screenshot for the README).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, screenshotPath, uiDeadline } from './uiTestEnv';
import { demoWorkspaceSuite } from './demoWorkspaceSuite';

const deadline = uiDeadline();

describe('the Timeline panel in real VS Code (development extension)', { timeout: Math.max(1000, deadline - Date.now()) }, () => {
  const { suite, folder } = demoWorkspaceSuite(deadline);
  const { need, test: uiTest } = suite;

  uiTest('hovering the strip shows a frame\'s screen and row; clicking it stops the debug session on that frame', async () => {
    const u = need();
    await u.startDebuggingWithF5();
    await u.waitForPausedState('the session to stop on entry', (s) => /entry/i.test(s));
    const first = await u.waitFor('the status bar frame', () => u.statusFrame());
    await u.runCommand('Lockstep: Step N Frames…');
    await u.answerInputBox('Frames to run', '300');
    const head = await u.waitForStoppedFrame(first);
    assert.equal(head, first + 300);

    await u.runCommand('View: Close All Editor Groups');
    if (await u.page.locator('.part.panel').isVisible()) await u.runCommand('View: Toggle Panel Visibility');
    await u.runCommand('Lockstep: Open Timeline Panel');
    await u.waitFor('the Timeline tab', async () => ((await u.tabs()).includes('Timeline') ? true : undefined));
    const tl = await u.panelFrame('timeline');
    const strip = tl.locator('#tl-strip');
    await u.waitFor('the strip up to the held frame', async () => ((await strip.getAttribute('data-head')) === '300' ? true : undefined));
    assert.equal(await strip.getAttribute('data-current'), '300');

    // Hover a third of the way along: the peek shows that tick's frame, counters and its screen thumbnail.
    const box = await strip.boundingBox();
    assert.ok(box);
    const tick = 100;
    const x = box.x + ((tick + 0.5) / 301) * box.width;
    const y = box.y + box.height / 2;
    await u.page.mouse.move(x, y);
    await u.waitFor(`the peek of tick ${tick}`, async () => ((await tl.locator('#tl-peek').getAttribute('data-tick')) === String(tick) ? true : undefined));
    const frame = Number(await tl.locator('#peek-row td[data-key="frame"]').innerText());
    assert.equal(frame, first + tick);
    assert.equal(await tl.locator('#peek-row td[data-key="episode · step"]').innerText(), `0 · ${tick}`);
    assert.equal(await tl.locator('#peek-thumb').getAttribute('data-tick'), String(tick), 'the screen panels were open from F5, so the tick has its own screen');
    const lit = await u.waitForCanvasPixels('timeline', '#peek-thumb');
    assert.ok(lit > 10, `${lit} lit pixels on the thumbnail`);
    await u.screenshot(screenshotPath('panel-timeline'));

    // Click: the debugger stops there (status bar, call stack), and the strip's cursor follows.
    await u.page.mouse.click(x, y);
    const stopped = await u.waitForStoppedFrame(head);
    assert.equal(stopped, frame);
    const { rows } = await u.callStack();
    assert.ok(rows.some((r) => r.includes(`frame ${frame} (episode 0, step ${tick})`)), `call stack rows: ${JSON.stringify(rows)}`);
    // The stop opens the frame sheet in front of the panel: bring the timeline back (its webview is reloaded).
    await u.activateTab('Timeline');
    const again = await u.panelFrame('timeline');
    await u.waitFor('the cursor on the travelled tick', async () => ((await again.locator('#tl-strip').getAttribute('data-current').catch(() => null)) === String(tick) ? true : undefined));
    // Travelling inside the open episode cuts its future, as step back does; the entry stop is still marked.
    assert.equal(await again.locator('#tl-strip').getAttribute('data-head'), String(tick));
    assert.ok((await again.locator('.tl-marker.stop').count()) >= 1);
  });

  uiTest('Open Recording in Timeline replays a recording folder made by the CLI, and clicking one of its rows stops the replay there', async () => {
    const u = need();
    if (await u.page.locator('.debug-toolbar').isVisible()) {
      await u.runCommand('Debug: Stop');
      await u.waitFor('the first session to end', async () => ((await u.page.locator('.debug-toolbar').isVisible()) ? undefined : true));
    }
    // Two episodes of 60 rows, recorded by the CLI into the workspace (where the demo ROM is found by its name).
    const rec = join(folder(), 'recordings', 'run-1');
    execFileSync(process.execPath, [join(REPO_ROOT, 'dist', 'cli.js'), 'run', '--rom', join(folder(), 'demo.nes'), '--agent', 'random:9', '--max-steps', '60', '--episodes', '2', '--record', rec], { stdio: 'pipe' });
    await u.runCommand('Lockstep: Open Recording in Timeline');
    await u.answerFolderDialog('Open Recording', rec);
    await u.waitFor('the Timeline tab', async () => ((await u.tabs()).includes('Timeline') ? true : undefined), 60_000);
    // The replay stops once it ran every recorded row; the stop opens the frame sheet over the timeline (at times a moment
    // after the stop shows), and the timeline's webview reloads when it is brought back. So everything up to the peek is
    // done on one fresh webview frame, and done again from the start when that frame goes away under it.
    await u.waitForStoppedFrame(-1, 60_000);
    const tick = 75;
    const peek = async () => {
      await u.activateTab('Timeline');
      const tl = await u.panelFrame('timeline');
      const strip = tl.locator('#tl-strip');
      if ((await strip.getAttribute('data-head', { timeout: 2000 })) !== '119') return undefined;
      const episodes = await tl.locator('.tl-episode').evaluateAll((els) => els.map((e) => `${(e as HTMLElement).dataset.first}-${(e as HTMLElement).dataset.last}`));
      const box = await strip.boundingBox({ timeout: 2000 });
      if (!box) return undefined;
      const x = box.x + ((tick + 0.5) / 120) * box.width;
      const y = box.y + box.height / 2;
      await u.page.mouse.move(x, y);
      await tl.locator(`#tl-peek[data-tick="${tick}"]`).waitFor({ state: 'attached', timeout: 3000 });
      const episodeStep = await tl.locator('#peek-row td[data-key="episode · step"]').innerText({ timeout: 2000 });
      const frame = Number(await tl.locator('#peek-row td[data-key="frame"]').innerText({ timeout: 2000 }));
      return { episodes, x, y, episodeStep, frame };
    };
    const seen = await u.waitFor(`the whole recording on the strip, and the peek of tick ${tick}`, peek, 60_000);
    assert.deepEqual(seen.episodes, ['0-59', '60-119']);
    assert.equal(seen.episodeStep, '1 · 15');
    const frame = seen.frame;
    const before = await u.waitFor('the status bar frame', () => u.statusFrame());
    // Peeked again just before the click, so it lands on the strip even if the webview went away meanwhile.
    const at = await u.waitFor(`the peek of tick ${tick} again`, peek, 30_000);
    await u.page.mouse.click(at.x, at.y);
    assert.equal(await u.waitForStoppedFrame(before), frame);
    const { rows } = await u.callStack();
    assert.ok(rows.some((r) => r.includes(`frame ${frame} (episode 1, step 15)`)), `call stack rows: ${JSON.stringify(rows)}`);
  });
});
