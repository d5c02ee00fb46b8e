// `lockstep.pickRom`, the command behind `${command:lockstep.pickRom}` in launch configurations: the workspace's .nes files, or a file dialog.
import { relative } from 'node:path';
import * as vscode from 'vscode';

export const PICK_ROM_COMMAND = 'lockstep.pickRom';

/** At most this many ROMs are listed; a folder of thousands is better served by the file dialog. */
const MAX_LISTED = 200;

/** The workspace's .nes files (node_modules left out), sorted by path. */
export async function workspaceRoms(folder?: vscode.WorkspaceFolder): Promise<vscode.Uri[]> {
  const pattern = folder ? new vscode.RelativePattern(folder, '**/*.{nes,NES}') : '**/*.{nes,NES}';
  const found = await vscode.workspace.findFiles(pattern, '**/node_modules/**', MAX_LISTED);
  return found.filter((u) => u.scheme === 'file').sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

/** The ROM's path, or undefined when the user cancels (which cancels the launch). */
export async function pickRom(): Promise<string | undefined> {
  const roms = await workspaceRoms();
  const browse = { label: '$(folder-opened) Browse…', description: 'a .nes file anywhere', uri: undefined as vscode.Uri | undefined };
  const items = roms.map((uri) => {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    return { label: uri.path.split('/').pop() ?? uri.fsPath, description: folder ? relative(folder.uri.fsPath, uri.fsPath) : uri.fsPath, uri };
  });
  const picked = items.length === 0 ? browse : await vscode.window.showQuickPick([...items, browse], { title: 'Lockstep: the ROM to debug', matchOnDescription: true });
  if (!picked) return undefined;
  if (picked.uri) return picked.uri.fsPath;
  const chosen = await vscode.window.showOpenDialog({ title: 'Lockstep: the ROM to debug', canSelectMany: false, filters: { 'NES ROM': ['nes'] } });
  return chosen?.[0]?.fsPath;
}

export function registerPickRom(): vscode.Disposable {
  return vscode.commands.registerCommand(PICK_ROM_COMMAND, pickRom);
}
