// Base of the per-panel controllers: follows the RuntimeSource, speaks the webview protocol, owns one flow-controlled stream.
import type { LockstepRuntime } from '../../core/runtime/runtime';
import {
  PANEL_PROTOCOL_VERSION, parseWebviewMessage,
  type HostMessage, type PanelKind, type WebviewMessage,
} from '../../webview/panelMessages';
import { FrameFlowController, type FlowStats } from './frameFlowController';
import type { DisposableLike, PanelSession, RuntimeSource } from './runtimeSource';
import type { SessionDirectory } from './sessionDirectory';

/** The webview end of a panel. */
export interface PanelChannel {
  post(message: HostMessage): void;
  onMessage(listener: (raw: unknown) => void): DisposableLike;
}

export type PanelLog = { info(message: string): void; warn(message: string): void; error(message: string): void };

export interface SaveRequest {
  title: string;
  defaultName: string;
  filters: Record<string, string[]>;
  data: Uint8Array;
}

export interface PanelServices {
  log: PanelLog;
  sessions: SessionDirectory;
  /** Asks where to save and writes the file; resolves to the path, or undefined when the user cancelled. */
  saveFile(request: SaveRequest): Promise<string | undefined>;
  /**
   * Stops the debug session on a session-history tick (the timeline's click), through the debug adapter's
   * `lockstep.travel`, so VS Code shows the stop; rejects with the reason it could not. Absent: no debug session.
   */
  travel?(tick: number): Promise<void>;
  /** Wall clock in ms, the runtime's clock (default performance.timeOrigin + performance.now()). */
  now?: () => number;
  /** How often to look for changes the runtime does not announce (step back, RAM writes), in ms. */
  pollMs?: number;
}

export interface StreamSettings {
  highWatermark: number;
  lowWatermark: number;
  stallTimeoutMs: number;
}

const wallNow = () => performance.timeOrigin + performance.now();

/** Knows nothing of vscode: a PanelChannel (a webview, or a test page) and PanelServices (save dialog, log) are injected. */
export abstract class PanelController<T> {
  protected session: PanelSession | undefined;
  protected live = false;
  protected readonly now: () => number;
  protected readonly flow: FrameFlowController<T>;
  private ready = false;
  private visible = true;
  private runtimeSubs: Array<() => void> = [];
  private readonly subs: DisposableLike[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private disposed = false;

  constructor(
    readonly kind: PanelKind,
    protected readonly channel: PanelChannel,
    private readonly source: RuntimeSource,
    protected readonly services: PanelServices,
    stream: StreamSettings,
  ) {
    this.now = services.now ?? wallNow;
    this.flow = new FrameFlowController<T>({ ...stream, now: this.now, send: (item, seq) => this.post(this.build(item, seq)), sameItem: (a, b) => this.sameItem(a, b) });
    this.flow.setPaused(true);
  }

  /** Subclasses call this last in their constructor (their fields must exist before the first callbacks). */
  protected start(): void {
    if (this.timer !== undefined) return;
    this.subs.push(this.channel.onMessage((raw) => this.receive(raw)));
    this.subs.push(this.source.onDidChange(() => this.follow()));
    this.timer = setInterval(() => this.poll(), this.services.pollMs ?? 100);
    this.follow();
  }

  get runtime(): LockstepRuntime | undefined {
    return this.session?.runtime;
  }

  get flowStats(): FlowStats {
    return this.flow.stats;
  }

  /**
   * The panel was hidden or shown: a hidden webview cannot acknowledge, so nothing is sent meanwhile. Shown again, it is
   * told the session and the held frame anew: VS Code may have moved or rebuilt the webview meanwhile (another editor
   * over it, a group joined) and a message posted while it was hidden can be lost, which left it reading "No session".
   */
  setVisible(visible: boolean): void {
    const shown = visible && !this.visible;
    this.visible = visible;
    if (shown && this.ready && !this.disposed) {
      this.post({ type: 'session', session: this.session ? this.services.sessions.info(this.session, this.live) : null });
      // Offered while still paused, the held frame takes the pending slot (the same frame is not a drop) and goes once.
      this.onReady();
    }
    this.flow.setPaused(!this.ready || !visible);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.timer);
    this.unsubscribeRuntime();
    for (const s of this.subs) s.dispose();
    this.subs.length = 0;
  }

  /** Builds the streamed message for an item the flow controller lets through. */
  protected abstract build(item: T, seq: number): HostMessage;
  /** A new session is shown (its runtime's events are subscribed by the subclass through `listen`). */
  protected abstract onSession(session: PanelSession): void;
  /** The webview (re)started and has the hello: send it everything it needs. */
  protected abstract onReady(): void;
  /** Periodic check for changes that came without an event. */
  protected abstract onPoll(): void;

  /** Whether `newer` only refreshes `older` (so replacing it unsent skips nothing); see FlowOptions.sameItem. */
  protected sameItem(_older: T, _newer: T): boolean {
    return false;
  }

  protected onSavePng(_m: Extract<WebviewMessage, { type: 'savePng' }>): void {
    this.services.log.warn(`${this.kind} panel: unexpected savePng message`);
  }
  protected onSelectRow(_m: Extract<WebviewMessage, { type: 'selectRow' }>): void {
    this.services.log.warn(`${this.kind} panel: unexpected selectRow message`);
  }
  protected onExportCsv(): void {
    this.services.log.warn(`${this.kind} panel: unexpected exportCsv message`);
  }
  protected onPeek(_m: Extract<WebviewMessage, { type: 'peek' }>): void {
    this.services.log.warn(`${this.kind} panel: unexpected peek message`);
  }
  protected onTravel(_m: Extract<WebviewMessage, { type: 'travel' }>): void {
    this.services.log.warn(`${this.kind} panel: unexpected travel message`);
  }

  /** Subscribes to the shown runtime's events until the session changes. */
  protected listen(off: () => void): void {
    this.runtimeSubs.push(off);
  }

  protected post(message: HostMessage): void {
    if (this.disposed) return;
    try {
      this.channel.post(message);
    } catch (e) {
      this.services.log.warn(`${this.kind} panel: could not post ${message.type}: ${(e as Error).message}`);
    }
  }

  protected get isReady(): boolean {
    return this.ready;
  }

  /** Saves through the host's dialog and tells the webview how it went. */
  protected async save(what: 'png' | 'csv', request: SaveRequest): Promise<void> {
    try {
      const path = await this.services.saveFile(request);
      this.post({ type: 'saved', what, path: path ?? null, error: null });
      if (path) this.services.log.info(`${this.kind} panel: saved ${path}`);
    } catch (e) {
      const error = (e as Error).message;
      this.services.log.error(`${this.kind} panel: saving failed: ${error}`);
      this.post({ type: 'saved', what, path: null, error });
    }
  }

  private follow(): void {
    if (this.disposed) return;
    const s = this.source.current();
    if (s && s !== this.session) {
      this.unsubscribeRuntime();
      this.session = s;
      this.live = true;
      this.onSession(s);
      if (this.ready) this.post({ type: 'session', session: this.services.sessions.info(s, true) });
    } else if (!s && this.live) {
      // The session ended: keep showing its last data, marked as ended.
      this.live = false;
      this.unsubscribeRuntime();
      if (this.ready && this.session) this.post({ type: 'session', session: this.services.sessions.info(this.session, false) });
    }
    this.safePoll();
  }

  private poll(): void {
    this.flow.tick();
    this.safePoll();
  }

  private safePoll(): void {
    try {
      this.onPoll();
    } catch (e) {
      this.services.log.warn(`${this.kind} panel: ${(e as Error).message}`);
    }
  }

  private unsubscribeRuntime(): void {
    for (const off of this.runtimeSubs) off();
    this.runtimeSubs = [];
  }

  private receive(raw: unknown): void {
    let m: WebviewMessage;
    try {
      m = parseWebviewMessage(raw);
    } catch (e) {
      this.services.log.warn(`${this.kind} panel: ignored a bad message: ${(e as Error).message}`);
      return;
    }
    try {
      this.handle(m);
    } catch (e) {
      this.services.log.warn(`${this.kind} panel: ${m.type}: ${(e as Error).message}`);
    }
  }

  private handle(m: WebviewMessage): void {
    switch (m.type) {
      case 'ready': {
        if (m.version !== PANEL_PROTOCOL_VERSION) {
          this.services.log.error(`${this.kind} panel speaks protocol ${m.version}, the extension ${PANEL_PROTOCOL_VERSION}: close and reopen it`);
        }
        if (m.panel !== this.kind) this.services.log.error(`a ${m.panel} webview is attached to the ${this.kind} panel host`);
        this.ready = true;
        this.post({ type: 'hello', version: PANEL_PROTOCOL_VERSION, panel: this.kind, session: this.session ? this.services.sessions.info(this.session, this.live) : null });
        this.flow.reset();
        this.flow.setPaused(!this.visible);
        this.onReady();
        return;
      }
      case 'ack':
        this.flow.ack(m.seq);
        return;
      case 'savePng':
        this.onSavePng(m);
        return;
      case 'selectRow':
        this.onSelectRow(m);
        return;
      case 'exportCsv':
        this.onExportCsv();
        return;
      case 'peek':
        this.onPeek(m);
        return;
      case 'travel':
        this.onTravel(m);
        return;
      case 'log':
        this.services.log[m.level](`${this.kind} webview: ${m.message}`);
        return;
      default: {
        const _x: never = m;
        throw new Error(`unhandled webview message ${JSON.stringify(_x)}`);
      }
    }
  }
}

/** A typed array with its own buffer: VS Code transfers the whole underlying ArrayBuffer of a view. */
export function ownBytes(a: Uint8Array): Uint8Array {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
}
