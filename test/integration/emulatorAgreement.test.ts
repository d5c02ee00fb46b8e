// Embedded and FCEUX agree from power-on (same RAM, same frame ids) and FCEUX accepts ROM files with trailing bytes: the built CLI, real headless FCEUX, the project's test ROMs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const POWERON = join(ROOT, 'roms', 'test', 'poweron.nes');
const TRAILING = join(ROOT, 'roms', 'test', 'trailing.nes');
const CLI_DEADLINE_MS = 120_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with a deadline (SIGKILL past it). */
function cli(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, timeout: CLI_DEADLINE_MS, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (err as NodeJS.ErrnoException & { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- reports are checked field by field below
const lastJson = (r: Run): Record<string, any> => JSON.parse(r.stdout.trim().split('\n').pop()!);

describe('embedded and FCEUX agree from power-on (built CLI, real FCEUX)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-agree-'));
  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run "npm run build" first`);
    // The random agent (seed 0) presses varied buttons; the probe folds every controller read into `state`.
    const r = await cli(['run', '--rom', POWERON, '--frames', '300', '--record', 'emb', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('an embedded recording of the RAM-reading probe replays in FCEUX with no difference from frame 0, whole RAM included', { timeout: 120_000 }, async () => {
    const rows = readFileSync(join(dir, 'emb', 'episode-0000.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows[0].frame, 0, 'the episode starts at power-on');
    assert.deepEqual([rows[0].vars.seen_0, rows[0].vars.seen_4], [0x00, 0xff], 'power-on RAM is FCEUX\'s pattern');
    assert.ok(rows.at(-1).vars.polls > 90, `the probe read the controller on one frame in three: ${rows.at(-1).vars.polls}`);
    assert.ok(new Set(rows.map((r: { vars: { state: number } }) => r.vars.state)).size > 10, 'the inputs reached the game state');

    for (const compare of ['auto', 'ram']) {
      const r = await cli(['diverge', 'emb', 'live:fceux', '--rom', POWERON, '--compare', compare, '--json', '--no-screens'], dir);
      assert.equal(r.code, 0, `--compare ${compare}: ${r.stdout.slice(-2000)}${r.stderr}`);
      const j = lastJson(r);
      assert.deepEqual([j.diverged, j.stepsCompared, j.a.emulator, j.b.emulator], [false, 300, 'embedded', 'fceux']);
      assert.deepEqual([j.a.startFrame, j.b.startFrame], [0, 0], 'the same frame ids on both emulators');
    }
  });

  test('a ROM file with 4 KiB past its declared image runs on FCEUX, and its FCEUX recording replays on the embedded emulator', { timeout: 120_000 }, async () => {
    const r = await cli(['run', '--emulator', 'fceux', '--rom', TRAILING, '--frames', '300', '--record', 'fx', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r);
    assert.deepEqual([j.emulator, j.rows, j.rom.name], ['fceux', 300, 'trailing.nes']);
    const manifest = JSON.parse(readFileSync(join(dir, 'fx', 'episode-0000.json'), 'utf8'));
    assert.equal(manifest.startFrame, 0);
    assert.equal(manifest.rom.md5NoHeader, JSON.parse(readFileSync(join(dir, 'emb', 'episode-0000.json'), 'utf8')).rom.md5NoHeader, 'same PRG+CHR identity as poweron.nes');

    const d = await cli(['diverge', 'fx', 'live:embedded', '--rom', TRAILING, '--compare', 'ram', '--json', '--no-screens'], dir);
    assert.equal(d.code, 0, d.stdout.slice(-2000) + d.stderr);
    const k = lastJson(d);
    assert.deepEqual([k.diverged, k.stepsCompared, k.a.startFrame, k.b.startFrame], [false, 300, 0, 0]);
  });
});
