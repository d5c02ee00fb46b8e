// `lockstep serve`: the bridge + emulator headless for external trainers (e.g. one per Ray actor), until the process is stopped.
import { clockDriftRecords } from '../core/sync/clockSyncScheduler';
import type { DesyncEvent } from '../core/sync/desyncDetector';
import { buildSession, type BuiltSession } from '../session/sessionBuilder';
import { cliSession, type CliValues } from './cliOptions';
import { createRecorderFor } from '../session/recorderFor';

/**
 * Prints one JSON line `{"event":"listening","url":...,"token":...,"port":...}` on stdout as soon as trainers can connect,
 * then serves frames forever (or --frames / --episodes), and a final `{"event":"stopped",...}` line.
 */
export async function serveCommand(values: CliValues): Promise<number> {
  const cli = await cliSession(values, { agent: 'websocket' });
  if (!cli.spec.agents.some((a) => a?.type === 'websocket')) {
    throw new Error('lockstep serve drives external trainers: give --agent websocket (and/or --agent2 websocket)');
  }
  const log = (level: 'info' | 'warn' | 'error', message: string) => process.stderr.write(`[${level}] ${message}\n`);
  const recorder = cli.spec.record ? await createRecorderFor(cli.spec) : undefined;
  let built: BuiltSession | undefined;
  let stopping = false;
  const abort = new AbortController();
  const stop = () => {
    stopping = true;
    abort.abort();
    built?.runtime.interruptWait();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    built = await buildSession(cli.spec, { log, workspaceSync: cli.workspaceSync, recorder: recorder?.sink });
    const bridge = built.bridge!;
    process.stdout.write(JSON.stringify({
      event: 'listening',
      url: bridge.url('agent'),
      port: bridge.port,
      token: bridge.token,
      session: built.session,
      controllers: cli.spec.agents.map((a, i) => (a?.type === 'websocket' ? i : null)).filter((i) => i !== null),
    }) + '\n');
    const { runtime } = built;
    runtime.events.on('log', (e) => log(e.level, e.message));
    const drifts: DesyncEvent[] = [];
    runtime.events.on('desync', (e) => {
      if (e.type === 'clock_drift') drifts.push(e);
      log('warn', `desync at frame ${e.frame}: ${e.type}: ${e.message}${e.recovery ? ` -> ${e.recovery}` : ''}`);
    });
    let episodes = 0;
    runtime.events.on('episodeEnd', (e) => {
      episodes++;
      log('info', `episode ${e.episode} ended at frame ${e.terminationFrame}: ${e.rows} rows (${e.reason}), returns ${e.returns.join(' / ')}`);
    });
    try {
      await runtime.start(abort.signal);
    } catch (e) {
      // Stopped while still waiting for the first trainer: a clean exit, not a failure.
      if (stopping) {
        process.stdout.write(JSON.stringify({ event: 'stopped', frames: 0, episodes: 0, fault: null }) + '\n');
        return 0;
      }
      throw e;
    }
    let frames = 0;
    let fault: string | undefined;
    const limit = cli.frames ?? Infinity;
    try {
      while (!stopping && frames < limit && (cli.episodes === undefined || episodes < cli.episodes)) {
        const o = await runtime.advance();
        if (o.advanced) frames++;
      }
    } catch (e) {
      fault = (e as Error).message;
      log('error', fault);
    }
    if (recorder) await recorder.finish(runtime);
    process.stdout.write(JSON.stringify({ event: 'stopped', frames, episodes, desyncs: runtime.detector.counts(), clocks: runtime.clocks.clocks, clockDrifts: clockDriftRecords(drifts), fault: fault ?? null }) + '\n');
    return fault ? 1 : 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await built?.close();
  }
}
