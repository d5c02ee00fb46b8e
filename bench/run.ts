// Benchmark: raw emulator speed vs lockstep speed through the core with an in-process agent, side by side, with ratios.
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { NesMachine } from '../src/emulators/embedded/nesMachine';
import { EmbeddedEmulator, InProcessEmulator } from '../src/emulators/embedded/embeddedEmulator';
import type { EmulatorPort } from '../src/core/ports';
import { LockstepRuntime } from '../src/core/runtime/runtime';
import { defaultSyncConfig } from '../src/core/config/config';
import { parseRamMap } from '../src/core/config/ramMap';
import { RandomAgent } from '../src/agents/randomAgent';
import { demoRomPath, findPackageRoot } from '../src/core/packageRoot';
import { Prng } from '../src/core/prng';
import { median, roundRatioCells } from './roundStats';
import { rawPort } from './rawPort';
import { WARMUP_FRAMES } from './benchWarmup';

const FRAMES = Number(process.env.BENCH_FRAMES ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const root = findPackageRoot(__dirname);
const romPath = demoRomPath(root);

/** Frames/s of jsnes alone on this thread: no ports, no copies beyond the frame itself. */
async function rawMachine(): Promise<number> {
  const m = await NesMachine.create(new Uint8Array(await readFile(romPath)));
  const rng = new Prng(1);
  for (let i = 0; i < WARMUP_FRAMES; i++) m.frame([rng.int(256) & 0xc3, 0]);
  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i++) m.frame([rng.int(256) & 0xc3, 0]);
  return (FRAMES / (performance.now() - t0)) * 1000;
}

/** Frames/s through the lockstep runtime: gate, detector, buffers, metrics, rewards, with a built-in agent. */
async function lockstep(make: () => EmulatorPort): Promise<number> {
  const ramMap = parseRamMap(await readFile(romPath.replace(/\.nes$/, '.rammap.json'), 'utf8'), 'demo.rammap.json');
  const rt = new LockstepRuntime(
    { emulator: make(), agents: [new RandomAgent({ seed: 1 })], ramMap, sync: defaultSyncConfig() },
    { romPath },
  );
  await rt.start();
  for (let i = 0; i < WARMUP_FRAMES; i++) await rt.advance();
  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i++) await rt.advance();
  const fps = (FRAMES / (performance.now() - t0)) * 1000;
  await rt.close();
  return fps;
}

async function main(): Promise<void> {
  const rows: Array<{ name: string; runs: number[] }> = [
    { name: 'raw jsnes (NesMachine, this thread)', runs: [] },
    { name: 'raw port: InProcessEmulator', runs: [] },
    { name: 'lockstep: InProcessEmulator + random agent', runs: [] },
    { name: 'raw port: EmbeddedEmulator (worker)', runs: [] },
    { name: 'lockstep: EmbeddedEmulator (worker) + random agent', runs: [] },
  ];
  const jobs = [
    () => rawMachine(),
    () => rawPort(() => new InProcessEmulator(), romPath, FRAMES),
    () => lockstep(() => new InProcessEmulator()),
    () => rawPort(() => new EmbeddedEmulator(), romPath, FRAMES),
    () => lockstep(() => new EmbeddedEmulator()),
  ];
  // Interleave rounds so machine noise hits every configuration alike.
  for (let r = 0; r < ROUNDS; r++) for (let j = 0; j < jobs.length; j++) rows[j].runs.push(await jobs[j]());
  const fps = rows.map((r) => median(r.runs));
  console.log(`Lockstep benchmark — ${FRAMES} frames after ${WARMUP_FRAMES} of warm-up x ${ROUNDS} interleaved rounds, demo ROM, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  console.log('');
  console.log('| configuration | frames/s (median) | runs |');
  console.log('|---|---:|---|');
  rows.forEach((r, i) => console.log(`| ${r.name} | ${fps[i].toFixed(0)} | ${r.runs.map((x) => x.toFixed(0)).join(', ')} |`));
  console.log('');
  const ratio = (a: number, b: number): string => roundRatioCells(rows[a].runs, rows[b].runs);
  console.log('| ratio (median of the per-round ratios) | value | range | target |');
  console.log('|---|---:|---|---|');
  console.log(`| lockstep / raw port, in-process | ${ratio(2, 1)} | >= 0.9 |`);
  console.log(`| lockstep / raw port, worker | ${ratio(4, 3)} | >= 0.9 |`);
  console.log(`| lockstep in-process / raw jsnes | ${ratio(2, 0)} | (information) |`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
