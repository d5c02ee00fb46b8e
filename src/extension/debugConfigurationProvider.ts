// Completes Lockstep debug configurations: F5 without launch.json debugs the active .nes file (or the demo ROM); cwd defaults to the workspace folder.
import * as vscode from 'vscode';
import { completeConfiguration } from './romConfiguration';

export class LockstepConfigurationProvider implements vscode.DebugConfigurationProvider {
  resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration {
    const doc = vscode.window.activeTextEditor?.document;
    const activeFile = doc?.uri.scheme === 'file' ? doc.uri.fsPath : activeTabFile();
    const ws = folder ?? (activeFile ? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(activeFile)) : vscode.workspace.workspaceFolders?.[0]);
    return completeConfiguration(config, { activeFile, folder: ws?.uri.fsPath }) as vscode.DebugConfiguration;
  }
}

/** A .nes file is binary, so it is usually open in a tab without a text editor. */
function activeTabFile(): string | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom ? (input.uri.scheme === 'file' ? input.uri.fsPath : undefined) : undefined;
}
