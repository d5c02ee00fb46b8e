// DAP test, the recording agent behind "Open Recording in Timeline": a recording made by `lockstep run --record` replays episode by episode; travelling to any row holds that row's recorded state.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, demoArgs, ROOT } from './dapHarness';
import { episodeManifests, loadRecordedEpisode } from '../../src/core/episodes/episodeReader';
import { planRecordingReplay } from '../../src/extension/recordingReplay';

describe('DAP: replaying a recording folder (the timeline\'s Open Recording)', () => {
  test('every recorded episode replays with its own buttons and ends where it ended; travel to a row holds the recorded vars', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-rec-'));
    const h = await startHarness();
    try {
      // Two full episodes of 50 rows and a third cut by the frame limit (exported as "stopped" with 30 rows).
      execFileSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'run', '--agent', 'random:5', '--max-steps', '50', '--frames', '130', '--record', dir], { cwd: ROOT, stdio: 'pipe' });
      const episodes = await Promise.all((await episodeManifests(dir)).map((m) => loadRecordedEpisode(m.path)));
      assert.deepEqual(episodes.map((e) => [e.steps.length, e.reason]), [[50, 'max_steps'], [50, 'max_steps'], [30, 'stopped']]);
      const plan = planRecordingReplay({ folder: dir, romName: 'demo.nes', emulator: 'embedded', episodes }, join(ROOT, 'roms', 'demo', 'demo.nes'));
      assert.equal(plan.frames, 129);

      await h.launch({ ...demoArgs('idle.js'), ...plan.config, cwd: ROOT });
      await h.next('stopped', undefined, 30_000);
      await h.dc.customRequest('lockstep.stepFrames', { count: plan.frames });
      await h.next('stopped', undefined, 30_000);
      const where = async () => (await h.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].name;
      const last = episodes[2].steps[29];
      assert.equal(await where(), `frame ${last.frame} (episode 2, step 29)`, 'the last recorded row is held');

      // Ticks count held states: episode k's step s is tick 50k + s. Each travelled row holds the recorded state.
      for (const [ep, step] of [[0, 0], [0, 37], [1, 12], [1, 49], [2, 5]] as const) {
        await h.dc.customRequest('lockstep.travel', { tick: 50 * ep + step });
        await h.next('stopped');
        const row = episodes[ep].steps[step];
        assert.equal(await where(), `frame ${row.frame} (episode ${ep}, step ${step})`);
        for (const name of ['p1_x', 'rng', 'timer']) {
          assert.equal((await h.variable('Game', name)).value.split(' ')[0], String(row.vars[name]), `episode ${ep} step ${step}: ${name}`);
        }
      }
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
