// The built `lockstep` CLI (dist/cli.js) end to end: demo runs, JSON summary, determinism, agents, and one-line errors for bad input.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');

interface Result { code: number; stdout: string; stderr: string }

function cli(args: string[], cwd = ROOT): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

describe('lockstep run (embedded emulator, demo ROM)', () => {
  test('3000 frames: exit 0, last line JSON with frames 3000, zero desyncs, a RAM hash; same seed twice gives the same hash', async () => {
    const [a, b, c] = await Promise.all([
      cli(['run', '--frames', '3000', '--json', '--seed', '11']),
      cli(['run', '--frames', '3000', '--json', '--seed', '11']),
      cli(['run', '--frames', '3000', '--json', '--seed', '12']),
    ]);
    for (const r of [a, b, c]) assert.equal(r.code, 0, r.stderr);
    const ja = lastJson(a.stdout);
    const jb = lastJson(b.stdout);
    const jc = lastJson(c.stdout);
    assert.equal(ja.frames, 3000);
    assert.equal(ja.desyncTotal, 0);
    assert.match(String(ja.ramHash), /^[0-9a-f]{64}$/);
    assert.equal(ja.ramHash, jb.ramHash, 'same seed, same final RAM');
    assert.notEqual(ja.ramHash, jc.ramHash, 'another seed, another final RAM');
    const ends = ja.episodeEnds as Array<{ rows: number; reason: string }>;
    assert.deepEqual(ends[0], { ...ends[0], rows: 1800, reason: 'done_flag' }, 'the demo episode is 1800 rows');
  });

  test('the ONNX demo policy plays through the CLI and catches more than the idle paddle', async () => {
    const r = await cli(['run', '--agent', 'onnx:models/demo-policy.onnx', '--frames', '1800', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout);
    const end = (j.episodeEnds as Array<{ returns: [number, number] }>)[0];
    assert.ok(end, 'an episode ended');
    assert.ok(end.returns[0] > end.returns[1] + 5, `policy return ${end.returns[0]} vs idle ${end.returns[1]}`);
  });

  test('a scripted agent from a file and --max-steps truncate episodes at exactly that many rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
    const agent = join(dir, 'right.cjs');
    writeFileSync(agent, 'module.exports = { act: () => ["RIGHT"] };\n');
    const r = await cli(['run', '--agent', `scripted:${agent}`, '--max-steps', '100', '--frames', '250', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout);
    assert.deepEqual((j.episodeEnds as Array<{ rows: number; reason: string }>).map((e) => [e.rows, e.reason]), [[100, 'max_steps'], [100, 'max_steps']]);
  });

  test('lockstep.yaml in the working folder is read, and a bad key is a one-line error naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
    writeFileSync(join(dir, 'lockstep.yaml'), 'maxSteps: 30\nsync:\n  frameTimeoutMs: 250\n');
    const ok = await cli(['run', '--frames', '60', '--json'], dir);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((lastJson(ok.stdout).episodeEnds as Array<{ rows: number }>).map((e) => e.rows), [30, 30]);
    writeFileSync(join(dir, 'lockstep.yaml'), 'sync:\n  frameTimeoutMz: 250\n');
    const bad = await cli(['run', '--frames', '10'], dir);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /frameTimeoutMz/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  });
});

describe('recordings and FM2 replay', () => {
  test('--record writes an episode; replaying its .fm2 with the fm2 agent reproduces the recorded final RAM (FCEUX: all but the NMI stack bytes)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-rec-'));
    const rec = join(dir, 'rec');
    const r = await cli(['run', '--frames', '1800', '--seed', '21', '--record', rec, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const manifest = JSON.parse(readFileSync(join(rec, 'episode-0000.json'), 'utf8')) as { rows: number; finalRamSha256: string; finalRamSha256NoStack: string };
    assert.equal(manifest.rows, 1800);
    const movie = join(rec, 'episode-0000.fm2');
    const [emb, fx] = await Promise.all([
      cli(['run', '--agent', `fm2:${movie}`, '--frames', '1800', '--record', join(dir, 'emb'), '--json']),
      cli(['run', '--emulator', 'fceux', '--agent', `fm2:${movie}`, '--frames', '1800', '--record', join(dir, 'fx'), '--json']),
    ]);
    assert.equal(emb.code, 0, emb.stderr);
    assert.equal(fx.code, 0, fx.stderr);
    const embM = JSON.parse(readFileSync(join(dir, 'emb', 'episode-0000.json'), 'utf8')) as typeof manifest;
    const fxM = JSON.parse(readFileSync(join(dir, 'fx', 'episode-0000.json'), 'utf8')) as typeof manifest;
    assert.equal(embM.finalRamSha256, manifest.finalRamSha256, 'embedded replay: identical 2 KB RAM');
    assert.equal(fxM.finalRamSha256NoStack, manifest.finalRamSha256NoStack, 'FCEUX replay: identical RAM outside $01FD-$01FF');
    assert.equal(fxM.rows, 1800);
  });
});

describe('lockstep run --emulator fceux (real FCEUX, headless)', () => {
  test('600 frames: exit 0, frames 600, zero desyncs, and no FCEUX process left behind', async () => {
    const r = await cli(['run', '--emulator', 'fceux', '--frames', '600', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout);
    assert.equal(j.frames, 600);
    assert.equal(j.emulator, 'fceux');
    assert.equal(j.desyncTotal, 0);
    assert.deepEqual(fceuxProcesses(), [], 'no FCEUX left running');
  });

  test('the ONNX policy drives FCEUX too, and the same agent on both emulators sees the same game', async () => {
    const [f, e] = await Promise.all([
      cli(['run', '--emulator', 'fceux', '--agent', 'onnx:models/demo-policy.onnx', '--frames', '1800', '--json']),
      cli(['run', '--emulator', 'embedded', '--agent', 'onnx:models/demo-policy.onnx', '--frames', '1800', '--json']),
    ]);
    assert.equal(f.code, 0, f.stderr);
    assert.equal(e.code, 0, e.stderr);
    const fr = lastJson(f.stdout).episodeEnds as Array<{ rows: number; returns: number[] }>;
    const er = lastJson(e.stdout).episodeEnds as Array<{ rows: number; returns: number[] }>;
    assert.equal(fr[0]?.rows, 1800, 'FCEUX episode is 1800 rows');
    assert.deepEqual(fr[0].returns, er[0].returns, 'same policy, same game, same returns on both emulators');
    assert.deepEqual(fceuxProcesses(), []);
  });
});

function fceuxProcesses(): string[] {
  const r = spawnSync('pgrep', ['-f', 'lockstep.lua'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

describe('lockstep run: bad input gets one line naming the problem and a non-zero exit', () => {
  const oneLine = (r: Result, re: RegExp) => {
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line, got: ${r.stderr}`);
    assert.match(r.stderr, re);
  };

  test('a ROM path that does not exist', async () => {
    oneLine(await cli(['run', '--rom', '/no/such/game.nes']), /ROM not found: \/no\/such\/game\.nes/);
  });

  test('a file that is not an NES ROM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
    writeFileSync(join(dir, 'notes.nes'), 'just some text, not a ROM\n');
    oneLine(await cli(['run', '--rom', join(dir, 'notes.nes')]), /Not an NES ROM: notes\.nes/);
  });

  test('a ROM with a mapper the embedded emulator does not support', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
    const rom = Buffer.from(readFileSync(join(ROOT, 'roms', 'demo', 'demo.nes')));
    rom[6] = (rom[6] & 0x0f) | 0xf0;
    rom[7] = (rom[7] & 0x0f) | 0xf0;
    writeFileSync(join(dir, 'odd.nes'), rom);
    oneLine(await cli(['run', '--rom', join(dir, 'odd.nes')]), /Unsupported mapper 255 in odd\.nes/);
  });

  test('an unknown agent and a bad number', async () => {
    oneLine(await cli(['run', '--agent', 'telepathy']), /unknown agent "telepathy"/);
    oneLine(await cli(['run', '--frames', 'many']), /--frames must be an integer/);
  });
});
