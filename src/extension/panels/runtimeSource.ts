// Where panels find the live session: the RuntimeSource interface and LiveRuntimeSource, the implementation the extension feeds.
import type { LockstepRuntime } from '../../core/runtime/runtime';
import type { RamMap } from '../../core/config/ramMap';

export interface DisposableLike {
  dispose(): void;
}

/** What panels need of a session; a BuiltSession (src/session/sessionBuilder.ts) is one. */
export interface PanelSession {
  runtime: LockstepRuntime;
  /** Gives the buffer panel variable addresses and meanings; without it only names and values show. */
  ramMap?: RamMap;
  /** Session id, shown and used to tell sessions apart. */
  session?: string;
  romPath?: string;
}

/**
 * The panels' only view of sessions. `onDidChange` fires when a session's runtime appears or goes away, and whenever
 * the runtime changed in a way its own events do not announce (step back, RAM writes); panels also poll for those.
 * A vscode.Event<void> fits `onDidChange`.
 */
export interface RuntimeSource {
  current(): PanelSession | undefined;
  onDidChange(listener: () => void): DisposableLike;
}

/** Fed by the extension: attach() when the debug adapter hands over a BuiltSession, dispose the result when it ends. */
export class LiveRuntimeSource implements RuntimeSource {
  private live: PanelSession | undefined;
  private readonly listeners = new Set<() => void>();

  current(): PanelSession | undefined {
    return this.live;
  }

  onDidChange(listener: () => void): DisposableLike {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Makes this session the current one; disposing the result detaches it (only if it is still current). */
  attach(session: PanelSession): DisposableLike {
    this.live = session;
    this.changed();
    return {
      dispose: () => {
        if (this.live !== session) return;
        this.live = undefined;
        this.changed();
      },
    };
  }

  /** Tells the panels to look again (after a step back or a RAM write, so they need not wait for their poll). */
  changed(): void {
    for (const l of [...this.listeners]) l();
  }
}
