// Registers everything debugging needs in VS Code: the `lockstep` configuration provider, the inline adapter, DAP tracing, commands, status bar.
import * as vscode from 'vscode';
import { createDefaultSessionFactory } from '../debugAdapter/sessionFactory';
import type { SessionFactory } from '../debugAdapter/lockstepDebugSession';
import { LockstepAdapterFactory, type RunListener } from './debugAdapterFactory';
import { LockstepConfigurationProvider, LockstepDynamicConfigurations, vscodeGuardHost } from './debugConfigurationProvider';
import { registerPickRom, workspaceRoms } from './pickRom';
import { DebugTrafficLogger } from './debugTrafficLogger';
import { DEBUG_COMMANDS, registerDebugCommands } from './debugCommands';
import { LOCKSTEP_DEBUG_TYPE, LockstepSessions } from './lockstepSessions';
import { LockstepStatusBar } from './lockstepStatusBar';
import { FRAME_SHEET_SCHEME, FrameSheetDocuments } from './frameSheetDocuments';

export interface DebuggingOptions {
  log: vscode.LogOutputChannel;
  /** A run started (panels attach to `built.runtime`); the returned disposable is disposed when the session ends. */
  onRunStarted?: RunListener;
  /** A Lockstep session stopped (after a step, step back or RAM write): views that poll may look again now. */
  onStopped?: (session: vscode.DebugSession) => void;
  /** Tests pass their own; default: lockstep.yaml + recorder + buildSession. */
  createSession?: SessionFactory;
}

export function registerDebugging(context: vscode.ExtensionContext, options: DebuggingOptions): LockstepSessions {
  const { log } = options;
  const sheets = new FrameSheetDocuments();
  const factory = new LockstepAdapterFactory(options.createSession ?? createDefaultSessionFactory(), (built, session) => {
    log.info(`debug session "${session.name}": ${built.romPath} on ${built.emulator.kind}`);
    return options.onRunStarted?.(built, session);
  }, sheets);
  const sessions = new LockstepSessions(factory, log);
  context.subscriptions.push(
    sessions,
    factory,
    sheets,
    vscode.workspace.registerTextDocumentContentProvider(FRAME_SHEET_SCHEME, sheets),
    vscode.debug.registerDebugConfigurationProvider(LOCKSTEP_DEBUG_TYPE, new LockstepConfigurationProvider(vscodeGuardHost(context.extensionPath, log))),
    vscode.debug.registerDebugConfigurationProvider(LOCKSTEP_DEBUG_TYPE, new LockstepDynamicConfigurations(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    registerPickRom(),
    vscode.debug.registerDebugAdapterDescriptorFactory(LOCKSTEP_DEBUG_TYPE, factory),
    vscode.debug.registerDebugAdapterTrackerFactory(LOCKSTEP_DEBUG_TYPE, new DebugTrafficLogger(log)),
    new LockstepStatusBar(sessions, DEBUG_COMMANDS.togglePauseUntilAction),
    ...registerDebugCommands(sessions, log),
  );
  // Run and Debug's welcome text (package.json viewsWelcome) is for workspaces that hold ROMs.
  void workspaceRoms().then((roms) => vscode.commands.executeCommand('setContext', 'lockstep.workspaceHasRoms', roms.length > 0), () => undefined);
  if (options.onStopped) {
    const onStopped = options.onStopped;
    context.subscriptions.push(sessions.onDidChange((s) => {
      if (s && sessions.state(s)?.status?.state === 'stopped') onStopped(s);
    }));
  }
  return sessions;
}
