// Session history: a long session of the demo ROM on the embedded emulator (worker), then the time to restore random
// frames of it, the memory the history holds, and the per-frame cost of keeping it against runs without (interleaved).
//   npm run bench:history                       (216,000 frames: one hour of NES play)
//   npm run bench:history -- --frames 36000 --restores 300 --rounds 5 --round-frames 3000
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { EmbeddedEmulator } from '../src/emulators/embedded/embeddedEmulator';
import { LockstepRuntime } from '../src/core/runtime/runtime';
import { defaultSyncConfig } from '../src/core/config/config';
import { parseRamMap } from '../src/core/config/ramMap';
import { RandomAgent } from '../src/agents/randomAgent';
import { demoRomPath, findPackageRoot } from '../src/core/packageRoot';
import { Prng } from '../src/core/prng';
import { median, roundRatioCells } from './roundStats';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${process.argv[i + 1]}`);
  return v;
}

const FRAMES = flag('frames', 216_000);
const RESTORES = flag('restores', 300);
const ROUNDS = flag('rounds', 5);
const ROUND_FRAMES = flag('round-frames', 3000);
const KEYFRAME_EVERY = flag('keyframe-every', 12);
const WARMUP = 600;

const root = findPackageRoot(__dirname);
const romPath = demoRomPath(root);
// The built worker, as the extension and CLI run it (the bench script builds first).
const workerPath = join(root, 'dist', 'embeddedWorker.js');
const ramMap = parseRamMap(readFileSync(romPath.replace(/\.nes$/, '.rammap.json'), 'utf8'), 'demo.rammap.json');

function runtime(history: boolean, seed: number): LockstepRuntime {
  return new LockstepRuntime(
    { emulator: new EmbeddedEmulator({ workerPath }), agents: [new RandomAgent({ seed })], ramMap, sync: defaultSyncConfig() },
    { romPath, ...(history ? { history: { keyframeEvery: KEYFRAME_EVERY } } : {}) },
  );
}

/** Milliseconds per frame over `frames` frames after a warm-up (the worker's JIT starts several times slower). */
async function perFrame(history: boolean, seed: number): Promise<number> {
  const rt = runtime(history, seed);
  await rt.start();
  for (let i = 0; i < WARMUP; i++) await rt.advance();
  const t0 = performance.now();
  for (let i = 0; i < ROUND_FRAMES; i++) await rt.advance();
  const ms = (performance.now() - t0) / ROUND_FRAMES;
  await rt.close();
  return ms;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const mib = (n: number) => (n / 1048576).toFixed(1);

async function main(): Promise<void> {
  console.log(`# history bench: ${FRAMES} frames, keyframe every ${KEYFRAME_EVERY}; ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  // 1. The long session.
  const rt = runtime(true, 1);
  await rt.start();
  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i++) {
    await rt.advance();
    if ((i + 1) % 36_000 === 0) console.log(`  ${i + 1} frames, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const runS = (performance.now() - t0) / 1000;
  const h = rt.sessionHistory!;
  await new Promise((r) => setTimeout(r, 200)); // the last keyframes finish compressing
  const stats = await h.stats();
  const held = stats.keyframeBytes + stats.ramLogBytes + stats.tableBytes;

  // 2. Restores of random frames anywhere in the session (as travel does them: keyframe + replay + guard).
  const rng = new Prng(42);
  const times: number[] = [];
  for (let i = 0; i < RESTORES; i++) {
    const tick = stats.oldestTick + rng.int(h.headTick - stats.oldestTick + 1);
    const s = performance.now();
    const r = await h.restore(tick);
    times.push(performance.now() - s);
    if (r.frame.frame !== h.stateAt(tick).frame) throw new Error(`restore of tick ${tick} reached frame ${r.frame.frame}`);
  }
  await rt.close();

  // 3. Per-frame overhead, interleaved rounds (order alternates), fresh runtimes each.
  const withH: number[] = [];
  const without: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      withH.push(await perFrame(true, 10 + r));
      without.push(await perFrame(false, 10 + r));
    } else {
      without.push(await perFrame(false, 10 + r));
      withH.push(await perFrame(true, 10 + r));
    }
  }

  console.log('');
  console.log('| measure | value | target |');
  console.log('|---|---|---|');
  console.log(`| session | ${h.headTick + 1} frames in ${h.episodes.length} episodes, run in ${runS.toFixed(0)} s (${((h.headTick + 1) / runS).toFixed(0)} frames/s) | 216,000 |`);
  console.log(`| oldest reachable frame | tick ${stats.oldestTick} | 0 |`);
  console.log(`| restore a random frame (${RESTORES}) | p50 ${pct(times, 50).toFixed(1)} ms, p99 ${pct(times, 99).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms | p99 <= 50 ms |`);
  console.log(`| history memory | ${mib(held)} MiB: keyframes ${mib(stats.keyframeBytes)} MiB (${stats.keyframes}), RAM log ${mib(stats.ramLogBytes)} MiB, tables ${mib(stats.tableBytes)} MiB | <= 256 MiB |`);
  console.log(`| ms/frame with history (median of ${ROUNDS} x ${ROUND_FRAMES}) | ${median(withH).toFixed(3)} | |`);
  console.log(`| ms/frame without history | ${median(without).toFixed(3)} | |`);
  console.log(`| with / without, per round (median, min–max) | ${roundRatioCells(withH, without)} | <= 1.05 |`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
