// Agent's-eye panel in real Chromium over a real runtime driven by a real ONNX policy on screens: stack order, exact pixels, variables, manual frames, step back, frames out of the window.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveRuntimeSource } from '../../src/extension/panels/runtimeSource';
import { AgentViewController } from '../../src/extension/panels/agentViewController';
import { LockstepRuntime } from '../../src/core/runtime/runtime';
import { InProcessEmulator } from '../../src/emulators/embedded/embeddedEmulator';
import { defaultSyncConfig } from '../../src/core/config/config';
import { OnnxAgent } from '../../src/agents/onnxAgent';
import { downsampleInto, sidecarPathFor } from '../../src/agents/onnxPolicy';
import { BUTTON } from '../../src/core/buttons';
import { encodeModel } from '../../scripts/onnxWriter';
import { panelSuite, type PanelPage } from './harness';
import { RAM_MAP, ROM, makeServices } from './liveSession';

const STACK = 4;
const WINDOW = 30;
const tmp = mkdtempSync(join(tmpdir(), 'lockstep-eye-'));

/** Flatten + Gemm over [1, 4, 60, 64] gray frames (4x downsampled): a real screen policy with a 4-frame stack. */
function writeScreenModel(): string {
  const plane = 60 * 64;
  const w = new Float32Array(4 * STACK * plane);
  for (let k = 0; k < 4; k++) w.fill(1 / plane, k * STACK * plane + k * plane, k * STACK * plane + (k + 1) * plane);
  const path = join(tmp, 'eye.onnx');
  writeFileSync(path, encodeModel({
    graphName: 'eye_test',
    inputs: [{ name: 'frames', shape: [1, STACK, 60, 64] }],
    outputs: [{ name: 'out', shape: [1, 4] }],
    nodes: [
      { op: 'Flatten', inputs: ['frames'], outputs: ['flat'], attrs: { axis: { int: 1 } } },
      { op: 'Gemm', inputs: ['flat', 'w', 'b'], outputs: ['out'], attrs: { transB: { int: 1 } } },
    ],
    initializers: [{ name: 'w', dims: [4, STACK * plane], data: w }, { name: 'b', dims: [4], data: [0, 0, 0, 0] }],
  }));
  writeFileSync(sidecarPathFor(path), JSON.stringify({
    input: { kind: 'screen', downsample: 4, grayscale: true, frameStack: STACK },
    output: { kind: 'argmax', actions: [['RIGHT'], ['RIGHT', 'B'], ['LEFT'], ['A']] },
  }));
  return path;
}

/** The gray 64x60 picture the model got for a raw screen: its [0, 1] input x255, rounded. */
function expectedGray(screen: Uint8Array): Uint8Array {
  const f = new Float32Array(64 * 60);
  downsampleInto(screen, 4, true, f);
  return Uint8Array.from(f, (v) => Math.round(v * 255));
}

async function slotGray(p: PanelPage, slot: number): Promise<Uint8Array> {
  const b64 = await p.page.evaluate((i) => {
    const c = document.querySelector(`.ae-agent[data-player="0"] .ae-stack-frame[data-slot="${i}"]`) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const g = new Uint8Array(d.length / 4);
    for (let k = 0; k < g.length; k++) g[k] = d[k * 4];
    let s = '';
    for (let k = 0; k < g.length; k += 0x8000) s += String.fromCharCode(...g.subarray(k, k + 0x8000));
    return btoa(s);
  }, slot);
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

describe("agent's-eye panel (Chromium, real runtime, real ONNX policy)", () => {
  const panels = panelSuite();
  after(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  test('shows the held frame\'s stack oldest first with exact gray pixels, the variables, a manual frame, step back, and says when a frame is no longer kept', async () => {
    const agent = await OnnxAgent.load(writeScreenModel(), { player: 0 });
    const rt = new LockstepRuntime(
      { emulator: new InProcessEmulator(), agents: [agent, undefined], ramMap: RAM_MAP, sync: defaultSyncConfig() },
      { romPath: ROM, captureScreens: true, stepBackDepth: 0, history: {}, agentInputs: { frames: WINDOW } },
    );
    await rt.start();
    const source = new LiveRuntimeSource();
    source.attach({ runtime: rt, ramMap: RAM_MAP, session: 'eye' });
    /** Every held frame's raw screen and RAM by frame id (the demo's first episode has distinct frame ids). */
    const screens = new Map<number, Uint8Array>([[rt.current!.frame, rt.current!.screen!.slice()]]);
    const rams = new Map<number, Uint8Array>([[rt.current!.frame, rt.current!.ram.slice()]]);
    rt.events.on('frame', ({ current }) => {
      screens.set(current.frame, current.screen!.slice());
      rams.set(current.frame, current.ram.slice());
    });
    let ctl: AgentViewController | undefined;
    const p = await panels.open('agentView', { width: 1100, height: 760, beforeLoad: (page) => { ctl = new AgentViewController(page, source, makeServices()); } });
    const held = () => p.page.locator('#ae-held');
    const cell = (k: string) => p.page.locator(`.ae-agent[data-player="0"] td[data-key="${k}"]`).innerText();
    const waitHeld = (frame: number) => p.waitFor(`the view of frame ${frame}`, async () => (await held().getAttribute('data-frame')) === String(frame)
      && (await p.page.locator('.ae-agent[data-player="0"] .ae-stack-frame').count()) === STACK || undefined);
    try {
      const first = rt.current!.frame;
      for (let i = 0; i < 6; i++) await rt.advance();
      // Frame first+5 ran with the policy's own answer; frame first+6 is held: the agent has been asked for it already
      // (the gate opens for the held frame when the runtime next advances), so step once more with a manual press.
      rt.supplyAction(BUTTON.UP, 0);
      await rt.advance();
      const manualFrame = first + 6;
      await rt.stepBack(1);
      assert.equal(rt.current!.frame, manualFrame, 'step back holds the manual frame again');
      await waitHeld(manualFrame);
      assert.equal(await held().getAttribute('data-kept'), 'true');

      // The stack: the held frame and the three before it, oldest first, each the exact gray 64x60 the model got.
      const frames = await p.page.locator('.ae-agent[data-player="0"] .ae-stack-frame').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.frame)));
      assert.deepEqual(frames, [manualFrame - 3, manualFrame - 2, manualFrame - 1, manualFrame], 'stacked frames oldest first, newest = the held frame');
      for (let k = 0; k < STACK; k++) {
        assert.deepEqual(await slotGray(p, k), expectedGray(screens.get(frames[k])!), `slot ${k} (frame ${frames[k]}) pixels`);
      }
      assert.notDeepEqual(expectedGray(screens.get(frames[0])!), expectedGray(screens.get(frames[3])!), 'the demo screen moves, so a wrong order would show');
      // The raw screen beside it is the held frame's own.
      assert.equal(await p.page.locator('#ae-raw').getAttribute('data-frame'), String(manualFrame));

      // Variables as the runtime observed them for that frame (a screen model gets no variables of its own).
      const vars = RAM_MAP.read(rams.get(manualFrame)!);
      assert.ok(Object.keys(vars).length > 0);
      for (const [k, v] of Object.entries(vars)) assert.equal(await cell(`var.${k}`), String(v), `variable ${k}`);

      // Requested vs applied: the policy asked for its own buttons, the frame ran with the manual press.
      const requested = await cell('requested');
      assert.match(requested, new RegExp(`for frame ${manualFrame}$`));
      assert.doesNotMatch(requested, /^UP /);
      assert.equal(await cell('applied'), 'UP (manual)');
      const tags = await p.page.locator('.ae-agent[data-player="0"] .ae-tag').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.tag));
      assert.deepEqual(tags, ['manual']);
      assert.match(await cell('latency'), /^answered after [\d.]+ ?ms \(not in the row: its answer was not used\)$/, 'the agent\'s answer time, though the row has no latency for a manual frame');
      assert.match(await cell('action-info'), /"action":\d/, 'the action info the policy sent');
      await p.screenshot('agent-view-manual');

      // An earlier frame that ran on the policy's answer: requested = applied, its own stack (shifted by one frame).
      await rt.stepBack(2);
      const earlier = manualFrame - 2;
      await waitHeld(earlier);
      assert.equal(await cell('applied'), await cell('requested').then((r) => r.replace(/ for frame \d+$/, '')));
      const framesEarlier = await p.page.locator('.ae-agent[data-player="0"] .ae-stack-frame').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.frame)));
      assert.deepEqual(framesEarlier, [earlier - 3, earlier - 2, earlier - 1, earlier].map((f) => Math.max(first, f)), 'at the start of the episode the stack repeats the first frame');
      assert.deepEqual(await slotGray(p, 3), expectedGray(screens.get(earlier)!));
      assert.match(await cell('latency'), /^[\d.]+ ?ms$/, 'the row\'s agentLatencyMs');
      assert.deepEqual(await p.page.locator('.ae-agent[data-player="0"] .ae-tag').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.tag)), ['answered']);

      // Run past the window, then go back to the start: the panel says the frame's input is no longer kept.
      for (let i = 0; i < WINDOW + 10; i++) await rt.advance();
      await rt.travelTo(rt.sessionHistory!.oldestTick);
      await p.waitFor('the not-kept notice', async () => (await held().getAttribute('data-frame')) === String(first) && (await held().getAttribute('data-kept')) === 'false' || undefined);
      assert.match(await p.page.locator('#ae-note').innerText(), new RegExp(`no longer kept: the agent's-eye view keeps the last ${WINDOW} frames \\(oldest kept: frame \\d+`));
      assert.equal(await p.page.locator('.ae-agent').count(), 0);
      assert.deepEqual(p.cspViolations, []);
      assert.deepEqual(p.pageErrors, []);
    } finally {
      ctl?.dispose();
      await p.close();
      await rt.close();
      await agent.close();
    }
  });
});
