// Extension entry point: wires Lockstep into VS Code (log channel, debugger, panels); every registration goes into context.subscriptions.
import * as vscode from 'vscode';
import { registerDebugging } from './registerDebugging';
import { registerPanels } from './panels/registerPanels';
import { LiveRuntimeSource } from './panels/runtimeSource';
import { registerDemoWorkspaceCommand } from './createDemoWorkspace';
import { registerReplayMovieCommand } from './replayMovieCommand';
import { registerOpenRecordingCommand } from './openRecordingCommand';
import { registerDivergenceCommand } from './divergenceCommand';

/**
 * VS Code calls deactivate() without arguments, waits at most 5 s for the promise it returns, and only then lets the
 * extension host exit (a window reload, closing the window). Running sessions must end inside that window: FCEUX
 * killed, recordings flushed. So activate leaves the way to end them here; the signature of deactivate forces this one
 * module-level reference.
 */
const endOnDeactivate = new Set<(deadlineMs: number) => Promise<void>>();

/** Leaves a second of VS Code's 5 for the host's own shutdown. */
const DEACTIVATE_DEADLINE_MS = 4000;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Lockstep', { log: true });
  context.subscriptions.push(
    log,
    vscode.commands.registerCommand('lockstep.showLog', () => log.show(true)),
  );
  // Debugging (the lockstep debug type, inline adapter, commands, status bar) feeds each started run to the panels.
  // Screen and buffer panels tell the sessions when they show screens, so a session captures them exactly then.
  const runs = new LiveRuntimeSource();
  const sessions = registerDebugging(context, { log, onRunStarted: (built) => runs.attach(built), onStopped: () => runs.changed() });
  context.subscriptions.push(registerPanels(context, runs, log, { onScreensShown: (shown) => sessions.setScreensShown(shown) }));
  const endSessions = (deadlineMs: number) => sessions.endAll(deadlineMs);
  endOnDeactivate.add(endSessions);
  context.subscriptions.push({ dispose: () => endOnDeactivate.delete(endSessions) });
  context.subscriptions.push(registerDemoWorkspaceCommand(context, log));
  context.subscriptions.push(registerReplayMovieCommand(log));
  context.subscriptions.push(registerOpenRecordingCommand(log));
  context.subscriptions.push(registerDivergenceCommand(log));
  log.info(`Lockstep ${String(context.extension.packageJSON.version)} activated`);
}

/** Ends every running Lockstep session (and waits for it); VS Code disposes context.subscriptions right after calling this. */
export async function deactivate(): Promise<void> {
  // The set is read before the first await: the subscriptions' disposal, which follows this call at once, empties it.
  await Promise.all([...endOnDeactivate].map((end) => end(DEACTIVATE_DEADLINE_MS)));
}
