// Hosts one panel in a VS Code webview: options and CSP, the message channel, visibility, and the controller's lifetime.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { PanelKind } from '../../webview/panelMessages';
import type { PanelChannel } from './panelController';
import { PANEL_SCRIPTS, panelHtml } from './panelHtml';

export const PANEL_VIEW_TYPES: Record<PanelKind, string> = {
  screen: 'lockstep.screen',
  buffer: 'lockstep.buffer',
  metrics: 'lockstep.metrics',
  timeline: 'lockstep.timeline',
  agentView: 'lockstep.agentView',
};

export const PANEL_TITLES: Record<PanelKind, string> = {
  screen: 'NES Screen',
  buffer: 'Sync Buffer',
  metrics: 'Sync Metrics',
  timeline: 'Timeline',
  agentView: "Agent's-Eye View",
};

/** What a PanelHost needs of a controller (PanelController fits). */
export interface HostedController {
  setVisible(visible: boolean): void;
  dispose(): void;
}

/** Webviews may load nothing but the panel bundles and the stylesheet. */
export function panelWebviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export class PanelHost implements vscode.Disposable {
  private readonly controller: HostedController;
  private readonly subs: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    readonly kind: PanelKind,
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    makeController: (channel: PanelChannel) => HostedController,
    private readonly onClosed: (host: PanelHost) => void,
  ) {
    const webview = panel.webview;
    webview.options = panelWebviewOptions(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'lockstep-panel.svg');
    const channel: PanelChannel = {
      // postMessage resolves false while the webview is not live; flow control's stall timeout covers that.
      post: (m) => void webview.postMessage(m),
      onMessage: (listener) => webview.onDidReceiveMessage(listener),
    };
    // The controller subscribes to messages before the HTML loads, so the webview's `ready` is never missed.
    this.controller = makeController(channel);
    this.controller.setVisible(panel.visible);
    webview.html = panelHtml({
      kind,
      title: PANEL_TITLES[kind],
      cspSource: webview.cspSource,
      nonce: randomBytes(18).toString('base64'),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', PANEL_SCRIPTS[kind])).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'panels.css')).toString(),
    });
    this.subs.push(
      panel.onDidChangeViewState((e) => this.controller.setVisible(e.webviewPanel.visible)),
      panel.onDidDispose(() => this.closed()),
    );
  }

  /**
   * Brings the panel to the front of the editor group it is in. Without a column VS Code reveals it in the active group,
   * i.e. moves it over to wherever the frame sheet just opened, and the panel stays behind in the user's eyes.
   */
  reveal(preserveFocus: boolean): void {
    this.panel.reveal(this.panel.viewColumn, preserveFocus);
  }

  dispose(): void {
    if (this.disposed) return;
    this.panel.dispose();
    this.closed();
  }

  private closed(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.controller.dispose();
    for (const s of this.subs) s.dispose();
    this.onClosed(this);
  }
}
