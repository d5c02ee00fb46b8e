// Session history: a long session of the demo ROM on the embedded emulator (worker) or real FCEUX, then the time to restore
// random frames of it, the memory the history holds, and the per-frame cost of keeping it against runs without (interleaved).
//   npm run bench:history                       (216,000 frames: one hour of NES play, embedded emulator)
//   npm run bench:history -- --fceux            (72,000 frames: 20 minutes on FCEUX, keyframes as Lua in-memory savestates)
//   npm run bench:history -- --frames 36000 --restores 300 --rounds 5 --round-frames 3000
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { EmbeddedEmulator } from '../src/emulators/embedded/embeddedEmulator';
import { FceuxEmulator } from '../src/emulators/fceux/fceuxEmulator';
import { LockstepRuntime } from '../src/core/runtime/runtime';
import { defaultSyncConfig } from '../src/core/config/config';
import { parseRamMap } from '../src/core/config/ramMap';
import { RandomAgent } from '../src/agents/randomAgent';
import { demoRomPath, findPackageRoot } from '../src/core/packageRoot';
import { Prng } from '../src/core/prng';
import { median, roundRatioCells } from './roundStats';

function flag<T extends number | undefined>(name: string, fallback: T): number | T {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${process.argv[i + 1]}`);
  return v;
}

/** --fceux: the session runs on real FCEUX (lua/lockstep.lua), whose target is restore p99 <= 100 ms over 20 minutes. */
const FCEUX = process.argv.includes('--fceux');
const FRAMES = flag('frames', FCEUX ? 72_000 : 216_000);
const RESTORE_TARGET_MS = FCEUX ? 100 : 50;
const RESTORES = flag('restores', 300);
const ROUNDS = flag('rounds', 5);
const ROUND_FRAMES = flag('round-frames', 3000);
/** Unset: the interval the emulator suggests (the session history's default). */
const KEYFRAME_EVERY = flag('keyframe-every', undefined);
const WARMUP = 600;

const root = findPackageRoot(__dirname);
const romPath = demoRomPath(root);
// The built worker, as the extension and CLI run it (the bench script builds first).
const workerPath = join(root, 'dist', 'embeddedWorker.js');
const ramMap = parseRamMap(readFileSync(romPath.replace(/\.nes$/, '.rammap.json'), 'utf8'), 'demo.rammap.json');

function runtime(history: boolean, seed: number, fceux: FceuxEmulator | undefined = FCEUX ? new FceuxEmulator({}) : undefined): LockstepRuntime {
  return new LockstepRuntime(
    { emulator: fceux ?? new EmbeddedEmulator({ workerPath }), agents: [new RandomAgent({ seed })], ramMap, sync: defaultSyncConfig() },
    { romPath, ...(history ? { history: KEYFRAME_EVERY === undefined ? {} : { keyframeEvery: KEYFRAME_EVERY } } : {}) },
  );
}

/**
 * Milliseconds per frame over `frames` frames after a warm-up (the worker's JIT starts several times slower), and this
 * process's CPU time per frame in microseconds (every thread: main, the emulator worker, the zlib thread pool), which
 * other processes on a shared machine sway far less than the wall clock.
 */
async function perFrame(history: boolean, seed: number): Promise<{ ms: number; cpuUs: number }> {
  const rt = runtime(history, seed);
  await rt.start();
  for (let i = 0; i < WARMUP; i++) await rt.advance();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < ROUND_FRAMES; i++) await rt.advance();
  const ms = (performance.now() - t0) / ROUND_FRAMES;
  // Keyframes still compressing belong to these frames' cost.
  if (history) await rt.sessionHistory!.stats();
  const cpu = process.cpuUsage(c0);
  await rt.close();
  return { ms, cpuUs: (cpu.user + cpu.system) / ROUND_FRAMES };
}

/** Resident memory of a process in bytes (Linux /proc), or null: how much FCEUX itself holds for the Lua bridge's savestates. */
function rssBytes(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const mib = (n: number) => (n / 1048576).toFixed(1);

async function main(): Promise<void> {
  console.log(`# history bench (${FCEUX ? 'FCEUX' : 'embedded emulator'}): ${FRAMES} frames, keyframe every ${KEYFRAME_EVERY ?? 'as the emulator suggests'}; ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  // 1. The long session.
  const fceux = FCEUX ? new FceuxEmulator({}) : undefined;
  const rt = runtime(true, 1, fceux);
  await rt.start();
  const emulatorPid = fceux?.pid;
  const rss0 = rssBytes(emulatorPid);
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
  const rss1 = rssBytes(emulatorPid);
  // FCEUX's own growth over the session: its savestates and whatever the Lua bridge keeps with them.
  const fceuxGrowth = rss0 !== null && rss1 !== null ? rss1 - rss0 : null;

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
  const withCpu: number[] = [];
  const withoutCpu: number[] = [];
  const measure = async (history: boolean, seed: number) => {
    const { ms, cpuUs } = await perFrame(history, seed);
    (history ? withH : without).push(ms);
    (history ? withCpu : withoutCpu).push(cpuUs);
  };
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      await measure(true, 10 + r);
      await measure(false, 10 + r);
    } else {
      await measure(false, 10 + r);
      await measure(true, 10 + r);
    }
  }

  console.log('');
  console.log('| measure | value | target |');
  console.log('|---|---|---|');
  console.log(`| session | ${h.headTick + 1} frames in ${h.episodes.length} episodes, run in ${runS.toFixed(0)} s (${((h.headTick + 1) / runS).toFixed(0)} frames/s) | ${FCEUX ? '72,000' : '216,000'} |`);
  console.log(`| keyframe every | ${h.keyframeEvery} ticks | |`);
  console.log(`| oldest reachable frame | tick ${stats.oldestTick} | 0 |`);
  console.log(`| restore a random frame (${RESTORES}) | p50 ${pct(times, 50).toFixed(1)} ms, p99 ${pct(times, 99).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms | p99 <= ${RESTORE_TARGET_MS} ms |`);
  console.log(`| history memory | ${mib(held)} MiB: keyframes ${mib(stats.keyframeBytes)} MiB${FCEUX ? ' (estimated: FCEUX does not say how big its savestates are)' : ''} (${stats.keyframes}), RAM log ${mib(stats.ramLogBytes)} MiB, tables ${mib(stats.tableBytes)} MiB | <= 256 MiB |`);
  if (FCEUX) console.log(`| FCEUX process growth over the session (resident memory) | ${fceuxGrowth === null ? 'unknown (no /proc)' : `${mib(fceuxGrowth)} MiB`} | <= 256 MiB with the above |`);
  console.log(`| ms/frame with history (median of ${ROUNDS} x ${ROUND_FRAMES}) | ${median(withH).toFixed(3)} | |`);
  console.log(`| ms/frame without history | ${median(without).toFixed(3)} | |`);
  console.log(`| with / without, per round (median, min–max) | ${roundRatioCells(withH, without)} | <= 1.05 |`);
  console.log(`| CPU µs/frame, all threads, with / without history (medians) | ${median(withCpu).toFixed(0)} / ${median(withoutCpu).toFixed(0)} | |`);
  console.log(`| CPU with / without, per round (median, min–max) | ${roundRatioCells(withCpu, withoutCpu)} | |`);
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
