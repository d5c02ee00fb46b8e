// Benchmark: Python LockstepEnv.step (via its own `lockstep serve`) vs the raw embedded worker port and an in-process agent, with ratios.
import { readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EmbeddedEmulator, InProcessEmulator } from '../src/emulators/embedded/embeddedEmulator';
import { LockstepRuntime } from '../src/core/runtime/runtime';
import { defaultSyncConfig } from '../src/core/config/config';
import { parseRamMap } from '../src/core/config/ramMap';
import { RandomAgent } from '../src/agents/randomAgent';
import type { AgentAction, AgentPort, Observation } from '../src/core/ports';
import { downsample } from '../src/bridge/screenFrame';
import { demoRomPath, findPackageRoot } from '../src/core/packageRoot';
import { median, roundRatioCells } from './roundStats';
import { rawPort } from './rawPort';
import { WARMUP_FRAMES } from './benchWarmup';

const FRAMES = Number(process.env.BENCH_FRAMES ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const root = findPackageRoot(__dirname);
const romPath = demoRomPath(root);
const PYTHON = join(root, '.cache', 'venv', 'bin', 'python');
const CLI = join(root, 'dist', 'cli.js');
const SCRIPT = join(root, 'bench', 'python_env_steps.py');
const FLOOR_SCRIPT = join(root, 'bench', 'python_floor.py');

/** The random agent, asking for screens and making the gray/4 image a trainer would get from each (the fair twin of Python with screens). */
class ScreenRandomAgent implements AgentPort {
  readonly name = 'random + gray/4 screens';
  readonly wantsScreen = true;
  private readonly inner = new RandomAgent({ seed: 1 });
  pixels = 0;

  act(obs: Observation): Promise<AgentAction> {
    if (obs.screen) this.pixels += downsample(obs.screen, 256, 240, 4, 'gray').pixels.length;
    return this.inner.act(obs);
  }

  async close(): Promise<void> {}
}

/** Frames/s of `lockstep run`'s loop: the runtime on the embedded worker (or, `mainThread`, jsnes on this thread: `--embedded-thread main`) with an in-process agent. */
async function inProcess(screens: boolean, mainThread = false): Promise<Rate> {
  const ramMap = parseRamMap(await readFile(romPath.replace(/\.nes$/, '.rammap.json'), 'utf8'), 'demo.rammap.json');
  const agent: AgentPort = screens ? new ScreenRandomAgent() : new RandomAgent({ seed: 1 });
  const emulator = mainThread ? new InProcessEmulator() : new EmbeddedEmulator();
  const rt = new LockstepRuntime({ emulator, agents: [agent], ramMap, sync: defaultSyncConfig() }, { romPath });
  await rt.start();
  // As `lockstep run` drives it: eager while another frame follows (the next step goes out before this frame's row).
  for (let i = 0; i < WARMUP_FRAMES; i++) await rt.advance({ eager: true });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < FRAMES; i++) await rt.advance({ eager: i + 1 < FRAMES });
  await rt.settle();
  const fps = (FRAMES / (performance.now() - t0)) * 1000;
  const c = process.cpuUsage(c0);
  await rt.close();
  return { rate: fps, nodeCpuUs: (c.user + c.system) / FRAMES };
}

/**
 * A row's rate with the CPU time (user + system, all threads) each side used per step or frame, in microseconds: Node
 * (the in-process run, or the server a Python script talked to) and Python. Wall-clock rates on a shared machine move
 * with its load; CPU time says how much work a step is, apart from the time spent waiting for the other process.
 */
interface Rate { rate: number; nodeCpuUs?: number; pythonCpuUs?: number }

interface PyRate { steps_per_s: number; frames_per_s: number; python_cpu_us?: number; server_cpu_us?: number }

/** Runs a Python script to its last stdout line, a JSON object. */
function pythonJson(args: string[]): Promise<PyRate> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { env: { ...process.env, LOCKSTEP_CLI: CLI }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`${args[0]} exited ${code}: ${err.slice(-2000)}`));
      else resolve(JSON.parse(line) as PyRate);
    });
  });
}

/**
 * The floor of any Python link here: jsnes on this thread runs one frame per byte a bare Python socket client sends and
 * answers with the frame's RAM-map variables as one JSON line (bench/python_floor.py). No WebSocket, no runtime, no env:
 * what is left is the two processes' round trip per frame, the frame itself and the least a trainer reads.
 */
async function pythonFloor(): Promise<Rate> {
  const ramMap = parseRamMap(await readFile(romPath.replace(/\.nes$/, '.rammap.json'), 'utf8'), 'demo.rammap.json');
  const emu = new InProcessEmulator();
  await emu.start(romPath);
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-pyfloor-'));
  const path = join(dir, 'floor.sock');
  // The script times its last FRAMES steps: this process's CPU is taken over the same steps, from the first timed
  // request to the answer of the last.
  let served = 0;
  let c0: NodeJS.CpuUsage | undefined;
  let cpu: NodeJS.CpuUsage | undefined;
  const server = createServer((sock) => {
    let chain: Promise<void> = Promise.resolve();
    sock.on('data', (d: Buffer) => {
      for (const b of d) {
        chain = chain.then(async () => {
          if (served === WARMUP_FRAMES) c0 = process.cpuUsage();
          const f = await emu.step([b & 0xc3, 0]);
          sock.write(`${JSON.stringify(ramMap.read(f))}\n`);
          if (++served === WARMUP_FRAMES + FRAMES) cpu = process.cpuUsage(c0);
        });
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(path, r));
  try {
    const r = await pythonJson([FLOOR_SCRIPT, '--socket', path, '--steps', String(FRAMES), '--warmup', String(WARMUP_FRAMES)]);
    return { rate: r.steps_per_s, nodeCpuUs: cpu ? (cpu.user + cpu.system) / FRAMES : undefined, pythonCpuUs: r.python_cpu_us };
  } finally {
    server.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Python LockstepEnv.step rate: the script starts its own `lockstep serve` (its startup is not timed) and talks to it
 * over the server's Unix-domain socket, with jsnes on the server's main thread, as a made env does; `tcp` uses the
 * 127.0.0.1 port instead, as a trainer joining a running session does; `worker` runs jsnes on a worker thread, as
 * `lockstep serve` does by default.
 */
function python(screen: 'none' | 'gray4', frameskip: number, opts: { tcp?: boolean; worker?: boolean } = {}): Promise<PyRate> {
  return pythonJson([SCRIPT, '--steps', String(FRAMES), '--warmup', String(WARMUP_FRAMES), '--screen', screen, '--frameskip', String(frameskip),
    ...(opts.tcp ? ['--tcp'] : []), ...(opts.worker ? ['--embedded-thread', 'worker'] : [])]);
}

async function main(): Promise<void> {
  for (const [what, path] of [['the project venv (scripts/setup.sh)', PYTHON], ['the built CLI (npm run build)', CLI]]) {
    if (!existsSync(path)) throw new Error(`bench:python needs ${what}: ${path} is missing`);
  }
  const row = (name: string, unit: 'frames/s' | 'steps/s') => ({ name, unit, runs: [] as number[], node: [] as number[], py: [] as number[] });
  const rows = [
    row('raw port: EmbeddedEmulator (worker)', 'frames/s'),
    row('lockstep run: worker + in-process random agent', 'frames/s'),
    row('lockstep run: worker + in-process agent, gray/4 screens', 'frames/s'),
    row('Python env.step, no screens, k=1', 'steps/s'),
    row('Python env.step, gray/4 screens, k=1', 'steps/s'),
    row('Python env.step, no screens, k=4', 'steps/s'),
    row('Python env.step, no screens, k=4 (emulated)', 'frames/s'),
    row('Python env.step, gray/4 screens, k=4 (emulated)', 'frames/s'),
    row('Python env.step, no screens, k=1, loopback TCP', 'steps/s'),
    row('lockstep run --embedded-thread main: in-process random agent', 'frames/s'),
    row('Python env.step, no screens, k=1, jsnes on a worker thread', 'steps/s'),
    row('Python env.step, no screens, k=4 (emulated), jsnes on a worker thread', 'frames/s'),
    row('floor: jsnes on the main thread answering a bare Python socket (a JSON line of variables; no WebSocket, no runtime)', 'steps/s'),
  ];
  const add = (i: number, r: Rate): void => {
    rows[i].runs.push(r.rate);
    if (r.nodeCpuUs !== undefined) rows[i].node.push(r.nodeCpuUs);
    if (r.pythonCpuUs !== undefined) rows[i].py.push(r.pythonCpuUs);
  };
  /** A Python row: steps/s (or emulated frames/s) with the server's and Python's CPU per step (or per emulated frame). */
  const py = (r: PyRate, perFrame = false): Rate => {
    const per = perFrame ? r.steps_per_s / r.frames_per_s : 1;
    return { rate: perFrame ? r.frames_per_s : r.steps_per_s, nodeCpuUs: r.server_cpu_us !== undefined ? r.server_cpu_us * per : undefined, pythonCpuUs: r.python_cpu_us !== undefined ? r.python_cpu_us * per : undefined };
  };
  const jobs: Array<() => Promise<void>> = [
    async () => { add(0, { rate: await rawPort(() => new EmbeddedEmulator(), romPath, FRAMES) }); },
    async () => { add(1, await inProcess(false)); },
    async () => { add(2, await inProcess(true)); },
    async () => { add(3, py(await python('none', 1))); },
    async () => { add(4, py(await python('gray4', 1))); },
    async () => {
      const r = await python('none', 4);
      add(5, py(r));
      add(6, py(r, true));
    },
    async () => { add(7, py(await python('gray4', 4), true)); },
    async () => { add(8, py(await python('none', 1, { tcp: true }))); },
    async () => { add(9, await inProcess(false, true)); },
    async () => { add(10, py(await python('none', 1, { worker: true }))); },
    async () => { add(11, py(await python('none', 4, { worker: true }), true)); },
    async () => { add(12, await pythonFloor()); },
  ];
  // Interleave rounds so machine noise hits every configuration alike.
  for (let r = 0; r < ROUNDS; r++) for (const job of jobs) await job();
  console.log(`Lockstep Python benchmark — ${FRAMES} steps after ${WARMUP_FRAMES} of warm-up x ${ROUNDS} interleaved rounds, demo ROM, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  console.log('');
  console.log('| configuration | rate (median) | unit | runs | Node CPU µs per step or frame (median) | Python CPU µs (median) |');
  console.log('|---|---:|---|---|---:|---:|');
  const cell = (xs: number[]): string => (xs.length ? median(xs).toFixed(0) : '');
  for (const r of rows) console.log(`| ${r.name} | ${median(r.runs).toFixed(0)} | ${r.unit} | ${r.runs.map((x) => x.toFixed(0)).join(', ')} | ${cell(r.node)} | ${cell(r.py)} |`);
  console.log('');
  const ratio = (a: number, b: number): string => roundRatioCells(rows[a].runs, rows[b].runs);
  console.log('| ratio (median of the per-round ratios) | value | range | target |');
  console.log('|---|---:|---|---|');
  console.log(`| Python k=1 no screens / in-process run | ${ratio(3, 1)} | >= 0.9 |`);
  console.log(`| Python k=1 gray/4 / in-process run with gray/4 screens | ${ratio(4, 2)} | >= 0.8 |`);
  console.log(`| Python k=1 gray/4 / in-process run without screens | ${ratio(4, 1)} | (information) |`);
  console.log(`| Python k=4 emulated frames / in-process run | ${ratio(6, 1)} | >= 0.95 |`);
  console.log(`| Python k=4 gray/4 emulated frames / in-process run with gray/4 screens | ${ratio(7, 2)} | (information) |`);
  console.log(`| Python k=1 no screens over loopback TCP / in-process run | ${ratio(8, 1)} | (information) |`);
  console.log(`| in-process run / raw worker port | ${ratio(1, 0)} | (information) |`);
  console.log(`| Python k=1 no screens / in-process run, both with jsnes on the main thread | ${ratio(3, 9)} | (information) |`);
  console.log(`| Python k=4 emulated frames / in-process run, both with jsnes on the main thread | ${ratio(6, 9)} | (information) |`);
  console.log(`| Python k=1 no screens, jsnes on a worker thread / in-process run | ${ratio(10, 1)} | (information) |`);
  console.log(`| Python k=4 emulated frames, jsnes on a worker thread / in-process run | ${ratio(11, 1)} | (information) |`);
  console.log(`| Python floor / in-process run, both with jsnes on the main thread (the most any Python link could reach) | ${ratio(12, 9)} | (information) |`);
  console.log(`| Python k=1 no screens / Python floor (what LockstepEnv.step costs over a bare socket) | ${ratio(3, 12)} | (information) |`);
  // Work per step, apart from waiting: what both processes spend against what the in-process run spends on one thread.
  const both = (i: number): number[] => rows[i].node.map((x, k) => x + (rows[i].py[k] ?? NaN));
  if ([3, 9, 12].every((i) => rows[i].node.length === ROUNDS) && [3, 12].every((i) => rows[i].py.length === ROUNDS)) {
    console.log('');
    console.log('| CPU per step, all processes (median of the per-round ratios) | value | range |');
    console.log('|---|---:|---|');
    console.log(`| Python k=1 no screens (server + Python) / in-process run, jsnes on the main thread | ${roundRatioCells(both(3), rows[9].node)} |`);
    console.log(`| Python floor (Node + Python) / in-process run, jsnes on the main thread | ${roundRatioCells(both(12), rows[9].node)} |`);
    console.log(`| Python k=1 no screens / Python floor | ${roundRatioCells(both(3), both(12))} |`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
