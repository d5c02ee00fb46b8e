// The HTML shell of a panel webview: strict CSP with a per-load nonce, the panel's bundle and the shared stylesheet.
import type { PanelKind } from '../../webview/panelMessages';

export interface PanelHtmlOptions {
  kind: PanelKind;
  title: string;
  /** webview.cspSource: the origin asWebviewUri resources come from. */
  cspSource: string;
  nonce: string;
  /** asWebviewUri(dist/webview/<kind>Panel.js) and asWebviewUri(media/panels.css), as strings. */
  scriptUri: string;
  styleUri: string;
}

/** Bundle file name (in dist/webview) per panel; esbuild.mjs builds these entries. */
export const PANEL_SCRIPTS: Record<PanelKind, string> = {
  screen: 'screenPanel.js',
  buffer: 'bufferPanel.js',
  metrics: 'metricsPanel.js',
  timeline: 'timelinePanel.js',
  agentView: 'agentViewPanel.js',
};

const NONCE_RE = /^[A-Za-z0-9+/=_-]{16,}$/;

/**
 * No 'unsafe-eval' and no 'unsafe-inline': scripts and the stylesheet come from the extension's own files, a <style>
 * or <script> needs the nonce. Canvas read-back and PNG export need no `blob:`/`data:` sources (toBlob is not a fetch).
 */
/**
 * webview.cspSource is an origin in VS Code desktop, but a list such as `'self' https://*.vscode-cdn.net` in code-server
 * and vscode.dev: accept space-separated origins and 'self', nothing that could end the directive or the attribute.
 */
const CSP_SOURCE_RE = /^(?:'self'|[^\s'";,<>]+)(?: (?:'self'|[^\s'";,<>]+))*$/;

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function panelHtml(o: PanelHtmlOptions): string {
  if (!NONCE_RE.test(o.nonce)) throw new Error(`panel HTML: nonce must be 16+ base64/url-safe characters, got ${JSON.stringify(o.nonce)}`);
  if (!CSP_SOURCE_RE.test(o.cspSource)) {
    throw new Error(`panel HTML: cspSource must be CSP source expressions (origins or 'self'), got ${JSON.stringify(o.cspSource)}`);
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(o.cspSource, o.nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(o.styleUri)}" nonce="${o.nonce}">
<title>${text(o.title)}</title>
</head>
<body data-panel="${o.kind}">
<main id="app" aria-live="polite"></main>
<script nonce="${o.nonce}" src="${attr(o.scriptUri)}"></script>
</body>
</html>
`;
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function text(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
