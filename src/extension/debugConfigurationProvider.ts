// Completes Lockstep debug configurations (F5 without launch.json debugs the active .nes file or the demo ROM; cwd defaults to the workspace folder) and guards every launch: no Restricted Mode, no agent files from outside the workspace without consent.
import { realpath } from 'node:fs/promises';
import * as vscode from 'vscode';
import { ALLOW_ONCE, LaunchGuard, type LaunchGuardHost } from './launchGuard';
import { applyFceuxPathSetting, completeConfiguration, dynamicRomConfigurations } from './romConfiguration';
import { workspaceRoms } from './pickRom';

export type GuardLog = Pick<vscode.LogOutputChannel, 'info' | 'warn'>;

export class LockstepConfigurationProvider implements vscode.DebugConfigurationProvider {
  private readonly guard: LaunchGuard;

  constructor(host: LaunchGuardHost) {
    this.guard = new LaunchGuard(host);
  }

  /** Before variables are substituted: refuse in Restricted Mode, fill in what F5 without launch.json leaves out. */
  resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    // Undefined aborts the launch quietly (the guard has said why); null would open launch.json instead.
    if (!this.guard.allowsStart()) return undefined;
    const doc = vscode.window.activeTextEditor?.document;
    const activeFile = doc?.uri.scheme === 'file' ? doc.uri.fsPath : activeTabFile();
    const ws = folder ?? (activeFile ? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(activeFile)) : vscode.workspace.workspaceFolders?.[0]);
    const completed = completeConfiguration(config, { activeFile, folder: ws?.uri.fsPath });
    // Machine-scoped: where FCEUX lives is a fact about this computer, not the workspace (launch.json still wins).
    const fceuxPath = vscode.workspace.getConfiguration('lockstep', ws?.uri).get<string>('fceuxPath');
    return applyFceuxPathSetting(completed, fceuxPath) as vscode.DebugConfiguration;
  }

  /** After substitution (`${workspaceFolder}/agent.js` is a real path now): agent files outside the workspace need consent. */
  async resolveDebugConfigurationWithSubstitutedVariables(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    return (await this.guard.allowsFiles(config)) ? config : undefined;
  }
}

/** Run and Debug's drop-down (DebugConfigurationProviderTriggerKind.Dynamic): one "Lockstep: <rom>" per .nes file of the folder. */
export class LockstepDynamicConfigurations implements vscode.DebugConfigurationProvider {
  async provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): Promise<vscode.DebugConfiguration[]> {
    const roms = await workspaceRoms(folder);
    return dynamicRomConfigurations(roms.map((u) => u.fsPath), folder?.uri.fsPath);
  }
}

/** The guard's view of VS Code; `overrides` replace single pieces (tests answer the prompt themselves). */
export function vscodeGuardHost(extensionRoot: string, log?: GuardLog, overrides: Partial<LaunchGuardHost> = {}): LaunchGuardHost {
  return {
    isTrusted: () => vscode.workspace.isTrusted,
    workspaceFolders: () => (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
    extensionRoot,
    realpath: (p) => realpath(p),
    async confirm(message, detail) {
      const allowed = (await vscode.window.showWarningMessage(message, { modal: true, detail }, ALLOW_ONCE)) === ALLOW_ONCE;
      log?.[allowed ? 'info' : 'warn'](`${message} ${allowed ? 'Allowed once' : 'Cancelled'} by the user.\n${detail}`);
      return allowed;
    },
    refuse(message) {
      log?.warn(message);
      void vscode.window.showErrorMessage(message);
    },
    processCwd: () => process.cwd(),
    platform: process.platform,
    ...overrides,
  };
}

/** A .nes file is binary, so it is usually open in a tab without a text editor. */
function activeTabFile(): string | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom ? (input.uri.scheme === 'file' ? input.uri.fsPath : undefined) : undefined;
}
