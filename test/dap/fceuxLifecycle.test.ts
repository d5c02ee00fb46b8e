// DAP tests with a real FCEUX launched by the adapter: progress while it starts, frames run, no FCEUX left behind after disconnect or a killed adapter, and its clock drift caught by the Clock drift filter.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, demoArgs, sleep, type Harness } from './dapHarness';
import { processAlive } from '../integration/processAlive';

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (!processAlive(pid)) return true;
    await sleep(100, true);
  }
  return !processAlive(pid);
}

async function launchFceux(h: Harness): Promise<number> {
  await h.launch(demoArgs('idle.js', { emulator: 'fceux' }));
  assert.equal((await h.next('stopped', undefined, 30_000)).body.reason, 'entry');
  const started = h.all('output').map((e) => String(e.body.output)).find((o) => /started FCEUX \(pid \d+\)/.test(o));
  const pid = Number(/pid (\d+)/.exec(started ?? '')?.[1]);
  assert.ok(pid > 0 && processAlive(pid), `FCEUX pid from the Debug Console: ${started}`);
  return pid;
}

describe('DAP: FCEUX launched by the adapter', () => {
  test('shows progress while FCEUX starts, steps frames on it, and disconnect leaves no FCEUX running', async () => {
    const h = await startHarness();
    let pid = 0;
    try {
      pid = await launchFceux(h);
      assert.ok(h.all('progressStart').some((e) => e.body.title === 'Starting FCEUX'));
      assert.ok(h.all('progressEnd').length >= 1);
      const f0 = await h.frame();
      await h.dc.nextRequest({ threadId: 1 });
      await h.next('stopped');
      assert.equal(await h.frame(), f0 + 1);
    } finally {
      assert.equal(await h.close(), 0);
    }
    assert.ok(await gone(pid, 5000), `FCEUX ${pid} still running after disconnect`);
  });

  test('a killed adapter (SIGTERM, as when the editor goes away) still ends its FCEUX', async () => {
    const h = await startHarness();
    const pid = await launchFceux(h);
    const proc = (h.dc as unknown as { _adapterProcess: import('node:child_process').ChildProcess })._adapterProcess;
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(await gone(pid, 5000), `FCEUX ${pid} still running after the adapter was killed`);
  });
});

describe('DAP: clock sync with FCEUX', () => {
  test('lockstep.lua\'s clock jumping 300 ms stops on the Clock drift filter; exceptionInfo gives the drift, the Sync scope the emulator\'s clock', async () => {
    // The adapter passes its environment to FCEUX: the script's test mode moves its clock forward from frame 120 on.
    process.env.LOCKSTEP_TEST_CLOCK_JUMP = '120:300';
    let h: Harness | undefined;
    try {
      h = await startHarness();
      const harness = h;
      await h.launch(demoArgs('idle.js', { emulator: 'fceux', stopOnEntry: false, sync: { clockSyncInterval: 30 } }),
        async () => {
          // The condition reads the event's drift: a filter can ask for big jumps only.
          const r = await harness.dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'clock_drift', condition: 'clockDriftMs > 250' }] });
          assert.deepEqual(r.body?.breakpoints?.map((b) => b.verified), [true]);
        });
      const s = await h.next('stopped', undefined, 30_000);
      assert.equal(s.body.reason, 'exception');
      assert.match(s.body.description, /^Desync: clock_drift at frame \d+$/);
      const info = await h.dc.exceptionInfoRequest({ threadId: 1 });
      assert.equal(info.body.exceptionId, 'clock_drift');
      const drift = Number(/clock drift: +\+?(-?[\d.]+) ms \(emulator\)/.exec(info.body.details?.stackTrace ?? '')?.[1]);
      assert.ok(Math.abs(drift - 300) <= 40, `drift near 300 ms in exceptionInfo: ${info.body.details?.stackTrace}`);
      assert.match(info.body.description ?? '', /^emulator: expected a clock offset near .* drifted \+\d/);
      const clock = await h.variable('Sync', 'clock emulator');
      assert.match(clock.value, /^offset \+\d+\.\d+ ms, round trip \d+\.\d+ ms, drift \+0\.00 ms \(\d+ syncs, last at frame \d+\)$/);
    } finally {
      delete process.env.LOCKSTEP_TEST_CLOCK_JUMP;
      assert.equal(await h?.close(), 0);
    }
  });
});
