// Follows Lockstep debug sessions: their latest lockstep.status, typed custom requests to the active one, whether panels show screens, and ending them all (deactivate).
import * as vscode from 'vscode';
import type { CustomRequestName, CustomRequests, LockstepStatus, WaitingInfo } from '../debugAdapter/customProtocol';

export const LOCKSTEP_DEBUG_TYPE = 'lockstep';

/** What runs the sessions (the inline adapter factory): it can end them all. */
export interface RunCloser {
  shutdownAll(deadlineMs: number): Promise<void>;
}

export interface SessionState {
  status?: LockstepStatus;
  waiting?: WaitingInfo;
}

export class LockstepSessions implements vscode.Disposable {
  private readonly states = new Map<string, SessionState>();
  private readonly changed = new vscode.EventEmitter<vscode.DebugSession | undefined>();
  /** Fires when a session's status, its wait, or the active session changed. */
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  /** Every Lockstep session running, not only the active one: each captures screens while a panel shows them. */
  private readonly running = new Map<string, vscode.DebugSession>();
  private screensShown = false;

  constructor(private readonly runs: RunCloser, private readonly log?: Pick<vscode.LogOutputChannel, 'warn'>) {
    this.subscriptions = [
      this.changed,
      vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => this.onEvent(e)),
      vscode.debug.onDidChangeActiveDebugSession((s) => this.changed.fire(s)),
      vscode.debug.onDidStartDebugSession((s) => {
        if (s.type !== LOCKSTEP_DEBUG_TYPE) return;
        this.running.set(s.id, s);
        if (this.screensShown) this.tellScreensShown(s);
      }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        this.running.delete(s.id);
        if (this.states.delete(s.id)) this.changed.fire(s);
      }),
    ];
  }

  /** A screen-showing panel opened (true) or the last one closed (false): every session captures screens accordingly. */
  setScreensShown(shown: boolean): void {
    if (shown === this.screensShown) return;
    this.screensShown = shown;
    for (const s of this.running.values()) this.tellScreensShown(s);
  }

  private tellScreensShown(s: vscode.DebugSession): void {
    const args: CustomRequests['lockstep.showScreens']['args'] = { shown: this.screensShown };
    s.customRequest('lockstep.showScreens', args).then(undefined, (e: unknown) => {
      // A session that is ending refuses requests; the next one is told when it starts.
      this.log?.warn(`could not tell debug session "${s.name}" whether panels show screens: ${(e as Error).message ?? String(e)}`);
    });
  }

  /** The active debug session, when it is a Lockstep one. */
  active(): vscode.DebugSession | undefined {
    const s = vscode.debug.activeDebugSession;
    return s?.type === LOCKSTEP_DEBUG_TYPE ? s : undefined;
  }

  state(session: vscode.DebugSession | undefined): SessionState | undefined {
    return session ? this.states.get(session.id) : undefined;
  }

  /** Sends a custom request to the active Lockstep session; throws a readable error when there is none. */
  async request<K extends CustomRequestName>(name: K, args: CustomRequests[K]['args']): Promise<CustomRequests[K]['body']> {
    const s = this.active();
    if (!s) throw new Error('No Lockstep debug session is active: start one with F5 or "Lockstep: Debug ROM".');
    return (await s.customRequest(name, args)) as CustomRequests[K]['body'];
  }

  /** Ends every running Lockstep session (emulators, agents, recordings) within `deadlineMs`; used by deactivate. */
  endAll(deadlineMs: number): Promise<void> {
    return this.runs.shutdownAll(deadlineMs);
  }

  private onEvent(e: vscode.DebugSessionCustomEvent): void {
    if (e.session.type !== LOCKSTEP_DEBUG_TYPE) return;
    const st = this.states.get(e.session.id) ?? {};
    switch (e.event) {
      case 'lockstep.status':
        st.status = e.body as LockstepStatus;
        if (!st.status.waiting) st.waiting = undefined;
        break;
      case 'lockstep.waiting':
        st.waiting = e.body as WaitingInfo;
        break;
      case 'lockstep.released':
        st.waiting = undefined;
        break;
      default:
        return;
    }
    this.states.set(e.session.id, st);
    this.changed.fire(e.session);
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }
}
