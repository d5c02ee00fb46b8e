// Soak: a million lockstep frames through the embedded emulator (worker) with a random agent, rows counted and recorded; memory sampled as it goes.
//   node --expose-gc --import tsx bench/soak.ts            (SOAK_FRAMES=1000000 by default; SOAK_FRAMES=200000 for a shorter run)
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { EmbeddedEmulator } from '../src/emulators/embedded/embeddedEmulator';
import { LockstepRuntime } from '../src/core/runtime/runtime';
import type { EpisodeEnd, FrameRow, RowSink } from '../src/core/runtime/rows';
import { defaultSyncConfig } from '../src/core/config/config';
import { parseRamMap, type RamMap } from '../src/core/config/ramMap';
import { RandomAgent } from '../src/agents/randomAgent';
import { demoRomPath, findPackageRoot } from '../src/core/packageRoot';
import { readRom } from '../src/emulators/rom';
import type { RomInfo } from '../src/core/ports';

const FRAMES = Number(process.env.SOAK_FRAMES ?? 1_000_000);
const EVERY = Number(process.env.SOAK_EVERY ?? Math.min(100_000, Math.max(1, Math.floor(FRAMES / 10))));
/** Hard stop, so a soak on a starved machine still ends and reports what it saw. */
const MAX_SECONDS = Number(process.env.SOAK_MAX_SECONDS ?? 3600);
/** SOAK_RECORD=0 leaves the real episode recorder out (counting sink only). */
const RECORD = process.env.SOAK_RECORD !== '0';
const KEEP = process.env.SOAK_KEEP === '1';
/**
 * "Flat": from the first checkpoint (after warm-up) to the end, heap used grows by at most FLAT_HEAP_MIB and RSS by at most
 * FLAT_RSS_MIB. A leak of one FrameRow per frame (~1 KB) would add ~1 GB per million frames.
 */
const FLAT_HEAP_MIB = 8;
const FLAT_RSS_MIB = 48;

const MiB = 1024 * 1024;
const root = findPackageRoot(__dirname);
const romPath = demoRomPath(root);

/** Counts rows and checks each episode's rows are consecutive (step and frame), keeping nothing else. */
class CountingSink implements RowSink {
  rows = 0;
  episodes = 0;
  anomalies: string[] = [];
  private episode = -1;
  private nextStep = 0;
  private nextFrame = 0;

  constructor(private readonly downstream?: RowSink) {}

  addRow(row: FrameRow): void {
    this.rows++;
    if (row.episode !== this.episode) {
      if (row.step !== 0) this.note(`episode ${row.episode} starts at step ${row.step}`);
      this.episode = row.episode;
      this.nextFrame = row.frame;
      this.nextStep = 0;
    }
    if (row.step !== this.nextStep || row.frame !== this.nextFrame) {
      this.note(`episode ${row.episode}: got step ${row.step} frame ${row.frame}, expected step ${this.nextStep} frame ${this.nextFrame}`);
    }
    this.nextStep = row.step + 1;
    this.nextFrame = row.frame + 1;
    this.downstream?.addRow(row);
  }

  async endEpisode(end: EpisodeEnd, finalRam: Uint8Array): Promise<void> {
    this.episodes++;
    if (end.rows !== this.nextStep) this.note(`episode ${end.episode} ended with ${end.rows} rows, sink saw ${this.nextStep}`);
    await this.downstream?.endEpisode(end, finalRam);
  }

  truncate(episode: number, rowsKept: number): void {
    this.note(`unexpected truncate(${episode}, ${rowsKept})`);
    this.downstream?.truncate(episode, rowsKept);
  }

  private note(s: string): void {
    if (this.anomalies.length < 20) this.anomalies.push(s);
  }
}

/** The real recorder when this build has one (src/core/episodes/episodeWriter.ts exporting createEpisodeRecorder). */
interface RecorderLike extends RowSink {
  stopOpenEpisode?(frame: number, ram: Uint8Array): Promise<boolean>;
  close?(): Promise<void>;
}
type CreateRecorder = (folder: string, options: { rom: RomInfo; ramMap?: RamMap; emulator?: 'embedded'; session?: string }) =>
  Promise<{ recorder: RecorderLike; folder: string }>;

async function findRecorder(): Promise<{ create: CreateRecorder; from: string } | undefined> {
  for (const name of ['episodes/episodeWriter']) {
    // A computed path: the module may not exist in every build, and the type-check must not depend on it.
    const path = join('..', 'src', 'core', ...name.split('/'));
    try {
      const mod = (await import(path)) as { createEpisodeRecorder?: CreateRecorder };
      if (typeof mod.createEpisodeRecorder === 'function') return { create: mod.createEpisodeRecorder, from: `src/core/${name}.ts` };
    } catch {
      // not in this build
    }
  }
  return undefined;
}

async function folderBytes(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = await folderBytes(p);
      files += sub.files;
      bytes += sub.bytes;
    } else {
      files++;
      bytes += (await stat(p)).size;
    }
  }
  return { files, bytes };
}

interface Sample { frames: number; seconds: number; rssMiB: number; heapMiB: number; externalMiB: number; arrayBuffersMiB: number; fps: number }

const gc = (globalThis as { gc?: () => void }).gc;

function sample(frames: number, t0: number, lastFrames: number, lastT: number): Sample {
  gc?.();
  const m = process.memoryUsage();
  const now = performance.now();
  return {
    frames,
    seconds: (now - t0) / 1000,
    rssMiB: m.rss / MiB,
    heapMiB: m.heapUsed / MiB,
    externalMiB: m.external / MiB,
    arrayBuffersMiB: m.arrayBuffers / MiB,
    fps: frames === lastFrames ? 0 : ((frames - lastFrames) / (now - lastT)) * 1000,
  };
}

async function main(): Promise<void> {
  const ramMap = parseRamMap(readFileSync(romPath.replace(/\.nes$/, '.rammap.json'), 'utf8'), 'demo.rammap.json');
  const found = RECORD ? await findRecorder() : undefined;
  let recordDir: string | undefined;
  let recorder: RecorderLike | undefined;
  if (found) {
    recordDir = await mkdtemp(join(tmpdir(), 'lockstep-soak-'));
    const { info } = await readRom(romPath);
    recorder = (await found.create(recordDir, { rom: info, ramMap, emulator: 'embedded', session: '' })).recorder;
  }
  const sink = new CountingSink(recorder);
  const runtime = new LockstepRuntime(
    { emulator: new EmbeddedEmulator(), agents: [new RandomAgent({ seed: 1 })], ramMap, sync: defaultSyncConfig() },
    { romPath, recorder: sink },
  );
  await runtime.start();

  console.log(`Lockstep soak — ${FRAMES.toLocaleString('en')} frames, demo ROM, EmbeddedEmulator (worker) + random agent`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GB, Node ${process.version}, load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`row sink: counting${found ? ` + the real episode recorder (${found.from}) writing to ${recordDir}` : ' only (no recorder in this build, or SOAK_RECORD=0)'}`);
  if (!gc) console.log('note: run with node --expose-gc for stable heap figures (heap is sampled without a forced GC)');
  console.log('');
  console.log('| frames | s | frames/s (window) | RSS MiB | heap used MiB | external MiB | array buffers MiB |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  const print = (s: Sample) => console.log(`| ${s.frames.toLocaleString('en')} | ${s.seconds.toFixed(0)} | ${s.fps ? s.fps.toFixed(0) : '-'} | ${s.rssMiB.toFixed(1)} | ${s.heapMiB.toFixed(1)} | ${s.externalMiB.toFixed(1)} | ${s.arrayBuffersMiB.toFixed(1)} |`);

  const t0 = performance.now();
  const samples: Sample[] = [sample(0, t0, 0, t0)];
  print(samples[0]);
  let frames = 0;
  let lastT = t0;
  let stoppedEarly = false;
  while (frames < FRAMES) {
    const o = await runtime.advance();
    if (!o.advanced) throw new Error(`the run stopped at frame ${o.frame}`);
    frames++;
    if (frames % EVERY === 0 || frames === FRAMES) {
      const s = sample(frames, t0, samples[samples.length - 1].frames, lastT);
      lastT = performance.now();
      samples.push(s);
      print(s);
      if (s.seconds > MAX_SECONDS && frames < FRAMES) {
        stoppedEarly = true;
        console.log(`stopping early: over SOAK_MAX_SECONDS=${MAX_SECONDS}`);
        break;
      }
    }
  }
  const wall = (performance.now() - t0) / 1000;
  const cur = runtime.current;
  if (recorder && cur) {
    await recorder.stopOpenEpisode?.(cur.frame, cur.ram);
    await recorder.close?.();
  }
  await runtime.close();

  const first = samples[Math.min(1, samples.length - 1)];
  const last = samples[samples.length - 1];
  const heapGrowth = last.heapMiB - first.heapMiB;
  const rssGrowth = last.rssMiB - first.rssMiB;
  const flat = heapGrowth <= FLAT_HEAP_MIB && rssGrowth <= FLAT_RSS_MIB;
  const expectedRows = frames;
  console.log('');
  console.log(`frames ${frames.toLocaleString('en')} in ${wall.toFixed(1)} s: ${(frames / wall).toFixed(0)} frames/s overall${stoppedEarly ? ' (stopped early)' : ''}`);
  console.log(`rows ${sink.rows.toLocaleString('en')} (expected ${expectedRows.toLocaleString('en')}), episodes ended ${sink.episodes}, anomalies ${sink.anomalies.length}${sink.anomalies.length ? ': ' + sink.anomalies.join('; ') : ''}`);
  console.log(`desyncs ${runtime.detector.total()}`);
  if (recordDir) {
    const { files, bytes } = await folderBytes(recordDir);
    console.log(`recorder wrote ${files} files, ${(bytes / MiB).toFixed(1)} MiB${KEEP ? ` (kept in ${recordDir})` : ' (deleted)'}`);
    if (!KEEP) await rm(recordDir, { recursive: true, force: true });
  }
  console.log(`memory from ${first.frames.toLocaleString('en')} frames to the end: heap ${heapGrowth >= 0 ? '+' : ''}${heapGrowth.toFixed(1)} MiB (bound ${FLAT_HEAP_MIB}), RSS ${rssGrowth >= 0 ? '+' : ''}${rssGrowth.toFixed(1)} MiB (bound ${FLAT_RSS_MIB}) -> ${flat ? 'flat' : 'NOT flat'}`);
  console.log(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (!flat || sink.anomalies.length > 0 || sink.rows !== expectedRows) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
