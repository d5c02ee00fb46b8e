// `lockstep run`: runs frames in lockstep, shows progress on a terminal, and prints a summary (one JSON object as the last line with --json).
import { clockDriftRecords, type ClockDriftRecord } from '../core/sync/clockSyncScheduler';
import { buildSession, type BuiltSession } from '../session/sessionBuilder';
import { describeAgentSpec } from '../session/sessionSpec';
import { ramHash } from '../core/episodes/ramHash';
import type { DesyncEvent } from '../core/sync/desyncDetector';
import type { MetricsSnapshot } from '../core/sync/metrics';
import type { EpisodeEnd } from '../core/runtime/rows';
import { cliSession, SESSION_OPTIONS, SESSION_OPTIONS_HELP } from './cliOptions';
import { parseCommandLine } from './commandLine';
import { createRecorderFor } from '../session/recorderFor';
import { EXIT_FAILED, EXIT_OK, EXIT_STATUS_HELP, UsageError } from './usageError';

const DEFAULT_FRAMES = 3000;

export const RUN_USAGE = `lockstep run — run a ROM with agents in lockstep and print a summary

Usage: lockstep run [options]

Stops after --frames frames, after --episodes episodes, at whichever comes first; with neither, after ${DEFAULT_FRAMES} frames.

Options:
  --frames N              stop after N frames (N >= 1)
  --episodes N            stop after N episodes have ended (N >= 1)
  --json                  print one JSON summary object as the last line
${SESSION_OPTIONS_HELP}
${EXIT_STATUS_HELP}`;

export interface RunSummary {
  rom: { name: string; md5: string; path: string };
  emulator: string;
  agents: string[];
  seed: number;
  frames: number;
  episodes: number;
  rows: number;
  wallMs: number;
  fps: number;
  desyncTotal: number;
  desyncs: Record<string, number>;
  /** Sync metrics over the last window of frames (delays, agent latency, sync quality, clocks: each peer's offset and round trip); the run's fps is `fps` above. */
  metrics: Omit<MetricsSnapshot, 'fps'>;
  /** Every clock_drift: which peer's clock moved, and by how much. */
  clockDrifts: ClockDriftRecord[];
  ramHash: string;
  lastFrame: number;
  episodeEnds: Array<Pick<EpisodeEnd, 'episode' | 'rows' | 'terminationFrame' | 'reason' | 'returns'>>;
  record?: string;
  fault?: string;
}

export async function runCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, SESSION_OPTIONS);
  if (parsed.help) {
    process.stdout.write(RUN_USAGE);
    return EXIT_OK;
  }
  const cli = await cliSession(parsed.values, { agent: 'random' });
  const log = (level: 'info' | 'warn' | 'error', message: string) => {
    if (level !== 'info' || !cli.json) process.stderr.write(`[${level}] ${message}\n`);
  };
  let built: BuiltSession | undefined;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    built?.runtime.interruptWait();
  };
  process.on('SIGINT', onSigint);
  try {
    // Up to the first frame everything depends only on what the command was given: a failure there is exit 2, not a failed run.
    let recorder;
    try {
      recorder = cli.spec.record ? await createRecorderFor(cli.spec) : undefined;
      built = await buildSession(cli.spec, { log, workspaceSync: cli.workspaceSync, recorder: recorder?.sink });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { runtime } = built;
    const desyncLog: DesyncEvent[] = [];
    runtime.events.on('desync', (e) => {
      desyncLog.push(e);
      if (!cli.json) process.stderr.write(`[desync] frame ${e.frame}: ${e.type}: ${e.message}${e.recovery ? ` -> ${e.recovery}` : ''}\n`);
    });
    runtime.events.on('log', (e) => log(e.level, e.message));
    const ends: EpisodeEnd[] = [];
    runtime.events.on('episodeEnd', (e) => ends.push(e));
    if (cli.spec.agents.some((a) => a?.type === 'websocket') && built.bridge) {
      process.stderr.write(`waiting for trainer: ws://127.0.0.1:${built.bridge.port}/agent token ${built.bridge.token}\n`);
    }
    const t0 = performance.now();
    try {
      await runtime.start();
    } catch (e) {
      // Loading the ROM into the emulator (not found, not a ROM, unsupported mapper, FCEUX missing): the run could not start.
      throw new UsageError((e as Error).message);
    }
    const target = cli.frames ?? (cli.episodes !== undefined ? Infinity : DEFAULT_FRAMES);
    const progress = process.stderr.isTTY && !cli.json ? new Progress(target) : undefined;
    let frames = 0;
    let fault: string | undefined;
    try {
      while (frames < target && !interrupted) {
        // Eager while another frame is sure to follow: the emulator runs the next frame while this one is recorded.
        // An episode's last frame never sends the next step, so --episodes stops exactly at its end.
        const o = await runtime.advance({ eager: frames + 1 < target });
        if (!o.advanced) break;
        frames++;
        progress?.update(frames, runtime.current?.frame ?? 0, runtime.detector.total());
        if (cli.episodes !== undefined && ends.length >= cli.episodes) break;
      }
      // Interrupted (Ctrl+C) with a step already sent: that frame ran, so its row is recorded and counted.
      if ((await runtime.settle())?.advanced) frames++;
    } catch (e) {
      fault = (e as Error).message;
    }
    progress?.done();
    // Whole milliseconds, at least one: the summary's fps is computed from the wallMs it reports, so the two always agree.
    const wallMs = Math.max(1, Math.round(performance.now() - t0));
    if (recorder) await recorder.finish(runtime);
    const cur = runtime.current;
    const summary: RunSummary = {
      rom: { name: runtime.romInfo?.name ?? '', md5: runtime.romInfo?.md5 ?? '', path: built.romPath },
      emulator: built.emulator.kind,
      agents: cli.spec.agents.map(describeAgentSpec),
      seed: cli.spec.seed ?? 0,
      frames,
      episodes: ends.length,
      rows: ends.reduce((n, e) => n + e.rows, 0) + runtime.stepIndex,
      wallMs,
      fps: Math.round((frames / wallMs) * 1000),
      desyncTotal: runtime.detector.total(),
      desyncs: runtime.detector.counts(),
      metrics: metricsWithoutFps(runtime.metrics.snapshot()),
      clockDrifts: clockDriftRecords(desyncLog),
      ramHash: cur ? ramHash(cur.ram) : '',
      lastFrame: cur?.frame ?? 0,
      episodeEnds: ends.map(({ episode, rows, terminationFrame, reason, returns }) => ({ episode, rows, terminationFrame, reason, returns })),
      record: cli.spec.record,
      fault,
    };
    if (!cli.json) {
      process.stdout.write(
        `${summary.frames} frames of ${summary.rom.name} on ${summary.emulator} in ${summary.wallMs} ms (${summary.fps} fps), ` +
        `${summary.episodes} episode(s) ended, ${summary.desyncTotal} desync(s)\nfinal RAM sha256 ${summary.ramHash}\n`,
      );
      if (fault) process.stdout.write(`stopped: ${fault}\n`);
    }
    if (cli.json) process.stdout.write(JSON.stringify(summary) + '\n');
    return fault ? EXIT_FAILED : EXIT_OK;
  } finally {
    process.off('SIGINT', onSigint);
    await built?.close();
  }
}

/** The summary's one fps figure is the whole run's (frames / wall time); the metrics window's own average would be a second, different one. */
function metricsWithoutFps(snapshot: MetricsSnapshot): Omit<MetricsSnapshot, 'fps'> {
  const { fps: _windowFps, ...rest } = snapshot;
  return rest;
}

/** One-line progress on a terminal (carriage return, no scrolling). */
class Progress {
  private last = 0;
  constructor(private readonly total: number) {}
  update(n: number, frame: number, desyncs: number): void {
    const now = Date.now();
    if (now - this.last < 100 && n !== this.total) return;
    this.last = now;
    const pct = Number.isFinite(this.total) ? ` ${Math.floor((n / this.total) * 100)}%` : '';
    process.stderr.write(`\r  frame ${frame}  ${n}${Number.isFinite(this.total) ? '/' + this.total : ''}${pct}  desyncs ${desyncs}   `);
  }
  done(): void {
    process.stderr.write('\r\x1b[K');
  }
}
