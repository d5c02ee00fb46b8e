// `lockstep diverge` end to end: the built CLI on real recordings, a 10,000-frame bisection, a replay in the real FCEUX, and the debug adapter stopping on state_divergence.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePng } from '../../src/core/png';
import { startHarness } from '../dap/dapHarness';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const DEMO_MAP = join(ROOT, 'roms', 'demo', 'demo.rammap.json');
const CLI_DEADLINE_MS = 180_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with a deadline (SIGKILL past it). */
function cli(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, timeout: CLI_DEADLINE_MS, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number | null) ?? 1 : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the report is checked field by field below
const lastJson = (r: Run): Record<string, any> => JSON.parse(r.stdout.trim().split('\n').pop()!);

/** A scripted agent (CommonJS, loaded by `--agent scripted:`): a fixed walk over LEFT/RIGHT/A; other buttons on frame `change`. */
function agentFile(dir: string, name: string, change: number | null): string {
  const path = join(dir, name);
  writeFileSync(path, `module.exports = { act: (o) => {
  const h = Math.imul(o.frame ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;
  const m = [0x80, 0x40, 0x81, 0x41, 0x00][(h >>> 13) % 5];
  return o.frame === ${change ?? -1} ? m ^ 0xc1 : m;
} };\n`);
  return path;
}

describe('lockstep diverge (built CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-diverge-'));
  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run "npm run build" first`);
    const same = agentFile(dir, 'same.js', null);
    const other = agentFile(dir, 'other.js', 1234);
    // The demo's episode ends at 1800 rows (done flag); three full episodes, two identical, one pressing other buttons on frame 1234.
    for (const [folder, agent] of [['r1', same], ['r2', same], ['r3', other]] as const) {
      const r = await cli(['run', '--frames', '1800', '--agent', `scripted:${agent}`, '--record', folder, '--json'], dir);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('identical runs: exit 0 and a JSON report saying so', async () => {
    const r = await cli(['diverge', 'r1', 'r2', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r);
    assert.deepEqual([j.format, j.diverged, j.search, j.compare, j.stepsCompared], ['lockstep-divergence', false, 'rows', 'ram', 1800]);
    assert.equal(j.replay.framesReplayed, 0);
  });

  test('runs parting at frame 1234: exit 1, that frame, the bytes, the inputs around it, and the screens written beside the report', async () => {
    const r = await cli(['diverge', 'r1', join('r3', 'episode-0000.json'), '--json', '--out', 'report'], dir);
    assert.equal(r.code, 1, r.stderr);
    const j = lastJson(r);
    assert.deepEqual([j.diverged, j.frame, j.step, j.cause], [true, 1234, 1229, 'inputs']);
    assert.ok(j.bytes.some((d: { address: string; name: string }) => d.address === '$001C' && d.name === 'pad1'), JSON.stringify(j.bytes));
    assert.equal(j.around.length, 11);
    assert.equal(j.around[5].step, 1229);
    assert.equal(j.around[5].differ, true);
    const onDisk = JSON.parse(readFileSync(join(dir, 'report', 'divergence.json'), 'utf8'));
    assert.equal(onDisk.frame, 1234);
    assert.deepEqual(j.screens, { a: 'divergence-a.png', b: 'divergence-b.png', sideBySide: 'divergence-side-by-side.png' });
    const both = decodePng(readFileSync(join(dir, 'report', j.screens.sideBySide)));
    assert.deepEqual([both.width, both.height], [256 * 3 + 16, 240], 'A | B | where they differ');
    const text = await cli(['diverge', 'r1', 'r3'], dir);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /first divergence at frame 1234 \(step 1229\): inputs differ/);
    assert.match(text.stdout, /\$001C pad1/);
  });

  test('bad input: a missing recording, an unknown option value; exit 2 with one sentence', async () => {
    const missing = await cli(['diverge', 'r1', 'nope', '--json'], dir);
    assert.equal(missing.code, 2);
    assert.match(lastJson(missing).error, /recording not found: .*nope/);
    const bad = await cli(['diverge', 'r1', 'r2', '--search', 'sideways'], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--search must be one of auto, rows, bisect, forward, got "sideways"/);
    const one = await cli(['diverge', 'r1'], dir);
    assert.match(one.stderr, /expected two sources A and B, got 1/);
  });

  test('the embedded recording replayed in the real FCEUX: equal outside the CPU stack page for all 1800 frames; whole RAM differs at once, in the stack only', { timeout: 120_000 }, async () => {
    const r = await cli(['diverge', 'r1', 'live:fceux', '--json', '--no-screens'], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const j = lastJson(r);
    assert.deepEqual([j.diverged, j.compare, j.search, j.stepsCompared], [false, 'ramNoStack', 'forward', 1800]);
    assert.deepEqual([j.a.startFrame, j.b.startFrame], [5, 5], 'both emulators give the start of the episode the same frame id');
    const whole = await cli(['diverge', 'r1', 'live:fceux', '--json', '--no-screens', '--compare', 'ram'], dir);
    assert.equal(whole.code, 1);
    const w = lastJson(whole);
    assert.deepEqual([w.step, w.frames, w.cause], [0, { a: 5, b: 5 }, 'start']);
    assert.ok(w.bytes.length > 0 && w.bytes.every((d: { address: string }) => /^\$01F[D-F]$/.test(d.address)), JSON.stringify(w.bytes));
  });

  test('the debug adapter with `reference`: a function breakpoint stops at frame 1234, continuing stops on state_divergence at 1235', { timeout: 60_000 }, async () => {
    const h = await startHarness();
    try {
      await h.launch(
        { type: 'lockstep', request: 'launch', name: 'divergence', agent: `fm2:${join(dir, 'r3', 'episode-0000.fm2')}`, reference: join(dir, 'r1'), stopOnEntry: false, cwd: ROOT },
        async () => {
          await h.dc.setExceptionBreakpointsRequest({ filters: ['state_divergence'] });
          await h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'frame == 1234' }] });
        },
      );
      const first = await h.next('stopped', undefined, 30_000);
      assert.equal(first.body.reason, 'function breakpoint');
      assert.equal(await h.frame(), 1234);
      await h.dc.continueRequest({ threadId: 1 });
      const s = await h.next('stopped', undefined, 30_000);
      assert.equal(s.body.reason, 'exception');
      assert.equal(await h.frame(), 1235);
      const info = await h.dc.exceptionInfoRequest({ threadId: 1 });
      assert.equal(info.body.exceptionId, 'state_divergence');
      assert.match(info.body.description ?? '', /RAM fingerprint of reference .*r1 \(step 1230, its frame 1235\)/);
    } finally {
      await h.close();
    }
  });
});

describe('lockstep diverge on a 10,000-frame episode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-diverge-10k-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('snapshot sidecars every 256 frames: the divergence at frame 9500 costs at most two intervals of replay, by rows or by bisection', { timeout: 240_000 }, async () => {
    // The demo's RAM map without its done flag, so one episode runs the whole 10,000 frames (stopped there).
    const map = JSON.parse(readFileSync(DEMO_MAP, 'utf8'));
    delete map.done;
    writeFileSync(join(dir, 'nodone.rammap.json'), JSON.stringify(map));
    const agents = [agentFile(dir, 'same.js', null), agentFile(dir, 'late.js', 9500)];
    await Promise.all(['long-a', 'long-b'].map(async (folder, i) => {
      const r = await cli(['run', '--frames', '10000', '--agent', `scripted:${agents[i]}`, '--ram-map', 'nodone.rammap.json', '--snapshots', '256', '--record', folder, '--json'], dir);
      assert.equal(r.code, 0, r.stderr);
    }));
    const manifest = JSON.parse(readFileSync(join(dir, 'long-a', 'episode-0000.json'), 'utf8'));
    assert.deepEqual([manifest.rows, manifest.reason, manifest.snapshots.steps.length], [10000, 'stopped', 40]);
    for (const search of ['auto', 'bisect']) {
      const r = await cli(['diverge', 'long-a', 'long-b', '--ram-map', 'nodone.rammap.json', '--search', search, '--json'], dir);
      assert.equal(r.code, 1, r.stderr);
      const j = lastJson(r);
      assert.deepEqual([j.frame, j.cause, j.search], [9500, 'inputs', search === 'auto' ? 'rows' : 'bisect']);
      assert.ok(j.replay.framesReplayed <= 2 * 256, `${search}: replayed ${j.replay.framesReplayed} frames`);
      assert.ok(j.bytes.some((d: { name: string }) => d.name === 'pad1'));
      if (search === 'bisect') assert.ok(j.replay.probes <= 7, `probes ${j.replay.probes} for 40 checkpoints`);
    }
  });
});
