// DAP tests, lockstep.showScreens: the request the panels send when a screen-showing panel opens or the last one closes, before and after the launch, against the launch configuration's captureScreens.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, demoArgs } from './dapHarness';

describe('DAP: lockstep.showScreens', () => {
  test('capture follows the panels when the launch configuration says nothing, also when told before the launch', async () => {
    const h = await startHarness();
    try {
      // The extension tells a session as soon as it starts, which can be before the ROM has loaded.
      const early = await h.dc.customRequest('lockstep.showScreens', { shown: true });
      assert.deepEqual(early.body, { capturing: false }, 'no runtime yet: nothing captures');
      await h.launch(demoArgs('idle.js'));
      await h.next('stopped');
      assert.deepEqual((await h.dc.customRequest('lockstep.showScreens', { shown: true })).body, { capturing: true });
      assert.deepEqual((await h.dc.customRequest('lockstep.showScreens', { shown: false })).body, { capturing: false });
      await h.dc.nextRequest({ threadId: 1 });
      await h.next('stopped');
      assert.deepEqual((await h.dc.customRequest('lockstep.showScreens', { shown: true })).body, { capturing: true });
    } finally {
      await h.close();
    }
  });

  test('"captureScreens": false wins over an open panel, true captures with none; a bad argument is one clear error', async () => {
    for (const [captureScreens, shown, capturing] of [[false, true, false], [true, false, true]] as const) {
      const h = await startHarness();
      try {
        await h.launch(demoArgs('idle.js', { captureScreens }));
        await h.next('stopped');
        assert.deepEqual((await h.dc.customRequest('lockstep.showScreens', { shown })).body, { capturing }, `captureScreens ${captureScreens}, shown ${shown}`);
        await assert.rejects(h.dc.customRequest('lockstep.showScreens', { shown: 'yes' }), /lockstep\.showScreens: shown must be true or false, got "yes"/);
      } finally {
        await h.close();
      }
    }
  });
});
