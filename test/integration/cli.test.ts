// The built `lockstep` CLI (dist/cli.js) end to end: demo runs, JSON summary, determinism, agents, help, exit codes and one-line errors.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');

interface Result { code: number; stdout: string; stderr: string }

function cli(args: string[], cwd = ROOT): Promise<Result> {
  return run(process.execPath, [CLI, ...args], cwd);
}

function run(file: string, args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
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
  test('3000 frames: exit 0, last line JSON with frames 3000, zero desyncs, a RAM hash; same seed twice gives the same hash, with jsnes on either thread', async () => {
    const [a, b, c, m] = await Promise.all([
      cli(['run', '--frames', '3000', '--json', '--seed', '11']),
      cli(['run', '--frames', '3000', '--json', '--seed', '11']),
      cli(['run', '--frames', '3000', '--json', '--seed', '12']),
      cli(['run', '--frames', '3000', '--json', '--seed', '11', '--embedded-thread', 'main']),
    ]);
    for (const r of [a, b, c, m]) assert.equal(r.code, 0, r.stderr);
    const ja = lastJson(a.stdout);
    const jb = lastJson(b.stdout);
    const jc = lastJson(c.stdout);
    assert.equal(ja.frames, 3000);
    assert.equal(ja.desyncTotal, 0);
    assert.match(String(ja.ramHash), /^[0-9a-f]{64}$/);
    assert.equal(ja.ramHash, jb.ramHash, 'same seed, same final RAM');
    assert.notEqual(ja.ramHash, jc.ramHash, 'another seed, another final RAM');
    const jm = lastJson(m.stdout);
    assert.equal(jm.ramHash, ja.ramHash, 'jsnes on the main thread runs the same game as on its worker');
    assert.deepEqual(jm.episodeEnds, ja.episodeEnds);
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

describe('lockstep run: bad input gets one line naming the problem and exit 2', () => {
  const oneLine = (r: Result, re: RegExp) => {
    assert.equal(r.code, 2, `usage errors exit 2: ${r.stderr}`);
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

const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; scripts: Record<string, string> };
const MISBEHAVING = (dir: string) => {
  const file = join(dir, 'skip.cjs');
  writeFileSync(file, 'module.exports = { act: (o) => ({ buttons: 0, frame: o.frame + 5 }) };\n');
  return file;
};

describe('the command line itself: help, version, exit codes, usage errors', () => {
  test('--version prints the package version; every command answers --help and -h on stdout with exit 0', async () => {
    const v = await cli(['--version']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout, `lockstep ${PACKAGE.version}\n`);
    for (const command of ['run', 'serve', 'diverge']) {
      const [long, short, viaHelp] = await Promise.all([cli([command, '--help']), cli([command, '-h']), cli(['help', command])]);
      for (const r of [long, short, viaHelp]) {
        assert.equal(r.code, 0, `${command}: ${r.stderr}`);
        assert.equal(r.stderr, '');
      }
      assert.match(long.stdout, new RegExp(`^lockstep ${command}( A B)? — `));
      assert.match(long.stdout, /Exit status:\n {2}0 {2}success\n {2}1 {2}the run failed.*\n {2}2 {2}usage error/);
      assert.equal(short.stdout, long.stdout);
      assert.equal(viaHelp.stdout, long.stdout);
    }
    // Help wins over a bad value given with it.
    const helped = await cli(['run', '--frames', '-3', '--help']);
    assert.equal(helped.code, 0, helped.stderr);
  });

  test('the README shows exactly what `lockstep --help` prints', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0, help.stderr);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /```text\n\$ lockstep --help\n([\s\S]*?)```/.exec(readme);
    assert.ok(block, 'README has a ```text block starting with "$ lockstep --help"');
    assert.equal(block[1], help.stdout);
    assert.match(help.stdout, /Exit status:/);
  });

  test('usage errors: one line naming the flag and what it allows, exit 2, in every command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
    const cases: Array<[string[], RegExp]> = [
      [['run', '--frames', '-3'], /^lockstep run: --frames must be an integer >= 1, got "-3"/],
      [['run', '--episodes', '0'], /--episodes must be an integer >= 1, got "0"/],
      [['serve', '--port', '99999'], /^lockstep serve: --port must be an integer from 0 to 65535, got "99999"/],
      [['run', '--port', '99999'], /^lockstep run: --port must be an integer from 0 to 65535, got "99999"/],
      [['run', '--fram', '10'], /^lockstep run: unknown option --fram \(did you mean --frames\?\)/],
      [['serve', '--bogus'], /^lockstep serve: unknown option --bogus/],
      [['run', '--frames'], /^lockstep run: --frames needs a value/],
      [['run', '--json=yes'], /--json takes no value/],
      [['run', 'extra'], /^lockstep run: unexpected argument "extra"/],
      [['run', '--emulator', 'mame'], /--emulator must be "embedded" or "fceux", got "mame"/],
      [['serve', '--embedded-thread', 'gpu'], /^lockstep serve: --embedded-thread must be "worker" or "main", got "gpu"/],
      [['run', '--emulator', 'fceux', '--embedded-thread', 'main'], /--embedded-thread applies to the embedded emulator only/],
      [['run', '--sync', 'frame_timeout_ms=0'], /--sync frame_timeout_ms must be an integer in 1\.\.3600000, got 0/],
      [['run', '--sync', 'frameTimeoutMz=9'], /--sync unknown sync setting "frameTimeoutMz" \(did you mean frameTimeoutMs\?\)/],
      [['run', '--rom', join(dir, 'missing.nes')], /ROM not found: /],
      [['serve', '--agent', 'random'], /give --agent websocket/],
      [['diverge', '--compare', 'pixels', 'a', 'b'], /^lockstep diverge: --compare must be one of auto, ram, ramNoStack, vars, got "pixels"/],
      [['diverge', '--bogus', 'a', 'b'], /^lockstep diverge: unknown option --bogus/],
      [['diverge', 'only-one'], /expected two sources A and B, got 1/],
      [['launch'], /^lockstep: unknown command "launch" \(commands: run, serve, diverge, help/],
      [['help', 'launch'], /^lockstep: unknown command "launch"/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((r, i) => {
      const [args, re] = cases[i];
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line, got: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.doesNotMatch(r.stderr, /ERR_PARSE_ARGS|ambiguous|should be >=|at .*\.js:\d+/, 'no Node wording or stack');
    });
    const none = await cli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^lockstep — /);
  });

  test('exit 1 when the run fails: a misbehaving agent under --sync max_desync_count=1 (snake_case as in lockstep.yaml) gives up', async () => {
    const agent = MISBEHAVING(mkdtempSync(join(tmpdir(), 'lockstep-cli-')));
    const [snake, camel, defaults] = await Promise.all([
      cli(['run', '--agent', `scripted:${agent}`, '--frames', '100', '--sync', 'max_desync_count=1', '--json']),
      cli(['run', '--agent', `scripted:${agent}`, '--frames', '100', '--sync', 'maxDesyncCount=1', '--json']),
      cli(['run', '--agent', `scripted:${agent}`, '--frames', '100', '--json']),
    ]);
    for (const r of [snake, camel, defaults]) assert.equal(r.code, 1, r.stderr);
    assert.match(String(lastJson(snake.stdout).fault), /giving up after repeated desyncs: .*\(limit 1\)/);
    assert.equal(lastJson(snake.stdout).fault, lastJson(camel.stdout).fault, 'both spellings, same setting');
    assert.match(String(lastJson(defaults.stdout).fault), /\(limit 5\)/, 'without --sync the default limit applies');
  });

  test('--episodes without --frames runs that many whole episodes, past the 3000-frame default', async () => {
    const r = await cli(['run', '--episodes', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout);
    assert.equal(j.episodes, 2);
    assert.deepEqual((j.episodeEnds as Array<{ rows: number }>).map((e) => e.rows), [1800, 1800]);
    assert.equal(j.frames, 3600);
  });

  test('the JSON summary has one fps figure: the run\'s frames over its wall time', async () => {
    const j = lastJson((await cli(['run', '--frames', '120', '--json'])).stdout);
    assert.equal(typeof j.fps, 'number');
    assert.equal(j.fps, Math.round((Number(j.frames) / Number(j.wallMs)) * 1000));
    assert.equal('fps' in (j.metrics as object), false, 'metrics carries no second fps');
    assert.equal((j.metrics as { framesProcessed: number }).framesProcessed, 120);
  });

  test('package.json bin: dist/cli.js has a #! line and is executable; npx lockstep and npm link give a lockstep command', async () => {
    assert.equal(PACKAGE.bin.lockstep, './dist/cli.js');
    assert.equal(readFileSync(CLI, 'utf8').split('\n', 1)[0], '#!/usr/bin/env node');
    assert.equal(statSync(CLI).mode & 0o111, 0o111, 'executable by everyone');
    const direct = await run(CLI, ['--version']);
    assert.equal(direct.stdout, `lockstep ${PACKAGE.version}\n`, direct.stderr);
    const npx = await run('npx', ['lockstep', '--version']);
    assert.equal(npx.stdout, `lockstep ${PACKAGE.version}\n`, npx.stderr);
    // npm link into a private prefix (not the machine's global folder), then `lockstep` from PATH like a user.
    const prefix = mkdtempSync(join(tmpdir(), 'lockstep-link-'));
    const link = await run('npm', ['link', '--offline', '--no-audit', '--no-fund'], ROOT, { ...process.env, npm_config_prefix: prefix });
    assert.equal(link.code, 0, link.stderr);
    const linked = await run('lockstep', ['run', '--help'], tmpdir(), { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` });
    assert.equal(linked.code, 0, linked.stderr);
    assert.match(linked.stdout, /^lockstep run — /);
  });
});
