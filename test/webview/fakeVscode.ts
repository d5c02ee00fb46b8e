// A small stand-in for the `vscode` module: just what registerPanels and PanelHost use, recording what they do.
import { posix } from 'node:path';

export class FakeUri {
  constructor(readonly scheme: string, readonly path: string) {}
  static file(p: string): FakeUri {
    return new FakeUri('file', p);
  }
  static joinPath(base: FakeUri, ...parts: string[]): FakeUri {
    return new FakeUri(base.scheme, posix.join(base.path, ...parts));
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

type Listener<T> = (e: T) => void;

class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  readonly event = (l: Listener<T>) => {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
}

export class FakeWebview {
  options: { enableScripts?: boolean; localResourceRoots?: FakeUri[] } = {};
  html = '';
  readonly cspSource = 'https://fake.vscode-cdn.net';
  readonly posted: unknown[] = [];
  readonly received = new Emitter<unknown>();
  readonly onDidReceiveMessage = this.received.event;
  asWebviewUri(uri: FakeUri): FakeUri {
    return new FakeUri('https', `fake.vscode-cdn.net${uri.path}`);
  }
  async postMessage(m: unknown): Promise<boolean> {
    this.posted.push(m);
    return true;
  }
}

export class FakePanel {
  readonly webview = new FakeWebview();
  visible = true;
  disposed = false;
  iconPath: unknown;
  revealed = 0;
  /** The column each reveal() asked for (undefined: VS Code's active group). */
  readonly revealColumns: Array<number | undefined> = [];
  private readonly viewState = new Emitter<{ webviewPanel: FakePanel }>();
  private readonly disposeEmitter = new Emitter<void>();
  readonly onDidChangeViewState = this.viewState.event;
  readonly onDidDispose = this.disposeEmitter.event;
  constructor(readonly viewType: string, readonly title: string, public viewColumn: number, readonly preserveFocus: boolean) {}
  reveal(column?: number): void {
    this.revealed++;
    this.revealColumns.push(column);
    if (column !== undefined) this.viewColumn = column;
  }
  setVisible(v: boolean): void {
    this.visible = v;
    this.viewState.fire({ webviewPanel: this });
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeEmitter.fire();
  }
}

export function createFakeVscode(settings: Record<string, unknown> = {}) {
  const commands = new Map<string, (...args: unknown[]) => unknown>();
  const serializers = new Map<string, { deserializeWebviewPanel(panel: FakePanel, state: unknown): Promise<void> }>();
  const panels: FakePanel[] = [];
  let nextColumn = 2;
  const Disposable = class {
    constructor(private readonly fn: () => void) {}
    static from(...ds: Array<{ dispose(): unknown }>) {
      return new Disposable(() => { for (const d of ds) d.dispose(); });
    }
    dispose(): void {
      this.fn();
    }
  };
  const api = {
    Uri: FakeUri,
    Disposable,
    ViewColumn: { Active: -1, Beside: -2, One: 1, Two: 2, Three: 3 },
    commands: {
      registerCommand(id: string, fn: (...args: unknown[]) => unknown) {
        if (commands.has(id)) throw new Error(`command ${id} already registered`);
        commands.set(id, fn);
        return new Disposable(() => commands.delete(id));
      },
    },
    window: {
      createWebviewPanel(viewType: string, title: string, show: { viewColumn: number; preserveFocus?: boolean }, options: FakeWebview['options']) {
        // Beside opens a new group to the right; an explicit column reuses that group.
        const column = show.viewColumn === -2 ? nextColumn++ : show.viewColumn;
        const p = new FakePanel(viewType, title, column, !!show.preserveFocus);
        p.webview.options = options;
        panels.push(p);
        return p;
      },
      registerWebviewPanelSerializer(viewType: string, s: { deserializeWebviewPanel(panel: FakePanel, state: unknown): Promise<void> }) {
        serializers.set(viewType, s);
        return new Disposable(() => serializers.delete(viewType));
      },
      async showSaveDialog() {
        return undefined;
      },
    },
    workspace: {
      workspaceFolders: undefined,
      getConfiguration(section: string) {
        return { get: <T>(key: string, fallback: T): T => (`${section}.${key}` in settings ? settings[`${section}.${key}`] as T : fallback) };
      },
      fs: { writeFile: async () => undefined },
    },
  };
  return { api, commands, serializers, panels, settings };
}
