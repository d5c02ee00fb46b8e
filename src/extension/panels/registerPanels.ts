// Registers the screen, buffer, metrics, timeline and agent's-eye panels: open commands, webview serializers (panels survive reloads), auto-open on F5.
import * as vscode from 'vscode';
import { PANEL_KINDS, type PanelKind } from '../../webview/panelMessages';
import { BufferController } from './bufferController';
import { MetricsController } from './metricsController';
import type { PanelChannel, PanelLog, PanelServices, SaveRequest } from './panelController';
import { PANEL_TITLES, PANEL_VIEW_TYPES, PanelHost, panelWebviewOptions, type HostedController } from './panelHost';
import type { PanelSession, RuntimeSource } from './runtimeSource';
import { ScreenController } from './screenController';
import { SessionDirectory } from './sessionDirectory';
import { ThumbnailKeeper } from './thumbnailKeeper';
import { TimelineController } from './timelineController';
import { AgentViewController } from './agentViewController';

/** Panels that show the game's screens: while one is open, sessions capture a screen every frame. */
export const SCREEN_SHOWING_PANELS: readonly PanelKind[] = ['screen', 'buffer', 'timeline', 'agentView'];

/** What "Open Screen, Buffer and Metrics Panels" and F5 open unless `lockstep.panels.startPanels` says otherwise. */
export const DEFAULT_START_PANELS: readonly PanelKind[] = ['screen', 'buffer', 'metrics'];

export interface PanelOptions {
  /** Called when the first screen-showing panel opens (true) and when the last one closes (false). */
  onScreensShown?: (shown: boolean) => void;
}

export const PANEL_COMMANDS: Record<PanelKind | 'all', string> = {
  screen: 'lockstep.openScreen',
  buffer: 'lockstep.openBuffer',
  metrics: 'lockstep.openMetrics',
  timeline: 'lockstep.openTimeline',
  agentView: 'lockstep.openAgentView',
  all: 'lockstep.openPanels',
};

/** Keeps at most one panel of each kind and gives each a controller over the shared RuntimeSource. */
class PanelManager implements vscode.Disposable {
  private readonly hosts = new Map<PanelKind, PanelHost>();
  private readonly services: PanelServices & { thumbnails: ThumbnailKeeper };
  private lastSession: PanelSession | undefined;
  private screensShown = false;

  constructor(private readonly extensionUri: vscode.Uri, private readonly source: RuntimeSource, private readonly log: PanelLog, private readonly options: PanelOptions = {}) {
    this.services = { log, sessions: new SessionDirectory(() => performance.timeOrigin + performance.now()), saveFile: (r) => saveFile(r), travel: (tick) => travel(tick), thumbnails: new ThumbnailKeeper(source) };
    this.lastSession = source.current();
  }

  open(kind: PanelKind, preserveFocus = false, column: vscode.ViewColumn = vscode.ViewColumn.Beside): PanelHost {
    const existing = this.hosts.get(kind);
    if (existing) {
      existing.reveal(preserveFocus);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPES[kind],
      PANEL_TITLES[kind],
      { viewColumn: column, preserveFocus },
      panelWebviewOptions(this.extensionUri),
    );
    return this.adopt(kind, panel);
  }

  /** Opens several panels as tabs of one editor group beside the current one; the first gets focus unless told otherwise. */
  openMany(kinds: readonly PanelKind[], preserveFocus: boolean): void {
    let column: vscode.ViewColumn | undefined;
    kinds.forEach((k, i) => {
      const host = this.open(k, preserveFocus || i > 0, column ?? vscode.ViewColumn.Beside);
      column ??= host.panel.viewColumn;
    });
    if (!preserveFocus && kinds.length > 0) this.hosts.get(kinds[0])?.reveal(false);
  }

  /** A panel restored after a reload: give it a fresh host on whatever session is running now. */
  revive(kind: PanelKind, panel: vscode.WebviewPanel): void {
    const old = this.hosts.get(kind);
    if (old) old.dispose();
    this.adopt(kind, panel);
  }

  /** Opens the configured panels when a new session starts (F5), if the setting says so. */
  sourceChanged(): void {
    const s = this.source.current();
    if (!s || s === this.lastSession) {
      this.lastSession = s ?? this.lastSession;
      return;
    }
    this.lastSession = s;
    const config = vscode.workspace.getConfiguration('lockstep.panels');
    if (!config.get<boolean>('openOnStart', true)) return;
    const wanted = config.get<unknown>('startPanels', DEFAULT_START_PANELS);
    const kinds = Array.isArray(wanted) ? PANEL_KINDS.filter((k) => wanted.includes(k)) : [...DEFAULT_START_PANELS];
    if (Array.isArray(wanted) && wanted.some((w) => !(PANEL_KINDS as readonly unknown[]).includes(w))) {
      this.log.warn(`lockstep.panels.startPanels: unknown panel in ${JSON.stringify(wanted)} (expected ${PANEL_KINDS.join(', ')})`);
    }
    this.openMany(kinds, true);
  }

  dispose(): void {
    for (const h of [...this.hosts.values()]) h.dispose();
    this.hosts.clear();
    this.services.thumbnails.dispose();
  }

  private adopt(kind: PanelKind, panel: vscode.WebviewPanel): PanelHost {
    const host = new PanelHost(kind, panel, this.extensionUri, (channel) => this.controllerFor(kind, channel), (h) => {
      if (this.hosts.get(kind) === h) this.hosts.delete(kind);
      this.screensMayHaveChanged();
    });
    this.hosts.set(kind, host);
    this.screensMayHaveChanged();
    return host;
  }

  private screensMayHaveChanged(): void {
    const shown = SCREEN_SHOWING_PANELS.some((k) => this.hosts.has(k));
    if (shown === this.screensShown) return;
    this.screensShown = shown;
    this.options.onScreensShown?.(shown);
  }

  private controllerFor(kind: PanelKind, channel: PanelChannel): HostedController {
    switch (kind) {
      case 'screen':
        return new ScreenController(channel, this.source, this.services);
      case 'buffer':
        return new BufferController(channel, this.source, this.services);
      case 'metrics':
        return new MetricsController(channel, this.source, this.services);
      case 'timeline':
        return new TimelineController(channel, this.source, this.services);
      case 'agentView':
        return new AgentViewController(channel, this.source, this.services);
      default: {
        const _x: never = kind;
        throw new Error(`unknown panel ${String(_x)}`);
      }
    }
  }
}

/** The timeline's click: the debug session stops on the tick (so the call stack, variables and panels follow). */
async function travel(tick: number): Promise<void> {
  const session = vscode.debug.activeDebugSession;
  if (session?.type !== 'lockstep') throw new Error('No Lockstep debug session is active: start one (F5) to travel.');
  await session.customRequest('lockstep.travel', { tick });
}

async function saveFile(r: SaveRequest): Promise<string | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await vscode.window.showSaveDialog({
    title: r.title,
    saveLabel: 'Save',
    filters: r.filters,
    defaultUri: folder ? vscode.Uri.joinPath(folder, r.defaultName) : undefined,
  });
  if (!uri) return undefined;
  await vscode.workspace.fs.writeFile(uri, r.data);
  return uri.fsPath;
}

/**
 * Everything the panels contribute. The extension passes the RuntimeSource the debug adapter feeds (a LiveRuntimeSource)
 * and its log channel; disposing the result closes the panels and unregisters the commands and serializers.
 */
export function registerPanels(context: vscode.ExtensionContext, source: RuntimeSource, log: PanelLog, options: PanelOptions = {}): vscode.Disposable {
  const manager = new PanelManager(context.extensionUri, source, log, options);
  const subs: vscode.Disposable[] = [manager];
  for (const kind of PANEL_KINDS) {
    subs.push(vscode.commands.registerCommand(PANEL_COMMANDS[kind], () => manager.open(kind)));
    subs.push(vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPES[kind], {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => manager.revive(kind, panel),
    }));
  }
  subs.push(vscode.commands.registerCommand(PANEL_COMMANDS.all, () => manager.openMany(DEFAULT_START_PANELS, false)));
  const sourceSub = source.onDidChange(() => manager.sourceChanged());
  subs.push({ dispose: () => sourceSub.dispose() });
  return vscode.Disposable.from(...subs);
}
