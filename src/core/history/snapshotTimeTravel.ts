// Session-history keyframes for an emulator without its own (FCEUX): its snapshots as keyframes, replays from them.
//
// FCEUX keeps snapshots as in-memory savestates in the Lua bridge (savestate.create/save/load), so a keyframe costs
// one round trip; a keyframe keeps its picture only when the history asks (episode starts): 246 KB a picture against
// the 80 KB of a savestate. A replay is one request when the emulator can replay itself (FceuxEmulator.replaySnapshot:
// the Lua bridge runs the recorded frames and sends every state back), else one load and one step per frame. FCEUX
// does not say how big its savestates are: the bytes reported are an estimate (`bytesPerKeyframe`, plus the pictures),
// which the budget counts like any keyframe bytes.
import { hasScreen, type EmulatorFrame, type EmulatorPort, type SnapshotHandle } from '../ports';
import { WORK_RAM_SIZE as RAM_SIZE } from '../nes';
import type { ReplayResult, ReplayWrite, TimeTravelPort } from './timeTravelPort';

/**
 * One FCEUX in-memory savestate: Lua's savestate.save writes it uncompressed, with FCEUX's 64 KB back buffer inside
 * (RAM, PPU and mapper state are the rest). Measured: the FCEUX process grows 79 KB per keyframe on the demo ROM.
 */
export const FCEUX_SAVESTATE_BYTES_ESTIMATE = 80 * 1024;
/** What a keyframe kept with its picture adds: the gd picture lockstep.lua keeps beside the savestate. */
export const FCEUX_PICTURE_BYTES = 11 + 256 * 240 * 4;

export class SnapshotTimeTravel implements TimeTravelPort {
  private readonly handles = new Map<number, Promise<SnapshotHandle>>();
  /** Keyframes kept with their picture (episode starts). */
  private readonly withPicture = new Set<number>();

  constructor(
    private readonly emulator: EmulatorPort,
    private readonly bytesPerKeyframe = FCEUX_SAVESTATE_BYTES_ESTIMATE,
  ) {}

  saveKeyframe(id: number, withScreen: boolean): void {
    this.dropKeyframe(id);
    // The emulator serialises its requests: this save happens before any later step, even though nobody awaits it.
    const saving = this.emulator.saveSnapshot({ screen: withScreen });
    saving.catch(() => undefined);
    this.handles.set(id, saving);
    if (withScreen) this.withPicture.add(id);
  }

  dropKeyframe(id: number): void {
    const saving = this.handles.get(id);
    if (!saving) return;
    this.handles.delete(id);
    this.withPicture.delete(id);
    saving.then((h) => this.emulator.dropSnapshot(h), () => undefined);
  }

  async replay(id: number, buttons: Uint8Array, writes: ReplayWrite[], options: { screen?: boolean } = {}): Promise<ReplayResult> {
    const saving = this.handles.get(id);
    if (!saving) throw new Error(`keyframe ${id} is not kept (thinned, or the emulator restarted)`);
    const handle = await saving.catch((e: Error) => {
      throw new Error(`keyframe ${id} was never saved: ${e.message}`);
    });
    const n = buttons.length >> 1;
    const rams = new Uint8Array((n + 1) * RAM_SIZE);
    let f: EmulatorFrame;
    if (this.emulator.replaySnapshot) {
      const states = await this.emulator.replaySnapshot(handle, buttons, writes, { screen: !!options.screen });
      if (states.length !== n + 1) throw new Error(`the emulator replayed ${states.length} state(s), ${n + 1} expected`);
      states.forEach((s, i) => rams.set(s.ram.subarray(0, RAM_SIZE), i * RAM_SIZE));
      f = states[n];
    } else {
      f = await this.emulator.loadSnapshot(handle);
      for (let i = 0; ; i++) {
        const here = writes.filter((w) => w.at === i);
        for (const w of here) await this.emulator.writeRam(w.address, w.bytes);
        if (here.length) f = await this.emulator.current();
        rams.set(f.ram.subarray(0, RAM_SIZE), i * RAM_SIZE);
        if (i === n) break;
        f = await this.emulator.step([buttons[2 * i], buttons[2 * i + 1]], { screen: !!options.screen && i === n - 1 && !writes.some((w) => w.at === n) });
      }
    }
    // A keyframe's own state has a picture only when it was kept with one (the history asks for a screen there only
    // then); the emulator answers without a screen rather than with another frame's picture.
    if (options.screen && !hasScreen(f)) f = await this.emulator.current({ screen: true });
    return { frame: f, rams };
  }

  async keyframeStats(): Promise<{ bytes: number; count: number }> {
    return { bytes: this.handles.size * this.bytesPerKeyframe + this.withPicture.size * FCEUX_PICTURE_BYTES, count: this.handles.size };
  }
}
