// Benchmark: real FCEUX free-running (a Lua script that only advances frames) vs FCEUX in lockstep through Lockstep, without and with screens.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { FceuxEmulator, type FceuxStateTransport } from '../src/emulators/fceux/fceuxEmulator';
import { locateFceux } from '../src/emulators/fceux/fceuxLocator';
import { LockstepRuntime } from '../src/core/runtime';
import { defaultSyncConfig } from '../src/core/config';
import { parseRamMap } from '../src/core/ramMap';
import { RandomAgent } from '../src/agents/randomAgent';
import { demoRomPath, findPackageRoot } from '../src/core/packageRoot';

const FRAMES = Number(process.env.BENCH_FRAMES ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** BENCH_COMPARE=1 adds the older state transports (JSON + base64, binary with socket screens) for comparison. */
const COMPARE = process.env.BENCH_COMPARE === '1';
const root = findPackageRoot(__dirname);
const romPath = demoRomPath(root);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** FCEUX alone: unthrottled, advancing frames in Lua, timed with the wall clock inside FCEUX. */
function freeRunning(): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-fceux-'));
  const script = join(home, 'free.lua');
  writeFileSync(script, [
    'local socket = require("socket")',
    'emu.speedmode("maximum")',
    'emu.frameadvance()',
    'local t0 = socket.gettime()',
    `for i = 1, ${FRAMES} do emu.frameadvance() end`,
    'local dt = socket.gettime() - t0',
    `io.stdout:write(string.format("FPS %.1f\\n", ${FRAMES} / dt)); io.stdout:flush()`,
    'emu.exit()',
  ].join('\n'));
  return new Promise((resolve, reject) => {
    const p = spawn(locateFceux(undefined), ['--videoDriver', '1', '--no-config', '1', '--sound', '0', '--loadlua', script, romPath], {
      env: { ...process.env, FCEUX_HOME: home, QT_QPA_PLATFORM: 'offscreen', SDL_AUDIODRIVER: 'dummy' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('exit', () => {
      clearTimeout(deadline);
      rmSync(home, { recursive: true, force: true });
      const m = /FPS ([\d.]+)/.exec(out);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`free-running FCEUX printed no FPS line: ${out.slice(-300)}`));
    });
  });
}

/** FCEUX through the runtime: every frame waits for the action, 2 KB of RAM per state, optionally the screen. */
async function lockstep(screens: boolean, stateTransport: FceuxStateTransport = 'file'): Promise<number> {
  const ramMap = parseRamMap(await readFile(romPath.replace(/\.nes$/, '.rammap.json'), 'utf8'), 'demo.rammap.json');
  const rt = new LockstepRuntime(
    { emulator: new FceuxEmulator({ stateTransport }), agents: [new RandomAgent({ seed: 1 })], ramMap, sync: defaultSyncConfig() },
    { romPath, captureScreens: screens },
  );
  try {
    await rt.start();
    const t0 = performance.now();
    for (let i = 0; i < FRAMES; i++) await rt.advance();
    return (FRAMES / (performance.now() - t0)) * 1000;
  } finally {
    await rt.close();
  }
}

/** FceuxEmulator.step alone, without the runtime: what the link costs by itself. */
async function rawSteps(screen: boolean): Promise<number> {
  const emu = new FceuxEmulator({});
  try {
    await emu.start(romPath, { screen });
    const t0 = performance.now();
    for (let i = 0; i < FRAMES; i++) await emu.step([i & 0xff, 0], { screen });
    return (FRAMES / (performance.now() - t0)) * 1000;
  } finally {
    await emu.close();
  }
}

async function main(): Promise<void> {
  const rows = [
    { name: 'FCEUX free-running (Lua frameadvance only)', job: () => freeRunning(), runs: [] as number[] },
    { name: 'FCEUX lockstep, no screens (2 KB RAM per frame)', job: () => lockstep(false), runs: [] as number[] },
    { name: 'FCEUX lockstep, screen every frame', job: () => lockstep(true), runs: [] as number[] },
    { name: 'FceuxEmulator.step alone, no screens', job: () => rawSteps(false), runs: [] as number[] },
    { name: 'FceuxEmulator.step alone, screen every frame', job: () => rawSteps(true), runs: [] as number[] },
  ];
  if (COMPARE) {
    rows.push(
      { name: 'lockstep, no screens, JSON + base64 states', job: () => lockstep(false, 'json'), runs: [] },
      { name: 'lockstep, screens, JSON states + socket screens', job: () => lockstep(true, 'json'), runs: [] },
      { name: 'lockstep, screens, binary states + socket screens', job: () => lockstep(true, 'binary'), runs: [] },
    );
  }
  const loadBefore = loadavg();
  for (let r = 0; r < ROUNDS; r++) for (const row of rows) row.runs.push(await row.job());
  const loadAfter = loadavg();
  const fps = rows.map((r) => median(r.runs));
  console.log(`FCEUX benchmark — ${FRAMES} frames x ${ROUNDS} rounds (median), demo ROM, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`load average (1, 5, 15 min): ${load(loadBefore)} before, ${load(loadAfter)} after — other processes skew the figures`);
  console.log('');
  console.log('| configuration | frames/s | runs |');
  console.log('|---|---:|---|');
  rows.forEach((r, i) => console.log(`| ${r.name} | ${fps[i].toFixed(0)} | ${r.runs.map((x) => x.toFixed(0)).join(', ')} |`));
  console.log('');
  console.log('| ratio | value | target |');
  console.log('|---|---:|---|');
  console.log(`| lockstep without screens / free-running | ${(fps[1] / fps[0]).toFixed(3)} | >= 0.8 |`);
  console.log(`| lockstep with screens / free-running | ${(fps[2] / fps[0]).toFixed(3)} | >= 0.45 |`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
