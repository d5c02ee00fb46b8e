// In-host test helper: records what Lockstep debug adapters send (through a tracker, as VS Code sees it), starts sessions, and reads the Sync scope.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EXTENSION_ID } from './activateLockstep';

export interface DapMessage {
  type: string;
  event?: string;
  command?: string;
  body?: Record<string, unknown>;
}

interface Waiter {
  check(): boolean;
}

export class LockstepProbe implements vscode.Disposable {
  private readonly messages = new Map<string, DapMessage[]>();
  private readonly waiters = new Set<Waiter>();
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    this.subscriptions = [
      vscode.debug.registerDebugAdapterTrackerFactory('lockstep', {
        createDebugAdapterTracker: (session) => ({
          onDidSendMessage: (m: DapMessage) => {
            const list = this.messages.get(session.id) ?? [];
            list.push(m);
            this.messages.set(session.id, list);
            for (const w of [...this.waiters]) w.check();
          },
        }),
      }),
    ];
  }

  /** Events of that name the session's adapter sent so far. */
  events(session: vscode.DebugSession, name: string): DapMessage[] {
    return (this.messages.get(session.id) ?? []).filter((m) => m.type === 'event' && m.event === name);
  }

  /** A cursor: `nextEvent(..., { since })` only looks at messages sent after it. */
  mark(session: vscode.DebugSession): number {
    return this.messages.get(session.id)?.length ?? 0;
  }

  /** The first event of that name at or after `since` that satisfies `pred`. */
  nextEvent(
    session: vscode.DebugSession,
    name: string,
    options: { since?: number; pred?: (body: Record<string, unknown>) => boolean; timeoutMs?: number } = {},
  ): Promise<DapMessage> {
    const timeoutMs = options.timeoutMs ?? 15_000;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          const list = this.messages.get(session.id) ?? [];
          for (let i = options.since ?? 0; i < list.length; i++) {
            const m = list[i];
            if (m.type === 'event' && m.event === name && (!options.pred || options.pred(m.body ?? {}))) {
              this.waiters.delete(waiter);
              clearTimeout(timer);
              resolve(m);
              return true;
            }
          }
          return false;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const outputs = this.events(session, 'output').map((e) => String(e.body?.output ?? '').trim()).slice(-8);
        const seen = this.events(session, name).map((e) => JSON.stringify(e.body)).slice(-4);
        reject(new Error(`no "${name}" event from session "${session.name}" within ${timeoutMs} ms; ` +
          `last ones: ${seen.join(' | ') || 'none'}; adapter output: ${outputs.join(' / ') || 'none'}`));
      }, timeoutMs);
      if (!waiter.check()) this.waiters.add(waiter);
    });
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }
}

/** Lockstep's folder (the repository in these tests): the demo ROM and the lua script live there. */
export function extensionRoot(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  return ext.extensionPath;
}

export function demoRom(): string {
  return join(extensionRoot(), 'roms', 'demo', 'demo.nes');
}

/** The workspace folder runIntegration.ts opened (a scratch copy of test/fixtures/vscode-workspace with agents/). */
export function workspaceFolder(): vscode.WorkspaceFolder {
  const f = vscode.workspace.workspaceFolders?.[0];
  if (!f) throw new Error('no workspace folder is open: run the suite through scripts/vscode/runIntegration.ts');
  return f;
}

/** A test agent from test/fixtures/dap, as runIntegration.ts copied it into the workspace. */
export function agentInWorkspace(file: string): string {
  const path = join(workspaceFolder().uri.fsPath, 'agents', file);
  if (!existsSync(path)) throw new Error(`${path} is missing: runIntegration.ts copies test/fixtures/dap/*.js into the workspace's agents/ folder (do that yourself with --workspace)`);
  return path;
}

/** Starts a configuration and resolves with its session (a unique `name` tells it from others). */
export async function startSession(config: vscode.DebugConfiguration | string, folder = workspaceFolder()): Promise<vscode.DebugSession> {
  const name = typeof config === 'string' ? config : config.name;
  let sub: vscode.Disposable | undefined;
  const started = new Promise<vscode.DebugSession>((resolve) => {
    sub = vscode.debug.onDidStartDebugSession((s) => {
      if (s.type === 'lockstep' && s.name === name) resolve(s);
    });
  });
  try {
    const ok = await vscode.debug.startDebugging(folder, config);
    if (!ok) throw new Error(`vscode.debug.startDebugging refused "${name}"`);
    return await started;
  } finally {
    sub?.dispose();
  }
}

/** Stops a session and waits until VS Code reports it ended. */
export async function stopSession(session: vscode.DebugSession, timeoutMs = 15_000): Promise<void> {
  const ended = sessionEnded(session, timeoutMs);
  await vscode.debug.stopDebugging(session);
  await ended;
}

/** Resolves when VS Code reports the session terminated (rejects after the timeout). */
export function sessionEnded(session: vscode.DebugSession, timeoutMs = 15_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`session "${session.name}" did not end within ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = vscode.debug.onDidTerminateDebugSession((s) => {
      if (s.id !== session.id) return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

interface Variable {
  name: string;
  value: string;
  variablesReference: number;
}

/** The variables of one scope (Game, Sync, Buffer, Agents, Metrics) of the stopped session, through plain DAP requests. */
export async function scopeVariables(session: vscode.DebugSession, scopeName: string): Promise<Variable[]> {
  const st = (await session.customRequest('stackTrace', { threadId: 1 })) as { stackFrames: Array<{ id: number; name: string }> };
  const scopes = (await session.customRequest('scopes', { frameId: st.stackFrames[0].id })) as { scopes: Array<{ name: string; variablesReference: number }> };
  const scope = scopes.scopes.find((s) => s.name === scopeName);
  if (!scope) throw new Error(`no scope "${scopeName}" (have ${scopes.scopes.map((s) => s.name).join(', ')})`);
  return ((await session.customRequest('variables', { variablesReference: scope.variablesReference })) as { variables: Variable[] }).variables;
}

export async function variable(session: vscode.DebugSession, scopeName: string, name: string): Promise<Variable> {
  const vars = await scopeVariables(session, scopeName);
  const v = vars.find((x) => x.name === name);
  if (!v) throw new Error(`no variable "${name}" in ${scopeName}: ${vars.map((x) => x.name).join(', ')}`);
  return v;
}

/** The frame the emulator holds, from the Sync scope. */
export async function heldFrame(session: vscode.DebugSession): Promise<number> {
  const v = await variable(session, 'Sync', 'frame');
  const n = Number(v.value);
  if (!Number.isInteger(n)) throw new Error(`Sync frame is not a number: ${JSON.stringify(v.value)}`);
  return n;
}
