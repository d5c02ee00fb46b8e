// Lockstep's debug commands: Step Frame, Step N Frames, Send Action, Toggle Pause-Until-Action, Debug ROM.
import * as vscode from 'vscode';
import { BUTTON_NAMES } from '../core/buttons';
import type { PlayerIndex } from '../debugAdapter/customProtocol';
import type { LockstepSessions } from './lockstepSessions';
import { debugRomConfiguration } from './romConfiguration';

export const DEBUG_COMMANDS = {
  stepFrame: 'lockstep.stepFrame',
  stepFrames: 'lockstep.stepFrames',
  sendAction: 'lockstep.sendAction',
  togglePauseUntilAction: 'lockstep.togglePauseUntilAction',
  debugRom: 'lockstep.debugRom',
} as const;

export type CommandLog = Pick<vscode.LogOutputChannel, 'info' | 'warn'>;

export function registerDebugCommands(sessions: LockstepSessions, log: CommandLog): vscode.Disposable[] {
  let lastCount = 60;
  const run = (fn: (...args: never[]) => Promise<unknown>) => async (...args: never[]) => {
    try {
      await fn(...args);
    } catch (e) {
      const message = (e as Error).message;
      log.warn(message);
      void vscode.window.showErrorMessage(message);
    }
  };
  return [
    vscode.commands.registerCommand(DEBUG_COMMANDS.stepFrame, run(async () => {
      await sessions.request('lockstep.stepFrames', { count: 1 });
    })),
    vscode.commands.registerCommand(DEBUG_COMMANDS.stepFrames, run(async (count?: number) => {
      let n = typeof count === 'number' ? count : undefined;
      if (n === undefined) {
        const text = await vscode.window.showInputBox({
          title: 'Lockstep: Step N Frames',
          prompt: 'Frames to run (breakpoints still stop earlier)',
          value: String(lastCount),
          validateInput: (v) => (/^\s*[1-9]\d*\s*$/.test(v) ? undefined : 'A whole number of frames, 1 or more'),
          // The session keeps working while the box is open (the frame sheet or a panel may open and take focus): a
          // box that closed then would drop what is being typed.
          ignoreFocusOut: true,
        });
        if (text === undefined) return;
        n = Number(text);
      }
      lastCount = n;
      await sessions.request('lockstep.stepFrames', { count: n });
    })),
    vscode.commands.registerCommand(DEBUG_COMMANDS.sendAction, run(async (buttons?: string[] | number, player?: PlayerIndex) => {
      if (buttons === undefined) {
        const picked = await pickAction(sessions);
        if (!picked) return;
        ({ buttons, player } = picked);
      }
      const r = await sessions.request('lockstep.sendAction', { buttons, player });
      const names = r.buttonNames.length ? r.buttonNames.join(' ') : 'no buttons';
      vscode.window.setStatusBarMessage(`Lockstep: frame ${r.frame}, controller ${r.players.map((p) => p + 1).join('+')} <- ${names} (${r.applied === 'now' ? 'released the waiting frame' : 'applies when the frame runs'})`, 4000);
    })),
    vscode.commands.registerCommand(DEBUG_COMMANDS.togglePauseUntilAction, run(async () => {
      const on = sessions.state(sessions.active())?.status?.pauseUntilAction ?? false;
      const r = await sessions.request('lockstep.setPauseUntilAction', { enabled: !on });
      vscode.window.setStatusBarMessage(`Lockstep: pause-until-action ${r.enabled ? 'on' : 'off'}`, 3000);
    })),
    vscode.commands.registerCommand(DEBUG_COMMANDS.debugRom, run(async (uri?: vscode.Uri) => {
      const rom = uri?.fsPath ?? activeRom() ?? (await chooseRom());
      if (!rom) return;
      const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(rom));
      const ok = await vscode.debug.startDebugging(folder, debugRomConfiguration(rom, folder?.uri.fsPath));
      if (!ok) log.warn(`could not start debugging ${rom}`);
    })),
  ];
}

async function pickAction(sessions: LockstepSessions): Promise<{ buttons: string[]; player?: PlayerIndex } | undefined> {
  const waiting = sessions.state(sessions.active())?.waiting;
  const who = await vscode.window.showQuickPick(
    [
      { label: waiting ? `Controller${waiting.waitingFor.length > 1 ? 's' : ''} ${waiting.waitingFor.map((p) => p + 1).join(' and ')} (waited for)` : 'Every agent-driven controller', player: undefined },
      { label: 'Controller 1', player: 0 as const },
      { label: 'Controller 2', player: 1 as const },
    ],
    { title: 'Lockstep: Send Action — which controller?' },
  );
  if (!who) return undefined;
  const buttons = await vscode.window.showQuickPick(
    BUTTON_NAMES.map((b) => ({ label: b })),
    { title: 'Lockstep: Send Action — buttons held for the frame (none = released)', canPickMany: true },
  );
  if (!buttons) return undefined;
  return { buttons: buttons.map((b) => b.label), player: who.player };
}

function activeRom(): string | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom ? input.uri : undefined;
  return uri?.scheme === 'file' && /\.nes$/i.test(uri.fsPath) ? uri.fsPath : undefined;
}

async function chooseRom(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ title: 'Lockstep: Debug ROM', canSelectMany: false, filters: { 'NES ROM': ['nes'] } });
  return picked?.[0]?.fsPath;
}
