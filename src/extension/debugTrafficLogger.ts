// Logs every DAP message of Lockstep sessions to the Lockstep log channel at trace level (Developer: Set Log Level > Trace).
import * as vscode from 'vscode';

export type TraceLog = Pick<vscode.LogOutputChannel, 'trace' | 'warn' | 'logLevel'>;

export class DebugTrafficLogger implements vscode.DebugAdapterTrackerFactory {
  constructor(private readonly log: TraceLog) {}

  createDebugAdapterTracker(session: vscode.DebugSession): vscode.DebugAdapterTracker {
    const tag = `[dap ${session.name}]`;
    // Serialising every message costs time at hundreds of frames per second: only when someone reads traces.
    const on = () => this.log.logLevel === vscode.LogLevel.Trace;
    return {
      onWillReceiveMessage: (m: unknown) => {
        if (on()) this.log.trace(`${tag} -> ${JSON.stringify(m)}`);
      },
      onDidSendMessage: (m: unknown) => {
        if (on()) this.log.trace(`${tag} <- ${JSON.stringify(m)}`);
      },
      onError: (e: Error) => this.log.warn(`${tag} adapter error: ${e.message}`),
      onExit: (code: number | undefined, signal: string | undefined) => {
        if (on()) this.log.trace(`${tag} adapter exited (code ${code ?? '-'}, signal ${signal ?? '-'})`);
      },
    };
  }
}
