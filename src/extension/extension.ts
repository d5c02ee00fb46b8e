// Extension entry point: wires Lockstep into VS Code (log channel, debugger, panels); every registration goes into context.subscriptions.
import * as vscode from 'vscode';
import { registerDebugging } from './registerDebugging';
import { registerPanels } from './panels/registerPanels';
import { LiveRuntimeSource } from './panels/runtimeSource';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Lockstep', { log: true });
  context.subscriptions.push(
    log,
    vscode.commands.registerCommand('lockstep.showLog', () => log.show(true)),
  );
  // Debugging (the lockstep debug type, inline adapter, commands, status bar) feeds each started run to the panels.
  const runs = new LiveRuntimeSource();
  context.subscriptions.push(registerPanels(context, runs, log));
  registerDebugging(context, { log, onRunStarted: (built) => runs.attach(built), onStopped: () => runs.changed() });
  log.info(`Lockstep ${String(context.extension.packageJSON.version)} activated`);
}

export function deactivate(): void {
  // Everything registered lives in context.subscriptions, which VS Code disposes.
}
