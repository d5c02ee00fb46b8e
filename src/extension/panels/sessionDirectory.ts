// Gives each session the panels see one stable SessionInfo (id, start time, RAM variables), shared by every panel.
import { basename } from 'node:path';
import type { LockstepRuntime } from '../../core/runtime/runtime';
import type { SessionInfo } from '../../webview/panelMessages';
import type { PanelSession } from './runtimeSource';

interface Known {
  id: string;
  startedAt: number;
}

export class SessionDirectory {
  private readonly known = new WeakMap<LockstepRuntime, Known>();
  private counter = 0;

  constructor(private readonly now: () => number) {}

  /** When the panels first saw this session (the zero of chart time axes). */
  startedAt(s: PanelSession): number {
    return this.entry(s).startedAt;
  }

  info(s: PanelSession, live: boolean): SessionInfo {
    const { id, startedAt } = this.entry(s);
    const rt = s.runtime;
    return {
      id,
      rom: rt.romInfo?.name ?? (s.romPath ? basename(s.romPath) : 'ROM loading…'),
      startedAt,
      live,
      screens: rt.wantsScreens,
      screensOff: rt.screenCaptureSetting === false,
      bufferCapacity: rt.buffer.capacity,
      ramVars: (s.ramMap?.variables ?? []).map((v) => ({ name: v.name, address: v.address, size: v.size, signed: v.signed, meaning: v.meaning })),
    };
  }

  private entry(s: PanelSession): Known {
    let k = this.known.get(s.runtime);
    if (!k) {
      k = { id: s.session ?? `session-${++this.counter}`, startedAt: this.now() };
      this.known.set(s.runtime, k);
    }
    return k;
  }
}
