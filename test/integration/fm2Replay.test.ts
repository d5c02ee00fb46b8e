// An exported .fm2 replayed in the real FCEUX reaches the recorded final RAM (2 KB, byte for byte) at the recorded frame.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { InProcessEmulator } from '../../src/emulators/embedded/embeddedEmulator';
import { LockstepRuntime } from '../../src/core/runtime/runtime';
import type { EpisodeEnd } from '../../src/core/runtime/rows';
import { createEpisodeRecorder, type EpisodeManifest } from '../../src/core/episodes/episodeWriter';
import { ramHashNoStack } from '../../src/core/episodes/ramHash';
import { defaultSyncConfig, mergeSyncConfig } from '../../src/core/config/config';
import { parseRamMap } from '../../src/core/config/ramMap';
import { readRom } from '../../src/emulators/rom';
import { RandomAgent } from '../../src/agents/randomAgent';
import { ScriptedAgent } from '../../src/agents/scriptedAgent';
import { BUTTON } from '../../src/core/buttons';

const ROOT = join(__dirname, '..', '..');
const ROM = join(ROOT, 'roms', 'demo', 'demo.nes');
const RAM_MAP = parseRamMap(readFileSync(join(ROOT, 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');
const FCEUX = '/usr/games/fceux';
const CLI = join(ROOT, 'dist', 'cli.js');
const DEADLINE_MS = 60_000;

/**
 * Stops when FCEUX has run exactly the movie's lines (framecount == movie.length()): that is the recorded final state.
 * Looping until movie.mode() says "finished" runs one frame more (with no input), so it reports that frame count too.
 */
const CHECK_LUA = `
if movie.mode() == nil then
  io.stdout:write("LOCKSTEP_NO_MOVIE\\n"); io.stdout:flush(); emu.exit()
end
local len = movie.length()
while emu.framecount() < len and movie.mode() ~= "finished" do emu.frameadvance() end
local out = {}
for a = 0, 0x7FF do out[#out + 1] = string.format("%02x", memory.readbyte(a)) end
io.stdout:write("LOCKSTEP_FC " .. emu.framecount() .. " " .. len .. "\\n")
io.stdout:write("LOCKSTEP_RAM " .. table.concat(out) .. "\\n")
while movie.mode() ~= "finished" do emu.frameadvance() end
io.stdout:write("LOCKSTEP_FINISHED_AT " .. emu.framecount() .. "\\n")
io.stdout:flush()
emu.exit()
`;

interface Replay { framecount: number; length: number; ram: Buffer; finishedAt: number }

/** Plays a movie in headless FCEUX; SIGKILL on the deadline (FCEUX ignores SIGTERM). */
function replay(moviePath: string, luaPath: string): Promise<Replay> {
  return new Promise((resolve, reject) => {
    const home = mkdtempSync(join(tmpdir(), 'lockstep-fceux-home-'));
    const child = spawn(FCEUX, ['--videoDriver', '1', '--no-config', '1', '--sound', '0', '--playmov', moviePath, '--loadlua', luaPath, ROM], {
      env: { ...process.env, QT_QPA_PLATFORM: 'offscreen', SDL_AUDIODRIVER: 'dummy', FCEUX_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${FCEUX}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const fc = /LOCKSTEP_FC (\d+) (\d+)/.exec(out);
      const ram = /LOCKSTEP_RAM ([0-9a-f]{4096})/.exec(out);
      const fin = /LOCKSTEP_FINISHED_AT (\d+)/.exec(out);
      if (!fc || !ram || !fin) {
        reject(new Error(`FCEUX (code ${code}, signal ${signal}) gave no result for ${moviePath}:\n${out.slice(-800)}\n${err.slice(-800)}`));
        return;
      }
      resolve({ framecount: Number(fc[1]), length: Number(fc[2]), ram: Buffer.from(ram[1], 'hex'), finishedAt: Number(fin[1]) });
    });
  });
}

describe('FM2 export replays in the real FCEUX', () => {
  test('two episodes recorded in run-ahead mode (slow agent, rollbacks) replay to the recorded final RAM', { timeout: 180_000 }, async () => {
    assert.ok(existsSync(FCEUX), `${FCEUX} is needed (apt-get install fceux)`);
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-fm2-replay-'));
    const { info } = await readRom(ROM);
    const { recorder } = await createEpisodeRecorder(dir, { rom: info, ramMap: RAM_MAP, session: '', emulator: 'embedded' });
    // Controller 1 thinks for 2 ms and changes direction every 24 frames; controller 2 is random and instant.
    const slow = new ScriptedAgent({ act: async (o) => { await new Promise((r) => setTimeout(r, 2)); return (o.step / 24) & 1 ? BUTTON.LEFT : BUTTON.RIGHT | BUTTON.A; } }, 'slow');
    const rt = new LockstepRuntime(
      { emulator: new InProcessEmulator(), agents: [slow, new RandomAgent({ seed: 21 })], ramMap: RAM_MAP, sync: mergeSyncConfig(defaultSyncConfig(), { mode: 'runahead', frameTimeoutMs: 5_000 }) },
      { romPath: ROM, maxSteps: 300, recorder, runAheadFrames: 8 },
    );
    await rt.start();
    const ends: EpisodeEnd[] = [];
    const finals = new Map<number, Uint8Array>();
    rt.events.on('episodeEnd', (e) => ends.push(e));
    // The state at the termination frame is what the emulator holds just before the runtime loads the next episode's start.
    const endEpisode = recorder.endEpisode.bind(recorder);
    recorder.endEpisode = (end, ram) => {
      finals.set(end.episode, ram.slice());
      return endEpisode(end, ram);
    };
    while (ends.length < 2) await rt.advance();
    await rt.close();
    await recorder.close();

    const lua = join(dir, 'check.lua');
    writeFileSync(lua, CHECK_LUA);
    for (const ep of [0, 1]) {
      const manifest = JSON.parse(readFileSync(join(dir, `episode-000${ep}.json`), 'utf8')) as EpisodeManifest;
      assert.equal(manifest.rows, 300);
      assert.equal(manifest.fm2.leadIn, RAM_MAP.warmupFramesFor('embedded'), 'one blank line per warmup frame (frame id = movie line)');
      const r = await replay(join(dir, `episode-000${ep}.fm2`), lua);
      assert.equal(r.length, manifest.fm2.lines, 'FCEUX read every input line');
      assert.equal(r.framecount, manifest.fm2.lines, 'stopped right after the last line');
      // Every byte outside the CPU stack page is equal; the stack's top holds what the NMI pushed (emulator CPU timing).
      assert.equal(ramHashNoStack(r.ram), manifest.finalRamSha256NoStack, `episode ${ep}: FCEUX reached the recorded RAM`);
      const recorded = finals.get(ep)!;
      assert.equal(createHash('sha256').update(recorded).digest('hex'), manifest.finalRamSha256);
      assert.deepEqual(RAM_MAP.read(r.ram), RAM_MAP.read(recorded), `episode ${ep}: every RAM-map variable is equal`);
      const differing = [...r.ram.keys()].filter((a) => r.ram[a] !== recorded[a]);
      assert.ok(differing.every((a) => a >= 0x1f0 && a <= 0x1ff), `only the top of the stack may differ, got ${differing.map((a) => a.toString(16))}`);
      assert.equal(r.finishedAt, manifest.fm2.lines + 1, 'FCEUX reports "finished" one frame after the last line');
    }
  });

  test('lockstep run --record on both emulators: the same dataset row for row, and the FCEUX recording replays to the identical 2 KB', { timeout: 180_000 }, async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run "npm run build" first`);
    const base = mkdtempSync(join(tmpdir(), 'lockstep-cli-record-'));
    const run = (emulator: string) => new Promise<void>((resolve, reject) => {
      execFile(process.execPath, [CLI, 'run', '--emulator', emulator, '--frames', '400', '--max-steps', '300', '--seed', '5', '--record', join(base, emulator), '--json'],
        { cwd: ROOT, timeout: 120_000 }, (err, _out, stderr) => (err ? reject(new Error(`lockstep run --emulator ${emulator} failed: ${stderr}`)) : resolve()));
    });
    await run('embedded');
    await run('fceux');
    const rows = (emulator: string) => readFileSync(join(base, emulator, 'episode-0000.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const key = (r: Record<string, unknown>) => JSON.stringify([r.step, r.frame, r.actions, r.reward, r.vars, r.terminated, r.truncated]);
    const [e, f] = [rows('embedded'), rows('fceux')];
    assert.equal(e.length, 300);
    assert.deepEqual(e.map(key), f.map(key), 'same seed, same dataset on jsnes and FCEUX, frame ids included');
    const me = JSON.parse(readFileSync(join(base, 'embedded', 'episode-0000.json'), 'utf8')) as EpisodeManifest;
    const mf = JSON.parse(readFileSync(join(base, 'fceux', 'episode-0000.json'), 'utf8')) as EpisodeManifest;
    assert.deepEqual([me.startFrame, mf.startFrame], [RAM_MAP.warmupFramesFor('embedded'), RAM_MAP.warmupFramesFor('fceux')]);
    assert.equal(mf.fm2.leadIn, mf.startFrame, 'FCEUX frame ids are movie lines');
    assert.equal(me.fm2.lines, mf.fm2.lines, 'both movies are the same length');
    assert.equal(me.finalRamSha256NoStack, mf.finalRamSha256NoStack);
    const lua = join(base, 'check.lua');
    writeFileSync(lua, CHECK_LUA);
    const r = await replay(join(base, 'fceux', 'episode-0000.fm2'), lua);
    assert.equal(r.framecount, mf.fm2.lines);
    assert.equal(createHash('sha256').update(r.ram).digest('hex'), mf.finalRamSha256, 'FCEUX replaying its own recording: every byte equal');
    for (const ep of ['episode-0001.json', 'session.json']) assert.ok(existsSync(join(base, 'embedded', ep)), `${ep} written (the stopped second episode and the session)`);
  });
});
