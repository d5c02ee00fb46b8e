// What every panel webview shares: the ready/hello handshake with its version check, and the session bar (ROM, live/ended).
import { h } from './dom';
import { PANEL_PROTOCOL_VERSION, type HostMessage, type PanelKind, type SessionInfo } from './panelMessages';
import type { PanelApi } from './vscodeApi';

/** The host messages a panel may show: everything but the shell's own (hello, session). */
export type PanelHostMessage = Exclude<HostMessage, { type: 'hello' } | { type: 'session' }>;

export interface ShellHandlers<K extends PanelHostMessage['type']> {
  /** The session shown changed (hello, new session, session ended); null when there is none. */
  session(session: SessionInfo | null): void;
  /** The kinds of host message this panel shows; the others (another panel's) are not handed to it. */
  kinds: readonly K[];
  message(m: Extract<PanelHostMessage, { type: K }>): void;
}

/** Session bar: ROM name and a badge saying whether the session is live. */
export class SessionBar {
  readonly element: HTMLElement;
  private readonly rom: HTMLElement;
  private readonly badge: HTMLElement;
  private readonly warning: HTMLElement;

  constructor() {
    this.rom = h('span', { class: 'rom', id: 'session-rom' }, 'No session');
    this.badge = h('vscode-badge', { id: 'session-state', variant: 'counter' }, 'idle');
    this.warning = h('span', { class: 'warning', id: 'session-warning', hidden: true });
    this.element = h('div', { class: 'session-bar' }, this.rom, this.badge, this.warning);
  }

  show(s: SessionInfo | null): void {
    this.rom.textContent = s ? s.rom : 'No session';
    this.rom.title = s ? `session ${s.id}` : 'Start debugging with a lockstep launch configuration (F5)';
    this.badge.textContent = !s ? 'idle' : s.live ? 'live' : 'ended';
    this.badge.dataset.state = !s ? 'idle' : s.live ? 'live' : 'ended';
  }

  warn(text: string | null): void {
    this.warning.hidden = text === null;
    this.warning.textContent = text ?? '';
  }
}

/** Listens for host messages, then announces the webview with `ready` (the host answers with `hello`). */
export function startPanel<S extends object, K extends PanelHostMessage['type']>(kind: PanelKind, api: PanelApi<S>, bar: SessionBar, handlers: ShellHandlers<K>): void {
  const own = new Set<string>(handlers.kinds);
  window.addEventListener('message', (event: MessageEvent) => {
    const m = event.data as HostMessage;
    if (typeof m !== 'object' || m === null || typeof (m as { type?: unknown }).type !== 'string') return;
    try {
      switch (m.type) {
        case 'hello':
          bar.warn(m.version === PANEL_PROTOCOL_VERSION ? null
            : `This panel speaks protocol ${PANEL_PROTOCOL_VERSION}, the extension ${m.version}: close and reopen the panel.`);
          bar.show(m.session);
          handlers.session(m.session);
          return;
        case 'session':
          bar.show(m.session);
          handlers.session(m.session);
          return;
        case 'screen':
        case 'bufferRows':
        case 'bufferDetail':
        case 'metrics':
        case 'timeline':
        case 'timelinePeek':
        case 'agentView':
        case 'travelled':
        case 'saved':
          if (own.has(m.type)) handlers.message(m as Extract<PanelHostMessage, { type: K }>);
          return;
        default: {
          const _x: never = m;
          api.post({ type: 'log', level: 'warn', message: `unknown host message ${JSON.stringify((_x as { type: string }).type)}` });
        }
      }
    } catch (e) {
      api.post({ type: 'log', level: 'error', message: `${kind} panel: ${(e as Error).stack ?? String(e)}` });
    }
  });
  api.post({ type: 'ready', version: PANEL_PROTOCOL_VERSION, panel: kind });
}
