// DAP test, attach: the adapter waits on a bridge port for an FCEUX started by someone else (here the test, like a user) running lua/lockstep.lua.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FceuxProcess } from '../../src/emulators/fceux/fceuxProcess';
import { locateFceux } from '../../src/emulators/fceux/fceuxLocator';
import { startHarness, ROOT, agentPath } from './dapHarness';
import type { DebugProtocol } from '@vscode/debugprotocol';

describe('DAP: attach to a user-started FCEUX', () => {
  test('announces port and token, runs frames once FCEUX connects, and ends cleanly', async () => {
    const h = await startHarness();
    let fceux: FceuxProcess | undefined;
    try {
      await h.dc.initializeRequest({ adapterID: 'lockstep', pathFormat: 'path', supportsProgressReporting: true });
      const args = { type: 'lockstep', request: 'attach', name: 'attach', cwd: ROOT, agent: `scripted:${agentPath('rightLater.js')}`, stopOnEntry: true, token: 'dap-attach-test' };
      const attached = h.dc.attachRequest(args as DebugProtocol.AttachRequestArguments);
      const waiting = await h.next('lockstep.attachWaiting', undefined, 20_000);
      assert.equal(waiting.body.token, 'dap-attach-test');
      assert.ok(waiting.body.port > 0);
      assert.match(waiting.body.luaPath, /lua[\\/]lockstep\.lua$/);
      assert.ok(h.all('progressStart').some((e) => e.body.title === 'Waiting for FCEUX'));
      fceux = new FceuxProcess({
        fceuxPath: locateFceux(undefined), romPath: join(ROOT, 'roms', 'demo', 'demo.nes'), luaPath: waiting.body.luaPath,
        host: '127.0.0.1', port: waiting.body.port, token: waiting.body.token, headless: true, exitOnFatal: false,
      });
      await h.next('initialized', undefined, 30_000);
      await h.dc.configurationDoneRequest();
      await attached;
      assert.equal((await h.next('stopped')).body.reason, 'entry');
      const info = await h.next('lockstep.sessionInfo');
      assert.equal(info.body.emulator, 'fceux');
      const f0 = await h.frame();
      await h.dc.customRequest('lockstep.stepFrames', { count: 10 });
      await h.next('stopped');
      assert.equal(await h.frame(), f0 + 10);
      assert.equal((await h.evaluate('p1_x')).body.result, '74 (0x4A)', 'RIGHT from step 5 moved paddle 1 by 2 px for 5 frames');
    } finally {
      assert.equal(await h.close(), 0);
      await fceux?.stop();
    }
  });
});
