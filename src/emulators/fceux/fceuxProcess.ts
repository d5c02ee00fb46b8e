// One FCEUX process running lockstep.lua: headless environment, fresh FCEUX_HOME, output lines, and a kill that always ends it.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describeFceuxExit } from './luaExitCodes';
import { makeFceuxHome } from './fceuxHome';

export interface FceuxLaunchOptions {
  fceuxPath: string;
  romPath: string;
  luaPath: string;
  /** Bridge address and token for lockstep.lua. */
  host: string;
  port: number;
  token: string;
  /** No window: Qt offscreen platform, SDL video driver, dummy audio. */
  headless: boolean;
  /**
   * End FCEUX on a fatal link error or quit (LOCKSTEP_LAUNCHED=1, the default). False behaves like a script a user
   * loaded by hand: it stops, and FCEUX keeps running.
   */
  exitOnFatal?: boolean;
  /** Extra LOCKSTEP_* tuning for the script (e.g. LOCKSTEP_DEAD_MS). */
  scriptEnv?: Record<string, string>;
  /** Every output line, as it arrives. */
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Synchronous cleanup of the caller's files that goes with this FCEUX, also when Node exits without stop(). */
  onCleanup?: () => void;
}

export interface FceuxExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** One line: "code 3: the bridge refused its session token". */
  description: string;
}

const TAIL_LINES = 30;

export class FceuxProcess {
  readonly pid: number | undefined;
  /** Resolves once FCEUX has ended (never rejects). */
  readonly exited: Promise<FceuxExit>;
  /** The fresh FCEUX_HOME of this run; removed when FCEUX is stopped. */
  readonly home: string;
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private readonly errTail: string[] = [];
  private exitInfo?: FceuxExit;
  private readonly exitHook: () => void;

  constructor(private readonly options: FceuxLaunchOptions) {
    // A fresh home per run: fceux.cfg would otherwise remember scripts, paths and settings between runs. Its fceux.cfg
    // holds Lockstep's settings (no on-screen messages in the picture), so FCEUX runs without --no-config.
    this.home = makeFceuxHome();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      FCEUX_HOME: this.home,
      LOCKSTEP_HOST: options.host,
      LOCKSTEP_PORT: String(options.port),
      LOCKSTEP_TOKEN: options.token,
      ...options.scriptEnv,
    };
    if (options.exitOnFatal ?? true) env.LOCKSTEP_LAUNCHED = '1';
    else delete env.LOCKSTEP_LAUNCHED;
    const args = ['--sound', '0'];
    if (options.headless) {
      env.QT_QPA_PLATFORM = 'offscreen';
      env.SDL_AUDIODRIVER = 'dummy';
      env.XDG_RUNTIME_DIR ??= this.home;
      // The default OpenGL video driver segfaults on Qt's offscreen platform.
      args.push('--videoDriver', '1');
    }
    args.push('--loadlua', resolve(options.luaPath), resolve(options.romPath));
    this.child = spawn(options.fceuxPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    this.exitHook = () => {
      // Process exit: no async work possible; FCEUX ignores SIGTERM, so SIGKILL it.
      if (!this.exitInfo) this.child.kill('SIGKILL');
      this.removeHome();
      options.onCleanup?.();
    };
    process.on('exit', this.exitHook);
    this.collect('stdout');
    this.collect('stderr');
    this.exited = new Promise<FceuxExit>((resolveExit) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null, description = describeFceuxExit(code, signal)) => {
        if (this.exitInfo) return;
        this.exitInfo = { code, signal, description };
        resolveExit(this.exitInfo);
      };
      // 'close' rather than 'exit': the last output lines (often the reason it ended) are read by then.
      this.child.once('close', finish);
      this.child.once('error', (err) => {
        this.pushLine('stderr', `cannot start ${options.fceuxPath}: ${err.message}`);
        finish(null, null, `could not be started: ${err.message}`);
      });
    });
  }

  get exitStatus(): FceuxExit | undefined {
    return this.exitInfo;
  }

  /** The last output lines (both streams, in arrival order). */
  lastLines(n = 10): string[] {
    return this.tail.slice(-n);
  }

  /**
   * The last stderr lines worth showing in an error (Qt's shutdown warnings left out). FCEUX's own stdout is block
   * buffered and arrives late, so the reason it ended is found on stderr, where lockstep.lua writes its errors.
   */
  lastErrorLines(n = 4): string[] {
    return this.errTail.filter((l) => !/^Qt Warning:/.test(l)).slice(-n);
  }

  /**
   * Ends FCEUX for sure: waits `graceMs` for it to leave on its own (after a quit message), then SIGHUP (it ignores
   * SIGTERM/SIGINT), then SIGKILL. Removes FCEUX_HOME. Safe to call more than once.
   */
  async stop(graceMs = 2000): Promise<FceuxExit> {
    const waitFor = (ms: number) =>
      Promise.race([this.exited, delay(ms, undefined, { ref: false })]);
    let result = this.exitInfo ?? (await waitFor(graceMs));
    if (!result) {
      this.child.kill('SIGHUP');
      result = await waitFor(1000);
    }
    if (!result) {
      this.child.kill('SIGKILL');
      result = await this.exited;
    }
    process.off('exit', this.exitHook);
    this.removeHome();
    this.options.onCleanup?.();
    return result;
  }

  private removeHome(): void {
    try {
      rmSync(this.home, { recursive: true, force: true });
    } catch {
      // best effort: a temp folder left behind is not worth failing a shutdown for
    }
  }

  private collect(stream: 'stdout' | 'stderr'): void {
    let pending = '';
    const source = this.child[stream];
    if (!source) return;
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        this.pushLine(stream, pending.slice(0, nl).replace(/\r$/, ''));
        pending = pending.slice(nl + 1);
      }
    });
    source.on('end', () => {
      if (pending !== '') this.pushLine(stream, pending);
      pending = '';
    });
  }

  private pushLine(stream: 'stdout' | 'stderr', line: string): void {
    if (line.trim() === '') return;
    for (const t of stream === 'stderr' ? [this.tail, this.errTail] : [this.tail]) {
      t.push(line);
      if (t.length > TAIL_LINES) t.shift();
    }
    this.options.onLine?.(stream, line);
  }
}
