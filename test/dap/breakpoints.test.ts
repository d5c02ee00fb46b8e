// DAP tests, breakpoints: desync filters with conditions and exceptionInfo, frame/RAM conditions (function breakpoints), RAM data breakpoints.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, demoArgs, type Harness } from './dapHarness';

const filters = (h: Harness, filters: string[], filterOptions: Array<{ filterId: string; condition?: string }> = []) =>
  h.dc.setExceptionBreakpointsRequest({ filters, filterOptions });

describe('DAP: desync breakpoints', () => {
  test('initialize declares one filter per desync type, each accepting a condition', async () => {
    const h = await startHarness();
    try {
      const init = await h.dc.initializeRequest({ adapterID: 'lockstep', pathFormat: 'path' });
      const ids = init.body?.exceptionBreakpointFilters?.map((f) => f.filter);
      assert.deepEqual(ids, ['frame_skip', 'minor_skip', 'frame_rewind', 'timeout', 'clock_drift', 'episode_overrun', 'state_divergence']);
      assert.ok(init.body?.exceptionBreakpointFilters?.every((f) => f.supportsCondition === true));
      assert.equal(init.body?.supportsStepBack, true);
      assert.equal(init.body?.supportsDataBreakpointBytes, true);
    } finally {
      await h.close();
    }
  });

  test('frame_skip: an agent answering 3 frames ahead stops with reason exception; exceptionInfo names expected, received and gap', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('skipper.js', { stopOnEntry: false }), () => filters(h, ['frame_skip']));
      const s = await h.next('stopped');
      assert.equal(s.body.reason, 'exception');
      const held = await h.frame();
      assert.match(s.body.description, new RegExp(`^Desync: frame_skip at frame ${held}$`));
      const info = await h.dc.exceptionInfoRequest({ threadId: 1 });
      assert.equal(info.body.exceptionId, 'frame_skip');
      assert.match(info.body.description ?? '', new RegExp(`controller 1 sent an action for frame ${held + 3} while the emulator holds frame ${held}: 3 frames ahead`));
      const details = info.body.details?.stackTrace ?? '';
      assert.match(details, new RegExp(`expected frame: ${held}\\b`));
      assert.match(details, new RegExp(`received frame: ${held + 3}\\b`));
      assert.match(details, /gap:\s+3 frame\(s\)/);
      assert.match(details, /recovery:\s+resync/);
      const d = await h.next('lockstep.desync');
      assert.deepEqual([d.body.type, d.body.gap, d.body.stops], ['frame_skip', 3, true]);
      // The frame was held, not lost: it runs on the next step with the agent's resent action.
      await h.dc.nextRequest({ threadId: 1 });
      assert.equal((await h.next('stopped')).body.reason, 'step');
      assert.equal(await h.frame(), held + 1);
    } finally {
      await h.close();
    }
  });

  test('a condition that does not hold (gap > 5 for a gap of 3) does not stop; the desync is still reported', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('skipper.js'), async () => {
        const r = await filters(h, [], [{ filterId: 'frame_skip', condition: 'gap > 5' }]);
        assert.deepEqual(r.body?.breakpoints?.map((b) => b.verified), [true]);
      });
      await h.next('stopped');
      const f0 = await h.frame();
      await h.dc.customRequest('lockstep.stepFrames', { count: 10 });
      const s = await h.next('stopped');
      assert.equal(s.body.reason, 'step', 'ran through the frame_skip');
      assert.equal(await h.frame(), f0 + 10);
      const d = await h.next('lockstep.desync');
      assert.deepEqual([d.body.type, d.body.gap, d.body.stops], ['frame_skip', 3, false]);
      assert.ok(h.all('output').some((e) => /desync at frame \d+: frame_skip: .*3 frames ahead/.test(e.body.output)));
    } finally {
      await h.close();
    }
  });

  test('a condition that holds (gap >= 3 && controller == 1) stops; a bad condition is refused with the reason', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('skipper.js', { stopOnEntry: false }), async () => {
        const r = await filters(h, [], [{ filterId: 'frame_skip', condition: 'gap >= 3 && controller == 1' }, { filterId: 'timeout', condition: 'delyMs > 3' }]);
        assert.deepEqual(r.body?.breakpoints?.map((b) => b.verified), [true, false]);
        assert.match(r.body?.breakpoints?.[1].message ?? '', /unknown name "delyMs" \(did you mean delayMs\?\)/);
      });
      const s = await h.next('stopped');
      assert.equal(s.body.reason, 'exception');
      assert.equal((await h.dc.exceptionInfoRequest({ threadId: 1 })).body.exceptionId, 'frame_skip');
    } finally {
      await h.close();
    }
  });

  test('timeout: an agent answering 400 ms late stops with reason exception and the delay in exceptionInfo', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('late.js', { stopOnEntry: false, sync: { frameTimeoutMs: 60 } }), () => filters(h, ['timeout']));
      const s = await h.next('stopped');
      assert.equal(s.body.reason, 'exception');
      const info = await h.dc.exceptionInfoRequest({ threadId: 1 });
      assert.equal(info.body.exceptionId, 'timeout');
      const held = await h.frame();
      assert.match(info.body.details?.stackTrace ?? '', new RegExp(`expected frame: ${held}\\b`));
      assert.match(info.body.details?.stackTrace ?? '', /received frame: none/);
      const delay = Number(/delay:\s+([\d.]+) ms/.exec(info.body.details?.stackTrace ?? '')?.[1]);
      assert.ok(delay >= 60 && delay < 400, `delay ${delay} ms is past the 60 ms limit`);
      // Strict lockstep: the frame waits for the late answer (with the filter off, the next step does not stop on the wait again).
      await filters(h, []);
      await h.dc.nextRequest({ threadId: 1 });
      assert.equal((await h.next('stopped')).body.reason, 'step');
      assert.equal(await h.frame(), held + 1);
    } finally {
      await h.close();
    }
  });
});

describe('DAP: frame conditions and RAM watches', () => {
  test('function breakpoint "frame == N" stops at frame N', async () => {
    const h = await startHarness();
    try {
      let target = 0;
      await h.launch(demoArgs('idle.js'));
      await h.next('stopped');
      target = (await h.frame()) + 40;
      const r = await h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: `frame == ${target}` }, { name: 'frame ==' }, { name: 'scroe_p1 > 2' }] });
      assert.deepEqual(r.body.breakpoints.map((b) => b.verified), [true, false, false]);
      assert.match(r.body.breakpoints[1].message ?? '', /needs a value at the end/);
      assert.match(r.body.breakpoints[2].message ?? '', /did you mean score_p1\?/);
      await h.dc.continueRequest({ threadId: 1 });
      const s = await h.next('stopped');
      assert.equal(s.body.reason, 'function breakpoint');
      assert.deepEqual(s.body.hitBreakpointIds, [r.body.breakpoints[0].id]);
      assert.equal(await h.frame(), target);
    } finally {
      await h.close();
    }
  });

  test('RAM conditions: "ram[0x18] > 70" (p1_x) stops on the first frame it becomes true', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('rightLater.js'), async () => {
        await h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'ram[0x18] > 70' }] });
      });
      await h.next('stopped');
      await h.dc.continueRequest({ threadId: 1 });
      assert.equal((await h.next('stopped')).body.reason, 'function breakpoint');
      assert.equal((await h.evaluate('p1_x')).body.result, '72 (0x48)', 'starts at 64, +2 per frame: the first value above 70');
    } finally {
      await h.close();
    }
  });

  test('data breakpoint on p1_x (by name and by address) stops with reason "data breakpoint" when the byte changes', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('rightLater.js'));
      await h.next('stopped');
      const f0 = await h.frame();
      const game = await h.variable('Game', 'p1_x');
      assert.equal(game.value, '64 (0x40)');
      const byName = await h.dc.dataBreakpointInfoRequest({ name: 'p1_x' });
      assert.match(byName.body.description, /^p1_x \(\$0018, 1 byte\) changes$/);
      const byAddress = await h.dc.dataBreakpointInfoRequest({ name: '0x18', asAddress: true, bytes: 1 });
      assert.equal(byAddress.body.dataId, byName.body.dataId);
      const outside = await h.dc.dataBreakpointInfoRequest({ name: '0x7ff', asAddress: true, bytes: 4 });
      assert.equal(outside.body.dataId, null);
      assert.match(outside.body.description, /outside work RAM/);
      const set = await h.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: byName.body.dataId!, accessType: 'write' }] });
      assert.equal(set.body.breakpoints[0].verified, true);
      await h.dc.continueRequest({ threadId: 1 });
      const s = await h.next('stopped');
      assert.equal(s.body.reason, 'data breakpoint');
      assert.match(s.body.description, /^Changed p1_x: 64 -> 66$/);
      assert.equal(await h.frame(), f0 + 6, 'RIGHT from step 5: the 6th frame moves the paddle');
      assert.equal((await h.variable('Game', 'p1_x')).value, '66 (0x42)');
    } finally {
      await h.close();
    }
  });
});
