// DAP test, lockstep.travel (the timeline panel's click): stops on any session-history tick, earlier episode or later tick, with reason goto; bad ticks and a running session are refused by name.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, demoArgs } from './dapHarness';

const EPISODE = 100;

describe('DAP: lockstep.travel', () => {
  test('travels to a tick of an earlier episode and back to a later one, stopping with reason goto each time; the call stack follows', { timeout: 60_000 }, async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js', { maxSteps: EPISODE }));
      await h.next('stopped', undefined, 30_000);
      const f0 = await h.frame();
      await h.dc.customRequest('lockstep.stepFrames', { count: 2 * EPISODE + 30 });
      assert.equal((await h.next('stopped', undefined, 30_000)).body.reason, 'step');
      const where = async () => (await h.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].name;
      assert.equal(await where(), `frame ${f0 + 30} (episode 2, step 30)`);

      // Tick 40 is episode 0, step 40 (one tick per held state, the first at step 0).
      const r = await h.dc.customRequest('lockstep.travel', { tick: 40 });
      assert.deepEqual(r.body, { tick: 40, frame: f0 + 40, episode: 0, step: 40 });
      const stop = await h.next('stopped');
      assert.equal(stop.body.reason, 'goto');
      assert.match(stop.body.description ?? '', /Travelled to frame \d+ \(episode 0, step 40\)/);
      assert.equal(await where(), `frame ${f0 + 40} (episode 0, step 40)`);

      // Forward again, into episode 1: the recorded past is read-only, so the later ticks are still there.
      const later = await h.dc.customRequest('lockstep.travel', { tick: EPISODE + 7 });
      assert.deepEqual(later.body, { tick: EPISODE + 7, frame: f0 + 7, episode: 1, step: 7 });
      assert.equal((await h.next('stopped')).body.reason, 'goto');
      assert.equal(await where(), `frame ${f0 + 7} (episode 1, step 7)`);

      await assert.rejects(h.dc.customRequest('lockstep.travel', { tick: 1e6 }), /tick 1000000 is outside the reachable history \(0\.\.230\)/);
      await assert.rejects(h.dc.customRequest('lockstep.travel', { tick: -1 }), /lockstep\.travel: tick must be an integer >= 0/);
      await assert.rejects(h.dc.customRequest('lockstep.travel', {}), /lockstep\.travel: tick must be an integer >= 0 \(a session-history tick\), got undefined/);
      assert.equal(await where(), `frame ${f0 + 7} (episode 1, step 7)`, 'a refused travel leaves the held frame alone');
    } finally {
      await h.close();
    }
  });

  test('without the session history (timeTravel off) travel says what to change', { timeout: 60_000 }, async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js', { timeTravel: false }));
      await h.next('stopped', undefined, 30_000);
      await assert.rejects(h.dc.customRequest('lockstep.travel', { tick: 0 }), /The timeline needs the session history: set "timeTravel": true/);
    } finally {
      await h.close();
    }
  });
});
