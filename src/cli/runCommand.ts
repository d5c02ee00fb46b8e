// `lockstep run`: runs frames in lockstep, shows progress on a terminal, and prints a summary (one JSON object as the last line with --json).
import { clockDriftRecords, type ClockDriftRecord } from '../core/sync/clockSyncScheduler';
import { buildSession, type BuiltSession } from '../session/sessionBuilder';
import { describeAgentSpec } from '../session/sessionSpec';
import { ramHash } from '../core/episodes/ramHash';
import type { DesyncEvent } from '../core/sync/desyncDetector';
import type { EpisodeEnd } from '../core/runtime/rows';
import { cliSession, type CliValues } from './cliOptions';
import { createRecorderFor } from '../session/recorderFor';

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
  /** metrics.clocks holds each peer's clock offset and round trip. */
  metrics: unknown;
  /** Every clock_drift: which peer's clock moved, and by how much. */
  clockDrifts: ClockDriftRecord[];
  ramHash: string;
  lastFrame: number;
  episodeEnds: Array<Pick<EpisodeEnd, 'episode' | 'rows' | 'terminationFrame' | 'reason' | 'returns'>>;
  record?: string;
  fault?: string;
}

export async function runCommand(values: CliValues): Promise<number> {
  const cli = await cliSession(values, { frames: 3000, agent: 'random' });
  const log = (level: 'info' | 'warn' | 'error', message: string) => {
    if (level !== 'info' || !cli.json) process.stderr.write(`[${level}] ${message}\n`);
  };
  const recorder = cli.spec.record ? await createRecorderFor(cli.spec) : undefined;
  let built: BuiltSession | undefined;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    built?.runtime.interruptWait();
  };
  process.on('SIGINT', onSigint);
  try {
    built = await buildSession(cli.spec, { log, workspaceSync: cli.workspaceSync, recorder: recorder?.sink });
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
    await runtime.start();
    const target = cli.frames ?? Infinity;
    const progress = process.stderr.isTTY && !cli.json ? new Progress(target) : undefined;
    let frames = 0;
    let fault: string | undefined;
    try {
      while (frames < target && !interrupted) {
        const o = await runtime.advance();
        if (!o.advanced) break;
        frames++;
        progress?.update(frames, runtime.current?.frame ?? 0, runtime.detector.total());
        if (cli.episodes !== undefined && ends.length >= cli.episodes) break;
      }
    } catch (e) {
      fault = (e as Error).message;
    }
    progress?.done();
    const wallMs = performance.now() - t0;
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
      wallMs: Math.round(wallMs),
      fps: Math.round((frames / wallMs) * 1000),
      desyncTotal: runtime.detector.total(),
      desyncs: runtime.detector.counts(),
      metrics: runtime.metrics.snapshot(),
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
    return fault ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    await built?.close();
  }
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
