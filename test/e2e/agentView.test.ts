// UI test in real VS Code: the Agent's-Eye View beside the ONNX demo policy's session; it shows the policy's model input for the held frame, and follows step back (screenshot for the README).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_CONFIG_NAMES } from '../../src/extension/demoWorkspace';
import { screenshotPath, uiDeadline } from './uiTestEnv';
import { demoWorkspaceSuite } from './demoWorkspaceSuite';

const deadline = uiDeadline();

describe("the Agent's-Eye View in real VS Code (development extension)", { timeout: Math.max(1000, deadline - Date.now()) }, () => {
  const { suite } = demoWorkspaceSuite(deadline);
  const { need, test: uiTest } = suite;

  uiTest('shows what the ONNX policy was given for the held frame (its model input by name), what it asked for and what ran, and follows step back', async () => {
    const u = need();
    await u.waitForWorkbench();
    // The command palette lists the extension's commands once its contributions are read: wait for them through a
    // Select and Start Debugging that offers the demo's launch configurations.
    await u.waitFor('the demo launch configurations', async () => {
      await u.runCommand('Debug: Select and Start Debugging');
      return u.pickQuickItem(DEMO_CONFIG_NAMES.onnx).then(() => true, async () => {
        await u.page.keyboard.press('Escape');
        return undefined;
      });
    }, 60_000);
    await u.waitForPausedState('the session to stop on entry', (s) => /entry/i.test(s));
    await u.runCommand("Lockstep: Open Agent's-Eye View");
    await u.waitFor('the agent view tab', async () => ((await u.tabs()).includes("Agent's-Eye View") ? true : undefined));
    const first = await u.waitFor('the status bar frame', () => u.statusFrame());
    await u.runCommand('Lockstep: Step N Frames…');
    await u.answerInputBox('Frames to run', '20');
    const head = await u.waitForStoppedFrame(first);
    assert.equal(head, first + 20);
    // Step back one: the held frame is then one that ran, with the policy's answer and the row's latency to show.
    // The debug toolbar's Step Back button (the palette has no Step Back command).
    await u.page.locator('.debug-toolbar .codicon-debug-step-back').click();
    const held = await u.waitForStoppedFrame(head);
    assert.equal(held, head - 1);

    // Room for the screenshot: the view alone in the editor area, no bottom panel.
    await u.runCommand('View: Close All Editor Groups');
    if (await u.page.locator('.part.panel').isVisible()) await u.runCommand('View: Toggle Panel Visibility');
    await u.runCommand("Lockstep: Open Agent's-Eye View");
    await u.waitFor('the agent view tab again', async () => ((await u.tabs()).includes("Agent's-Eye View") ? true : undefined));
    await u.activateTab("Agent's-Eye View");
    const view = await u.panelFrame('agentView');
    await u.waitFor(`the view of frame ${held}`, async () => ((await view.locator('#ae-held').getAttribute('data-frame').catch(() => null)) === String(held)
      && (await view.locator('.ae-agent[data-player="0"]').count()) === 1 ? true : undefined));
    assert.equal(await view.locator('#ae-held').getAttribute('data-kept'), 'true');
    const agent = view.locator('.ae-agent[data-player="0"]');
    assert.match(await agent.locator('h3').innerText(), /Controller 1: onnx\(demo-policy\.onnx, controller 1\)/);
    assert.match(await agent.locator('.ae-via').innerText(), /ONNX model input/);
    // The demo policy's input is RAM variables scaled by its sidecar: each named entry is shown with its value.
    const names = await agent.locator('.ae-vector th').allInnerTexts();
    assert.ok(names.length >= 2, `model input names: ${JSON.stringify(names)}`);
    // The sidecar scales each RAM-map variable by 1/256: the input is the observed value times that.
    assert.deepEqual(names, ['p1_x', 'item_x']);
    for (const n of names) {
      const observed = Number(await agent.locator(`.ae-vars td[data-key="var.${n}"]`).innerText());
      assert.equal(Number(await agent.locator(`.ae-vector td[data-key="in.${n}"]`).innerText()), observed * 0.00390625, `model input ${n}`);
    }
    const applied = await agent.locator('td[data-key="applied"]').innerText();
    const requested = await agent.locator('td[data-key="requested"]').innerText();
    assert.equal(requested, `${applied} for frame ${held}`, 'the policy\'s own answer ran');
    assert.match(await agent.locator('td[data-key="latency"]').innerText(), /ms$/);
    const lit = await u.waitForCanvasPixels('agentView', '#ae-raw');
    assert.ok(lit > 10, `${lit} lit pixels on the raw screen`);
    await u.screenshot(screenshotPath('panel-agent-view'));
  });
});
