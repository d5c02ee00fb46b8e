// Extension entry point: wires Lockstep's pieces into VS Code (for now only its log channel and the command showing it).
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Lockstep', { log: true });
  context.subscriptions.push(
    log,
    vscode.commands.registerCommand('lockstep.showLog', () => log.show(true)),
  );
  log.info(`Lockstep ${String(context.extension.packageJSON.version)} activated`);
}

export function deactivate(): void {
  // Everything registered lives in context.subscriptions, which VS Code disposes.
}
