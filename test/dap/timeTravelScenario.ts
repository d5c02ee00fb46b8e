// The time-travel scenario the DAP tests run on each emulator: reverse continue into the first episode after tens of
// thousands of frames, step back across an episode start, going forward through recorded episodes, a data breakpoint backwards.
import assert from 'node:assert/strict';
import { startHarness, demoArgs, type Harness } from './dapHarness';

const EPISODE = 1000;
const EPISODES = 20;

async function where(h: Harness): Promise<string> {
  const st = await h.dc.stackTraceRequest({ threadId: 1 });
  return st.body.stackFrames[0].name;
}

/** Runs the scenario against the standalone adapter on one emulator; throws on the first broken expectation. */
export async function timeTravelScenario(emulator: 'embedded' | 'fceux'): Promise<void> {
  const h = await startHarness();
  try {
    await h.launch(demoArgs('idle.js', { maxSteps: EPISODE, emulator }));
    await h.next('stopped', undefined, 30_000);
    const f0 = await h.frame();
    // Run forward 20 episodes of 1000 frames: far past any step-back ring.
    await h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: `episode == ${EPISODES}` }] });
    await h.dc.continueRequest({ threadId: 1 });
    const ahead = await h.next('stopped', undefined, 240_000);
    assert.equal(ahead.body.reason, 'function breakpoint');
    assert.equal(await where(h), `frame ${f0} (episode ${EPISODES}, step 0)`);
    const status = await h.dc.customRequest('lockstep.getStatus', {});
    assert.equal(status.body.stepBackAvailable, EPISODES * EPISODE, 'every frame of the session can be stepped back to');

    // Back to a frame of the first episode in one reverse continue.
    await h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'episode == 0 && step == 417' }] });
    await h.dc.reverseContinueRequest({ threadId: 1 });
    const back = await h.next('stopped', undefined, 60_000);
    assert.equal(back.body.reason, 'function breakpoint');
    assert.match(back.body.description ?? '', /going back; episode 0, step 417/);
    assert.equal(await where(h), `frame ${f0 + 417} (episode 0, step 417)`);
    assert.equal((await h.variable('Sync', 'frame')).value, String(f0 + 417));

    // Forward through recorded episodes (replayed, not re-decided) to the start of episode 3, then one step back.
    await h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'episode == 3' }] });
    await h.dc.continueRequest({ threadId: 1 });
    assert.equal((await h.next('stopped', undefined, 120_000)).body.reason, 'function breakpoint');
    assert.equal(await where(h), `frame ${f0} (episode 3, step 0)`);
    await h.dc.stepBackRequest({ threadId: 1 });
    assert.equal((await h.next('stopped')).body.reason, 'step');
    assert.equal(await where(h), `frame ${f0 + EPISODE - 1} (episode 2, step ${EPISODE - 1})`);

    // A data breakpoint backwards: the timer byte changes every second, so going back stops within a second of play.
    const info = await h.dc.dataBreakpointInfoRequest({ name: 'timer' });
    assert.ok(info.body.dataId, 'the RAM map names a timer variable');
    await h.dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    await h.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId! }] });
    await h.dc.reverseContinueRequest({ threadId: 1 });
    const data = await h.next('stopped', undefined, 60_000);
    assert.equal(data.body.reason, 'data breakpoint');
    assert.match(await where(h), /\(episode 2, step \d+\)/);
  } finally {
    await h.close();
  }
}
