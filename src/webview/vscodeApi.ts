// Typed access to the webview's VS Code API: post protocol messages, keep the panel's UI state across reloads.
import type { WebviewMessage } from './panelMessages';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState<T>(state: T): T;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** acquireVsCodeApi may be called once per page: each panel entry creates exactly one PanelApi. */
export class PanelApi<S extends object> {
  private readonly api: VsCodeApi;
  private current: S;

  constructor(defaults: S, isState: (v: unknown) => v is Partial<S>) {
    this.api = acquireVsCodeApi();
    const saved = this.api.getState();
    this.current = { ...defaults, ...(isState(saved) ? saved : {}) };
  }

  post(message: WebviewMessage): void {
    this.api.postMessage(message);
  }

  get state(): Readonly<S> {
    return this.current;
  }

  /** Merges and persists: VS Code hands it back through getState() when the panel is restored. */
  update(patch: Partial<S>): void {
    this.current = { ...this.current, ...patch };
    this.api.setState(this.current);
  }
}

/** Plain object check for restored state (it is whatever an older version of the panel saved). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
