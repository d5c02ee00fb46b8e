// `lockstep serve`: the bridge + emulator headless for external trainers (e.g. one per Ray actor), until the process is stopped.
import { clockDriftRecords } from '../core/sync/clockSyncScheduler';
import type { DesyncEvent } from '../core/sync/desyncDetector';
import { buildSession, type BuiltSession } from '../session/sessionBuilder';
import { cliSession, SESSION_OPTIONS, SESSION_OPTIONS_HELP } from './cliOptions';
import { parseCommandLine, type OptionTable } from './commandLine';
import { createRecorderFor } from '../session/recorderFor';
import { readRom } from '../emulators/rom';
import { EXIT_FAILED, EXIT_OK, EXIT_STATUS_HELP, UsageError } from './usageError';

export const SERVE_USAGE = `lockstep serve — the bridge + emulator for external trainers, until stopped (Ctrl+C / SIGTERM)

Usage: lockstep serve [options]

Prints {"event":"listening","url":…,"port":…,"token":…} as one JSON line once trainers can connect, and
{"event":"stopped",…} when it stops. At least one controller must be --agent websocket or --agent2 websocket.

Options:
  --frames N              stop after N frames (N >= 1; default: run until stopped)
  --episodes N            stop after N episodes have ended (N >= 1)
  --exit-with-stdin       stop when stdin closes (the process that started the server is gone)
  --socket PATH           also accept trainers on this Unix-domain socket (the listening line gives it as "socket");
                          a trainer on this machine skips loopback TCP's cost per message. Put it in a directory only
                          you can enter: the token is still required
${SESSION_OPTIONS_HELP.replace(/^ {2}--agent SPEC .*$/m, '  --agent SPEC            controller 1 (default: websocket): random[:SEED] | scripted:FILE.js | onnx:MODEL.onnx | fm2:MOVIE.fm2 | websocket | none')}
${EXIT_STATUS_HELP}`;

/** serve's options: the session's, and the lifeline a parent process uses. */
const SERVE_OPTIONS = { ...SESSION_OPTIONS, 'exit-with-stdin': { type: 'boolean' }, socket: { type: 'string' } } as const satisfies OptionTable;

/**
 * Prints one JSON line `{"event":"listening","url":...,"token":...,"port":...}` on stdout as soon as trainers can connect,
 * then serves frames forever (or --frames / --episodes), and a final `{"event":"stopped",...}` line.
 */
export async function serveCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, SERVE_OPTIONS);
  if (parsed.help) {
    process.stdout.write(SERVE_USAGE);
    return EXIT_OK;
  }
  if (parsed.values.json) throw new UsageError('--json is for lockstep run; serve always prints JSON lines');
  const cli = await cliSession(parsed.values, { agent: 'websocket' });
  if (!cli.spec.agents.some((a) => a?.type === 'websocket')) {
    throw new UsageError('lockstep serve drives external trainers: give --agent websocket (and/or --agent2 websocket)');
  }
  const log = (level: 'info' | 'warn' | 'error', message: string) => process.stderr.write(`[${level}] ${message}\n`);
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
  // A parent that starts a server per environment (the Python LockstepEnv) may die without stopping it (SIGKILL):
  // its end of our stdin pipe closes with it, which is the one signal that always arrives.
  const lifeline = parsed.values['exit-with-stdin'] ? watchStdin(stop) : undefined;
  try {
    // Up to the first frame everything depends only on what the command was given: a failure there is exit 2, not a failed run.
    let recorder;
    try {
      recorder = cli.spec.record ? await createRecorderFor(cli.spec) : undefined;
      const socket = parsed.values.socket;
      if (socket === '') throw new Error('--socket needs a path');
      built = await buildSession(cli.spec, { log, workspaceSync: cli.workspaceSync, recorder: recorder?.sink, ...(socket !== undefined ? { bridgeSocket: socket } : {}) });
      // Trainers are told to connect only to a server that can load its ROM: a missing or malformed file fails here,
      // before the listening line, not after a trainer (the Python env) already took it for started.
      await readRom(built.romPath);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const bridge = built.bridge!;
    process.stdout.write(JSON.stringify({
      event: 'listening',
      url: bridge.url('agent'),
      port: bridge.port,
      ...(bridge.socketPath !== undefined ? { socket: bridge.socketPath } : {}),
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
        return EXIT_OK;
      }
      // Loading the ROM into the emulator (not found, not a ROM, unsupported mapper, FCEUX missing): serve could not start.
      throw new UsageError((e as Error).message);
    }
    let frames = 0;
    let fault: string | undefined;
    const limit = cli.frames ?? Infinity;
    try {
      while (!stopping && frames < limit && (cli.episodes === undefined || episodes < cli.episodes)) {
        // Eager while another frame follows, as in `lockstep run`: when the next frame's action is already in (the
        // frames of a trainer's declared repeat, answered here), its step goes out before this frame's row is recorded,
        // and the emulator runs it meanwhile. An episode's last frame never sends the next step.
        const o = await runtime.advance({ eager: frames + 1 < limit });
        if (o.advanced) frames++;
      }
      // Stopped with a step already sent: that frame ran, so its row is recorded and counted.
      if ((await runtime.settle())?.advanced) frames++;
    } catch (e) {
      fault = (e as Error).message;
      log('error', fault);
    }
    if (recorder) await recorder.finish(runtime);
    process.stdout.write(JSON.stringify({ event: 'stopped', frames, episodes, desyncs: runtime.detector.counts(), clocks: runtime.clocks.clocks, clockDrifts: clockDriftRecords(drifts), fault: fault ?? null }) + '\n');
    return fault ? EXIT_FAILED : EXIT_OK;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    lifeline?.();
    await built?.close();
  }
}

/** Calls stop when stdin ends or fails; returns the function that stops watching (and lets the process exit). */
function watchStdin(stop: () => void): () => void {
  const onEnd = () => {
    process.stderr.write('[info] stdin closed: stopping\n');
    stop();
  };
  process.stdin.on('end', onEnd);
  process.stdin.on('error', onEnd);
  process.stdin.on('data', () => undefined);
  process.stdin.resume();
  return () => {
    process.stdin.off('end', onEnd);
    process.stdin.off('error', onEnd);
    process.stdin.pause();
    process.stdin.destroy();
  };
}
