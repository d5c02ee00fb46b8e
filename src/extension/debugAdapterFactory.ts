// Runs the Lockstep debug adapter inline in the extension host and hands each started run to whoever shows it (panels).
import * as vscode from 'vscode';
import { LockstepDebugSession, type SessionFactory } from '../debugAdapter/lockstepDebugSession';
import type { BuiltSession } from '../session/sessionBuilder';

export type RunListener = (built: BuiltSession, session: vscode.DebugSession) => vscode.Disposable | undefined;

export class LockstepAdapterFactory implements vscode.DebugAdapterDescriptorFactory, vscode.Disposable {
  private readonly adapters = new Map<string, { adapter: LockstepDebugSession; run?: vscode.Disposable }>();
  private readonly onEnd: vscode.Disposable;

  constructor(private readonly createSession: SessionFactory, private readonly onRunStarted: RunListener) {
    this.onEnd = vscode.debug.onDidTerminateDebugSession((s) => this.end(s.id));
  }

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
    const entry: { adapter: LockstepDebugSession; run?: vscode.Disposable } = {
      adapter: new LockstepDebugSession({
        createSession: this.createSession,
        onSessionStarted: (built) => {
          entry.run = this.onRunStarted(built, session);
        },
      }),
    };
    this.adapters.set(session.id, entry);
    return new vscode.DebugAdapterInlineImplementation(entry.adapter);
  }

  /** A session that ended without a disconnect (e.g. the window closing) still closes its emulator and agents. */
  private end(id: string): void {
    const entry = this.adapters.get(id);
    if (!entry) return;
    this.adapters.delete(id);
    entry.run?.dispose();
    void entry.adapter.shutdownRun();
  }

  dispose(): void {
    this.onEnd.dispose();
    for (const id of [...this.adapters.keys()]) this.end(id);
  }
}
