// The status bar item of the active Lockstep session: frame, fps, desyncs, and the controller the emulator waits for.
import * as vscode from 'vscode';
import type { LockstepSessions } from './lockstepSessions';
import { statusView } from './statusText';

export class LockstepStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly sub: vscode.Disposable;

  constructor(private readonly sessions: LockstepSessions, toggleCommand: string) {
    this.item = vscode.window.createStatusBarItem('lockstep.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'Lockstep';
    this.item.command = toggleCommand;
    this.sub = sessions.onDidChange(() => this.render());
    this.render();
  }

  private render(): void {
    const state = this.sessions.state(this.sessions.active());
    if (!state?.status) {
      this.item.hide();
      return;
    }
    const view = statusView(state.status, state.waiting);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}
