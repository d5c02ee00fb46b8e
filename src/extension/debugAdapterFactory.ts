// Runs the Lockstep debug adapter inline in the extension host and hands each started run to whoever shows it (panels).
import { TerminatedEvent } from '@vscode/debugadapter';
import * as vscode from 'vscode';
import { LockstepDebugSession, type SessionFactory } from '../debugAdapter/lockstepDebugSession';
import type { BuiltSession } from '../session/sessionBuilder';
import type { FrameSheetDocuments } from './frameSheetDocuments';

export type RunListener = (built: BuiltSession, session: vscode.DebugSession) => vscode.Disposable | undefined;

interface AdapterEntry {
  adapter: LockstepDebugSession;
  run?: vscode.Disposable;
  built?: BuiltSession;
}

export class LockstepAdapterFactory implements vscode.DebugAdapterDescriptorFactory, vscode.Disposable {
  private readonly adapters = new Map<string, AdapterEntry>();
  private readonly onEnd: vscode.Disposable;

  constructor(private readonly createSession: SessionFactory, private readonly onRunStarted: RunListener, private readonly sheets?: FrameSheetDocuments) {
    this.onEnd = vscode.debug.onDidTerminateDebugSession((s) => this.end(s.id));
  }

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
    const entry: AdapterEntry = {
      adapter: new LockstepDebugSession({
        createSession: this.createSession,
        // Inline, the frame sheet is a document of ours (refreshed at every stop) rather than a temp file.
        ...(this.sheets ? { sheetStore: this.sheets.storeFor(session.id) } : {}),
        onSessionStarted: (built) => {
          entry.built = built;
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

  /**
   * Ends every run and waits for them, at most `deadlineMs` (extension deactivation: VS Code gives 5 s in all): each
   * adapter stops its loop, ends and flushes the open episode's recording, closes agents, bridge and emulator (FCEUX
   * gets its quit message, then SIGHUP, then SIGKILL). A run still going at the deadline is left to FCEUX's own
   * process-exit kill.
   */
  async shutdownAll(deadlineMs: number): Promise<void> {
    const ends = [...this.adapters.values()].map(async (entry) => {
      try {
        await entry.adapter.shutdownRun();
      } catch {
        // The adapter's shutdown failed part-way (e.g. reporting to a workbench that is gone): close the run directly.
        await entry.built?.close().catch(() => undefined);
      }
      // Ends the session in the workbench too, when it is still listening (not during a host shutdown).
      entry.adapter.sendEvent(new TerminatedEvent());
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([Promise.allSettled(ends), deadline]);
    clearTimeout(timer);
  }

  dispose(): void {
    this.onEnd.dispose();
    for (const id of [...this.adapters.keys()]) this.end(id);
  }
}
