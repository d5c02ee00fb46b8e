// scripts/sweepMarked.mjs (run by .ci/run after the tests): kills exactly the processes carrying the marker, even detached ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { processAlive } from '../integration/processAlive';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'sweepMarked.mjs');

test('marked processes (one in a session of its own, one ignoring SIGTERM) are listed and killed; an unmarked one and a near-miss are left', async () => {
  const marker = `sweep-test-${randomBytes(4).toString('hex')}`;
  const start = (value: string | undefined, detached: boolean, script = 'sleep 60') => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (value === undefined) delete env.LOCKSTEP_SWEEP_TEST;
    else env.LOCKSTEP_SWEEP_TEST = value;
    const c = spawn('bash', ['-c', script], { env, detached, stdio: 'ignore' });
    c.unref();
    return c.pid!;
  };
  const detached = start(marker, true);
  const stubborn = start(marker, false, "trap '' TERM; while :; do sleep 0.1; done");
  const unmarked = start(undefined, false);
  const nearMiss = start(`${marker}x`, false);
  try {
    await new Promise((r) => setTimeout(r, 300));
    const env = { ...process.env };
    delete env.LOCKSTEP_SWEEP_TEST;
    const r = spawnSync(process.execPath, [SCRIPT, `LOCKSTEP_SWEEP_TEST=${marker}`], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^sweep: still running with LOCKSTEP_SWEEP_TEST set; killing them:\n/);
    for (const pid of [detached, stubborn]) assert.match(r.stdout, new RegExp(`^\\s*${pid}\\s`, 'm'));
    for (const pid of [unmarked, nearMiss]) assert.doesNotMatch(r.stdout, new RegExp(`^\\s*${pid}\\s`, 'm'));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(processAlive(detached), false, 'detached process still alive');
    assert.equal(processAlive(stubborn), false, 'the process that ignores SIGTERM is still alive');
    assert.equal(processAlive(unmarked), true);
    assert.equal(processAlive(nearMiss), true);
    const again = spawnSync(process.execPath, [SCRIPT, `LOCKSTEP_SWEEP_TEST=${marker}`], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(again.stdout, '', 'a second sweep finds nothing');
  } finally {
    for (const pid of [detached, stubborn, unmarked, nearMiss]) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
});
