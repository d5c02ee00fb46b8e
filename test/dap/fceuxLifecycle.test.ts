// DAP tests with a real FCEUX launched by the adapter: progress while it starts, frames run, and no FCEUX left behind after disconnect or a killed adapter.
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
