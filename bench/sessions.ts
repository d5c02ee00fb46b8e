// Load: 8 lockstep sessions side by side (embedded emulator + random agent each), total and per-session frames/s against one alone.
//   node --import tsx bench/sessions.ts                       (SESSIONS=8, SESSIONS_FRAMES=3000; one process, a worker per emulator)
//   SESSIONS_MODE=processes node --import tsx bench/sessions.ts   (one `lockstep run` process per session instead)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { EmbeddedEmulator } from '../src/emulators/embedded/embeddedEmulator';
import { LockstepRuntime } from '../src/core/runtime/runtime';
import type { FrameRow, RowSink } from '../src/core/runtime/rows';
import { defaultSyncConfig } from '../src/core/config/config';
import { parseRamMap } from '../src/core/config/ramMap';
import { RandomAgent } from '../src/agents/randomAgent';
import { demoRomPath, findPackageRoot } from '../src/core/packageRoot';
import { median } from './roundStats';

const SESSIONS = Number(process.env.SESSIONS ?? 8);
const FRAMES = Number(process.env.SESSIONS_FRAMES ?? 3000);
const MODE = process.env.SESSIONS_MODE ?? 'threads';
/** Every session must be done by then, or the bench fails (bounded in time on any machine). */
const DEADLINE_MS = Number(process.env.SESSIONS_DEADLINE_MS ?? 600_000);
/** Frames each session runs before the clock starts (threads mode), so every worker's JIT is warm: jsnes starts several times slower. */
const WARMUP = Number(process.env.SESSIONS_WARMUP ?? 500);

const root = findPackageRoot(__dirname);
const romPath = demoRomPath(root);
const ramMap = parseRamMap(readFileSync(romPath.replace(/\.nes$/, '.rammap.json'), 'utf8'), 'demo.rammap.json');

interface Result { session: number; frames: number; ms: number; fps: number; rowsOk: boolean }

/** Counts rows and checks they are consecutive within each episode. */
class CheckingSink implements RowSink {
  rows = 0;
  ok = true;
  private last?: FrameRow;
  addRow(row: FrameRow): void {
    const l = this.last;
    if (l && l.episode === row.episode && (row.step !== l.step + 1 || row.frame !== l.frame + 1)) this.ok = false;
    if (l && l.episode !== row.episode && row.step !== 0) this.ok = false;
    this.last = row;
    this.rows++;
  }
  endEpisode(): void {}
  truncate(): void {
    this.ok = false;
  }
}

/** N runtimes in this process, each emulator in its own worker thread, all advancing at once. */
async function inThreads(n: number): Promise<{ results: Result[]; wallMs: number }> {
  const sessions = Array.from({ length: n }, (_, i) => {
    const sink = new CheckingSink();
    const runtime = new LockstepRuntime(
      { emulator: new EmbeddedEmulator(), agents: [new RandomAgent({ seed: i + 1 })], ramMap, sync: defaultSyncConfig() },
      { romPath, recorder: sink },
    );
    return { runtime, sink };
  });
  await Promise.all(sessions.map((s) => s.runtime.start()));
  await Promise.all(sessions.map(async (s) => { for (let f = 0; f < WARMUP; f++) await s.runtime.advance(); }));
  for (const s of sessions) s.sink.rows -= WARMUP;
  const t0 = performance.now();
  const results = await Promise.all(sessions.map(async ({ runtime, sink }, i): Promise<Result> => {
    const start = performance.now();
    for (let f = 0; f < FRAMES; f++) await runtime.advance();
    const ms = performance.now() - start;
    return { session: i, frames: FRAMES, ms, fps: (FRAMES / ms) * 1000, rowsOk: sink.ok && sink.rows === FRAMES };
  }));
  const wallMs = performance.now() - t0;
  await Promise.all(sessions.map((s) => s.runtime.close()));
  return { results, wallMs };
}

/** N `lockstep run` processes (the CLI from source under tsx); each reports its own frames/s in its JSON summary. */
async function inProcesses(n: number): Promise<{ results: Result[]; wallMs: number }> {
  const cli = join(root, 'src', 'cli', 'main.ts');
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: n }, (_, i) => new Promise<Result>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'run', '--frames', String(FRAMES), '--seed', String(i + 1), '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`session ${i} exited ${code}: ${err.slice(-500)}`));
      const s = JSON.parse(out.trim().split('\n').at(-1)!) as { frames: number; wallMs: number; rows: number };
      resolve({ session: i, frames: s.frames, ms: s.wallMs, fps: (s.frames / s.wallMs) * 1000, rowsOk: s.rows === s.frames });
    });
  })));
  return { results, wallMs: performance.now() - t0 };
}

async function main(): Promise<void> {
  const run = MODE === 'processes' ? inProcesses : inThreads;
  if (MODE !== 'processes' && MODE !== 'threads') throw new Error(`SESSIONS_MODE must be threads or processes, got ${MODE}`);
  const deadline = setTimeout(() => {
    console.error(`over the ${DEADLINE_MS} ms deadline`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  console.log(`Lockstep load — ${SESSIONS} sessions x ${FRAMES} frames (${MODE}${MODE === 'threads' ? `, after ${WARMUP} warm-up frames each` : ''}), demo ROM, EmbeddedEmulator + random agent each`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GB, Node ${process.version}, load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const alone = await run(1);
  const together = await run(SESSIONS);
  const fps = together.results.map((r) => r.fps);
  const sum = fps.reduce((a, b) => a + b, 0);
  // Processes start at different times (each loads tsx first): their own clocks give the honest total.
  const total = MODE === 'threads' ? (SESSIONS * FRAMES) / (together.wallMs / 1000) : sum;
  console.log('');
  console.log('| session | frames | s | frames/s | rows intact |');
  console.log('|---:|---:|---:|---:|---|');
  for (const r of together.results) console.log(`| ${r.session} | ${r.frames} | ${(r.ms / 1000).toFixed(1)} | ${r.fps.toFixed(0)} | ${r.rowsOk ? 'yes' : 'NO'} |`);
  console.log('');
  console.log('| figure | value |');
  console.log('|---|---:|');
  console.log(`| one session alone, frames/s | ${alone.results[0].fps.toFixed(0)} |`);
  console.log(`| ${SESSIONS} sessions: total frames/s (${MODE === 'threads' ? 'all frames / wall time' : 'sum of per-session frames/s'}) | ${total.toFixed(0)} |`);
  console.log(`| ${SESSIONS} sessions: per-session frames/s, min / median / max | ${Math.min(...fps).toFixed(0)} / ${median(fps).toFixed(0)} / ${Math.max(...fps).toFixed(0)} |`);
  console.log(`| total / one alone | ${(total / alone.results[0].fps).toFixed(2)} |`);
  console.log(`| RSS of this process at the end, MiB | ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} |`);
  console.log(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (together.results.some((r) => !r.rowsOk) || !alone.results[0].rowsOk) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
