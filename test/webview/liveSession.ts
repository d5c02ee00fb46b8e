// Real sessions for the panel tests: the demo ROM on the in-process emulator, agents that hold buttons or desync on purpose.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LockstepRuntime } from '../../src/core/runtime/runtime';
import { InProcessEmulator } from '../../src/emulators/embedded/embeddedEmulator';
import { defaultSyncConfig, mergeSyncConfig, type SyncConfig } from '../../src/core/config/config';
import { parseRamMap } from '../../src/core/config/ramMap';
import { BUTTON } from '../../src/core/buttons';
import type { AgentAction, AgentPort, Observation } from '../../src/core/ports';
import { SessionDirectory } from '../../src/extension/panels/sessionDirectory';
import type { PanelServices, SaveRequest } from '../../src/extension/panels/panelController';
import { ROOT } from './harness';

export const ROM = join(ROOT, 'roms', 'demo', 'demo.nes');
export const RAM_MAP = parseRamMap(readFileSync(join(ROOT, 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');

/** Holds B+RIGHT on controller 1; answers its `skipAt`-th calls with a frame id `gap` ahead (a real desync: gap 2 is a minor_skip), then behaves. */
export class HoldingAgent implements AgentPort {
  readonly name = 'holding';
  readonly wantsScreen = false;
  private calls = 0;
  constructor(private readonly skipAt: ReadonlySet<number> = new Set(), private readonly gap = 2) {}
  async act(obs: Observation): Promise<AgentAction> {
    const n = this.calls++;
    return { frame: this.skipAt.has(n) ? obs.frame + this.gap : obs.frame, buttons: BUTTON.RIGHT | BUTTON.B };
  }
  async close(): Promise<void> {}
}

/** captureScreens: 'panels' leaves it out of the options, so capture follows setScreensShown as in a Debug ROM session. */
export async function liveRuntime(opts: { stepBackDepth?: number; skipAt?: number[]; sync?: Partial<SyncConfig>; captureScreens?: boolean | 'panels'; history?: boolean; maxSteps?: number } = {}): Promise<LockstepRuntime> {
  const capture = opts.captureScreens ?? true;
  const rt = new LockstepRuntime(
    { emulator: new InProcessEmulator(), agents: [new HoldingAgent(new Set(opts.skipAt ?? [])), undefined], ramMap: RAM_MAP, sync: mergeSyncConfig(defaultSyncConfig(), opts.sync ?? {}) },
    {
      romPath: ROM, captureScreens: capture === 'panels' ? undefined : capture, stepBackDepth: opts.stepBackDepth ?? 0,
      ...(opts.history ? { history: {} } : {}), ...(opts.maxSteps !== undefined ? { maxSteps: opts.maxSteps } : {}),
    },
  );
  await rt.start();
  return rt;
}

export interface TestServices extends PanelServices {
  logs: string[];
  saved: SaveRequest[];
}

/** Services whose save dialog "saves" to `savePath` (undefined = the user cancels). */
export function makeServices(savePath?: string): TestServices {
  const logs: string[] = [];
  const saved: SaveRequest[] = [];
  return {
    logs,
    saved,
    log: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) },
    sessions: new SessionDirectory(() => performance.timeOrigin + performance.now()),
    saveFile: async (r) => {
      saved.push(r);
      return savePath;
    },
    pollMs: 30,
  };
}
