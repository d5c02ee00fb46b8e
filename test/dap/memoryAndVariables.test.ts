// DAP tests, inspection: readMemory/writeMemory on the 2 KB RAM, setVariable, scopes, the console's expressions, reverse continue, launch errors.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, demoArgs, ROOT } from './dapHarness';
import { join } from 'node:path';

describe('DAP: memory and variables', () => {
  test('readMemory/writeMemory round trip on work RAM, with a memory event; the Game scope and the console see the write', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js'));
      await h.next('stopped');
      const p1x = await h.variable('Game', 'p1_x');
      assert.equal(p1x.memoryReference, 'ram@0x0018');
      const before = await h.dc.customRequest('readMemory', { memoryReference: 'ram', offset: 0x18, count: 2 });
      assert.equal(before.body.address, '0x0018');
      assert.deepEqual([...Buffer.from(before.body.data, 'base64')], [64, 168], 'p1_x 64, p2_x 168 at power-on');
      await h.dc.customRequest('writeMemory', { memoryReference: 'ram', offset: 0x18, data: Buffer.from([100, 7]).toString('base64') });
      const mem = await h.next('memory');
      assert.deepEqual([mem.body.memoryReference, mem.body.offset, mem.body.count], ['ram', 0x18, 2]);
      const after = await h.dc.customRequest('readMemory', { memoryReference: 'ram@0x0018', offset: 0, count: 2 });
      assert.deepEqual([...Buffer.from(after.body.data, 'base64')], [100, 7]);
      assert.equal((await h.variable('Game', 'p1_x')).value, '100 (0x64)');
      assert.equal((await h.evaluate('ram[0x19]')).body.result, '7 (0x7)');
      const edge = await h.dc.customRequest('readMemory', { memoryReference: 'ram', offset: 0x7fe, count: 4 });
      assert.equal(Buffer.from(edge.body.data, 'base64').length, 2);
      assert.equal(edge.body.unreadableBytes, 2);
      await assert.rejects(h.dc.customRequest('writeMemory', { memoryReference: 'ram', offset: 0x7ff, data: Buffer.from([1, 2]).toString('base64') }), /run past the end of work RAM/);
    } finally {
      await h.close();
    }
  });

  test('setVariable writes a RAM-map variable (numbers, hex, expressions) and refuses values that do not fit', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js'));
      await h.next('stopped');
      const st = await h.dc.stackTraceRequest({ threadId: 1 });
      const scopes = await h.dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
      assert.deepEqual(scopes.body.scopes.map((s) => s.name), ['Game', 'CPU', 'PPU', 'Sync', 'Buffer', 'Agents', 'Metrics']);
      const game = scopes.body.scopes[0].variablesReference;
      const r = await h.dc.setVariableRequest({ variablesReference: game, name: 'score_p1', value: '0x0A' });
      assert.equal(r.body.value, '10 (0x0A)');
      const r2 = await h.dc.setVariableRequest({ variablesReference: game, name: 'score_p2', value: 'score_p1 + 5' });
      assert.equal(r2.body.value, '15 (0x0F)');
      await assert.rejects(h.dc.setVariableRequest({ variablesReference: game, name: 'score_p1', value: '300' }), /score_p1 is unsigned 8-bit: 300 does not fit/);
      assert.equal((await h.evaluate('score_p1 + score_p2 == 25')).body.result, 'true');
      // Built-in names win over RAM-map names; vars.NAME reaches the game's own counter.
      const f = await h.frame();
      assert.equal((await h.evaluate('frame')).body.result, `${f} (0x${f.toString(16).toUpperCase()})`);
      assert.equal((await h.evaluate('vars.frame')).body.result, '0 (0x0000)');
      await assert.rejects(h.evaluate('scroe_p1'), /unknown name "scroe_p1" \(did you mean score_p1\?\)/);
      await assert.rejects(h.evaluate('frame = 3'), /use "==" to compare/);
    } finally {
      await h.close();
    }
  });

  test('Sync, Buffer, Agents and Metrics scopes describe the run', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js', { agent2: 'random:5' }));
      await h.next('stopped');
      await h.dc.customRequest('lockstep.stepFrames', { count: 3 });
      await h.next('stopped');
      assert.match((await h.variable('Sync', 'last action c1')).value, /^none \(0x00, agent, frame \d+\)$/);
      assert.equal((await h.variable('Sync', 'on timeout')).value, 'hold (the emulator holds the frame and waits for a late action)');
      assert.match((await h.variable('Agents', 'controller 2')).value, /random/i);
      assert.match((await h.variable('Buffer', 'capacity')).value, /^\d+ states, 0 screens of 10$/);
      const metrics = await h.variable('Metrics', 'framesProcessed');
      assert.equal(metrics.value, '3');
    } finally {
      await h.close();
    }
  });

  test('reverse continue runs back to where a frame condition holds', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js'));
      await h.next('stopped');
      const f0 = await h.frame();
      await h.dc.customRequest('lockstep.stepFrames', { count: 30 });
      await h.next('stopped');
      await h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: `frame == ${f0 + 12}` }] });
      await h.dc.reverseContinueRequest({ threadId: 1 });
      const s = await h.next('stopped');
      assert.equal(s.body.reason, 'function breakpoint');
      assert.equal(await h.frame(), f0 + 12);
      await h.dc.setFunctionBreakpointsRequest({ breakpoints: [] });
      await h.dc.reverseContinueRequest({ threadId: 1 });
      assert.match((await h.next('stopped')).body.description, new RegExp(`Reached the oldest kept frame \\(${f0}\\)`));
    } finally {
      await h.close();
    }
  });
});

describe('DAP: launch errors are one clear sentence', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['unknown agent', { agent: 'smart' }, /launch.json "agent": unknown agent "smart"/],
    ['bad sync setting', { agent: 'random', sync: { frameTimeoutMs: -1 } }, /launch.json "sync": sync setting frameTimeoutMs must be an integer/],
    ['missing ROM', { agent: 'random', rom: join(ROOT, 'roms', 'nope.nes') }, /Lockstep could not start: .*nope\.nes/],
    ['missing scripted agent', { agent: 'scripted:missing.js' }, /Lockstep could not start: scripted agent not found: .*missing\.js/],
  ];
  for (const [what, args, re] of cases) {
    test(what, async () => {
      const h = await startHarness();
      try {
        await h.dc.initializeRequest({ adapterID: 'lockstep', pathFormat: 'path' });
        await assert.rejects(h.dc.launchRequest({ cwd: ROOT, ...args } as never), re);
      } finally {
        await h.close();
      }
    });
  }
});
