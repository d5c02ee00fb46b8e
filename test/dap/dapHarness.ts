// Drives the standalone adapter (dist/debugAdapter.js) through DebugClient and records every event, so tests can wait for one that already arrived.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

export const ROOT = join(__dirname, '..', '..');
export const ADAPTER = join(ROOT, 'dist', 'debugAdapter.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'dap');
export const agentPath = (name: string) => join(FIXTURES, name);

const RECORDED = [
  'initialized', 'stopped', 'continued', 'output', 'terminated', 'exited', 'memory', 'invalidated',
  'progressStart', 'progressUpdate', 'progressEnd',
  'lockstep.sessionInfo', 'lockstep.status', 'lockstep.waiting', 'lockstep.released', 'lockstep.desync',
  'lockstep.episodeEnd', 'lockstep.attachWaiting', 'lockstep.summary',
];

export interface Harness {
  dc: DebugClient;
  events: DebugProtocol.Event[];
  /** Next event of that name (after the cursor, which then moves past it) that satisfies pred. */
  next(name: string, pred?: (e: DebugProtocol.Event) => boolean, timeoutMs?: number): Promise<DebugProtocol.Event>;
  /** Events of that name recorded so far. */
  all(name: string): DebugProtocol.Event[];
  /** Launches with the given arguments; `configure` runs between `initialized` and configurationDone. */
  launch(args: Record<string, unknown>, configure?: () => Promise<unknown>): Promise<void>;
  frame(): Promise<number>;
  variable(scope: string, name: string): Promise<DebugProtocol.Variable>;
  evaluate(expression: string, context?: string): Promise<DebugProtocol.EvaluateResponse>;
  /** Disconnects and waits for the adapter process to exit; returns its exit code. */
  close(): Promise<number | null>;
}

export async function startHarness(): Promise<Harness> {
  if (!existsSync(ADAPTER)) throw new Error(`${ADAPTER} is missing: run "npm run build" first`);
  const dc = new DebugClient(process.execPath, ADAPTER, 'lockstep', { cwd: ROOT });
  dc.defaultTimeout = 15_000;
  await dc.start();
  const events: DebugProtocol.Event[] = [];
  const waiters = new Set<() => void>();
  for (const name of RECORDED) {
    dc.on(name, (e: DebugProtocol.Event) => {
      events.push(e);
      for (const w of [...waiters]) w();
    });
  }
  const cursors = new Map<string, number>();
  const proc = (dc as unknown as { _adapterProcess: import('node:child_process').ChildProcess | null })._adapterProcess;
  let stderr = '';
  proc?.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });

  const h: Harness = {
    dc,
    events,
    all: (name) => events.filter((e) => e.event === name),
    next(name, pred = () => true, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const from = cursors.get(name) ?? 0;
          for (let i = from; i < events.length; i++) {
            const e = events[i];
            if (e.event === name && pred(e)) {
              cursors.set(name, i + 1);
              waiters.delete(check);
              clearTimeout(timer);
              resolve(e);
              return true;
            }
          }
          return false;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const seen = events.filter((e) => e.event === name).map((e) => JSON.stringify(e.body)).slice(-5);
          const outputs = events.filter((e) => e.event === 'output').map((e) => String(e.body.output).trim()).slice(-8);
          reject(new Error(`no "${name}" event within ${timeoutMs} ms; last ones: ${seen.join(' | ') || 'none'}\n` +
            `adapter output: ${outputs.join(' / ') || 'none'}\nadapter stderr: ${stderr.trim() || 'none'}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    async launch(args, configure) {
      const init = await dc.initializeRequest({ adapterID: 'lockstep', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsMemoryEvent: true, supportsProgressReporting: true });
      if (!init.body?.supportsConfigurationDoneRequest) throw new Error('adapter must support configurationDone');
      const configured = h.next('initialized', undefined, 30_000).then(async () => {
        await configure?.();
        await dc.configurationDoneRequest();
      });
      await Promise.all([configured, dc.launchRequest(args as DebugProtocol.LaunchRequestArguments)]);
    },
    async frame() {
      return Number((await h.variable('Sync', 'frame')).value);
    },
    async variable(scopeName, name) {
      const st = await dc.stackTraceRequest({ threadId: 1 });
      const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
      const scope = scopes.body.scopes.find((s) => s.name === scopeName);
      if (!scope) throw new Error(`no scope ${scopeName}`);
      const vars = await dc.variablesRequest({ variablesReference: scope.variablesReference });
      const v = vars.body.variables.find((x) => x.name === name);
      if (!v) throw new Error(`no variable ${name} in ${scopeName}: ${vars.body.variables.map((x) => x.name).join(', ')}`);
      return v;
    },
    evaluate(expression, context = 'repl') {
      return dc.evaluateRequest({ expression, context, frameId: 1 });
    },
    async close() {
      const exited = new Promise<number | null>((resolve) => {
        if (!proc || proc.exitCode !== null) return resolve(proc?.exitCode ?? null);
        proc.once('exit', (code) => resolve(code));
      });
      await Promise.race([dc.disconnectRequest({}).catch(() => undefined), sleep(5000, true)]);
      const code = await Promise.race([exited, sleep(8000, true).then(() => 'timeout' as const)]);
      (dc as unknown as { stopAdapter(): void }).stopAdapter();
      if (code === 'timeout') {
        proc?.kill('SIGKILL');
        throw new Error('adapter did not exit within 8 s of disconnect');
      }
      return code;
    },
  };
  return h;
}

/** A pause; `unref` ones (deadlines in races) do not keep the test process alive. */
export function sleep(ms: number, unref = false): Promise<void> {
  return new Promise((r) => {
    const t = setTimeout(r, ms);
    if (unref) t.unref();
  });
}

/** Launch arguments for the demo ROM on the embedded emulator with one test agent. */
export function demoArgs(agent: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'lockstep', request: 'launch', name: 'test', agent: `scripted:${agentPath(agent)}`, stopOnEntry: true, cwd: ROOT, ...extra };
}
