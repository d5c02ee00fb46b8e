// The "Lockstep: Create Demo Workspace" command: asks for an empty folder, writes the demo workspace into it and opens it.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { DEMO_TRAINER_PORT, demoWorkspaceFiles, folderProblem, newDemoToken, readDemoAssets, writeDemoWorkspace } from './demoWorkspace';

export const CREATE_DEMO_WORKSPACE_COMMAND = 'lockstep.createDemoWorkspace';

/** Arguments a caller (a test, another command) may pass instead of answering the dialogs. */
export interface CreateDemoWorkspaceArgs {
  /** Folder to write into (created if missing; must be empty). */
  folder?: string;
  /** Open the folder afterwards (default true). */
  open?: boolean;
}

/** The interactive parts, injectable so the command runs without dialogs in tests. */
export interface DemoWorkspaceUi {
  pickFolder(): Promise<string | undefined>;
  /** Asked when the picked folder is not empty: true to use `subfolder` inside it instead. */
  confirmSubfolder(problem: string, subfolder: string): Promise<boolean>;
  openFolder(folder: string): Promise<void>;
  showError(message: string): void;
}

export type DemoWorkspaceLog = Pick<vscode.LogOutputChannel, 'info' | 'warn'>;

const SUBFOLDER = 'lockstep-demo';

export const defaultDemoWorkspaceUi: DemoWorkspaceUi = {
  async pickFolder() {
    const picked = await vscode.window.showOpenDialog({
      title: 'Lockstep: pick an empty folder for the demo workspace',
      openLabel: 'Create Demo Workspace Here',
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
    });
    return picked?.[0]?.fsPath;
  },
  async confirmSubfolder(problem, subfolder) {
    const use = `Create ${basename(subfolder)} Inside It`;
    return (await vscode.window.showWarningMessage(problem, { modal: true, detail: `The demo would go to ${subfolder}.` }, use)) === use;
  },
  async openFolder(folder) {
    await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(folder));
  },
  showError(message) {
    void vscode.window.showErrorMessage(message);
  },
};

/** A not-yet-used `lockstep-demo`, `lockstep-demo-2`, … inside `parent`. */
function freeSubfolder(parent: string): string {
  for (let i = 1; ; i++) {
    const candidate = join(parent, i === 1 ? SUBFOLDER : `${SUBFOLDER}-${i}`);
    if (!existsSync(candidate) || folderProblem(candidate) === undefined) return candidate;
  }
}

/**
 * Registers the command. It resolves with the folder written (undefined when the user cancelled), so callers can find
 * the files; with `{ folder, open: false }` it asks nothing and leaves the window alone.
 */
export function registerDemoWorkspaceCommand(
  context: vscode.ExtensionContext,
  log: DemoWorkspaceLog,
  ui: DemoWorkspaceUi = defaultDemoWorkspaceUi,
): vscode.Disposable {
  return vscode.commands.registerCommand(CREATE_DEMO_WORKSPACE_COMMAND, async (args?: CreateDemoWorkspaceArgs) => {
    try {
      if (args !== undefined && (typeof args !== 'object' || args === null || (args.folder !== undefined && typeof args.folder !== 'string'))) {
        throw new Error(`${CREATE_DEMO_WORKSPACE_COMMAND}: expected { folder?: string, open?: boolean }, got ${JSON.stringify(args)}`);
      }
      let folder = args?.folder ?? (await ui.pickFolder());
      if (folder === undefined) return undefined;
      const problem = folderProblem(folder);
      if (problem) {
        // Given explicitly, the caller meant that folder; picked in the dialog, a subfolder is the likely wish.
        if (args?.folder !== undefined) throw new Error(problem);
        const sub = freeSubfolder(folder);
        if (!(await ui.confirmSubfolder(problem, sub))) return undefined;
        folder = sub;
      }
      const assets = await readDemoAssets(context.extensionUri.fsPath);
      const files = demoWorkspaceFiles(assets, { port: DEMO_TRAINER_PORT, token: newDemoToken() });
      writeDemoWorkspace(folder, files);
      log.info(`demo workspace written to ${folder} (${Object.keys(files).length} files${assets.python ? '' : '; this build carries no Python example'})`);
      if (args?.open ?? true) await ui.openFolder(folder);
      return folder;
    } catch (e) {
      const message = `Lockstep: could not create the demo workspace: ${(e as Error).message}`;
      log.warn(message);
      ui.showError(message);
      return undefined;
    }
  });
}

