// Serves machine requests against one NesMachine and its snapshots: the logic the worker and the in-process emulator share.
import { WORK_RAM_SIZE as RAM_SIZE } from '../../core/nes';
import { KeyframeStore } from './keyframeStore';
import { NesMachine, type MachineSnapshot } from './nesMachine';
import type { FrameReply, MachineReplyBody, MachineRequestBody } from './workerProtocol';

export class MachineSession {
  private machine: NesMachine | undefined;
  private readonly snapshots = new Map<number, MachineSnapshot>();
  private nextSnapshotId = 1;
  /** Whether frame replies carry PRG-RAM (set by start). */
  private withPrgRam = false;
  private readonly keyframes = new KeyframeStore();

  /** Answers one request; failures come back as an error reply, never as a throw. */
  async handle(req: MachineRequestBody): Promise<MachineReplyBody> {
    try {
      return await this.dispatch(req);
    } catch (err) {
      return { type: 'error', message: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Forgets every snapshot (the emulator closed). */
  clear(): void {
    this.snapshots.clear();
    this.keyframes.clear();
  }

  private async dispatch(req: MachineRequestBody): Promise<MachineReplyBody> {
    switch (req.type) {
      case 'start': {
        const machine = await NesMachine.create(req.rom);
        this.machine = machine;
        this.withPrgRam = req.prgRam === true;
        this.snapshots.clear(); // they belong to the previous ROM
        this.keyframes.clear();
        return this.frameReply(machine, req.screen);
      }
      case 'step': {
        const m = this.running();
        m.frame(req.buttons);
        return this.frameReply(m, req.screen);
      }
      case 'current':
        return this.frameReply(this.running(), req.screen);
      case 'writeRam':
        this.running().writeRam(req.address, req.bytes);
        return { type: 'done' };
      case 'inspect': {
        const m = this.running();
        return { type: 'detail', frame: m.frameCount, registers: m.registers(), prgRam: m.prgRam(), nametables: m.nametables(), palette: m.palette(), oam: m.oam() };
      }
      case 'save': {
        const m = this.running();
        const id = this.nextSnapshotId++;
        this.snapshots.set(id, m.snapshot());
        return { type: 'saved', snapshot: id, frame: m.frameCount };
      }
      case 'load': {
        const m = this.running();
        const snap = this.snapshots.get(req.snapshot);
        if (!snap) throw new Error(`unknown snapshot ${req.snapshot} (dropped, or made before the last start)`);
        m.restore(snap);
        return this.frameReply(m, req.screen);
      }
      case 'drop':
        this.snapshots.delete(req.snapshot);
        return { type: 'done' };
      case 'reset': {
        const m = this.running();
        m.reset();
        return this.frameReply(m, req.screen);
      }
      case 'keyframe':
        // Encoded before this returns: the machine's own arrays can be read in place.
        this.keyframes.save(req.keyframe, this.running().snapshot(!req.withScreen, true), req.withScreen);
        return { type: 'done' };
      case 'dropKeyframe':
        this.keyframes.drop(req.keyframe);
        return { type: 'done' };
      case 'replay':
        return this.replay(req);
      case 'keyframeStats':
        return { type: 'keyframeStats', bytes: this.keyframes.bytes, count: this.keyframes.count };
      default: {
        const _exhaustive: never = req;
        throw new Error(`unknown request ${JSON.stringify((_exhaustive as { type?: unknown }).type)}`);
      }
    }
  }

  /** The machine of the last start (for callers in the same thread, e.g. exporting its state as bytes). */
  running(): NesMachine {
    if (!this.machine) throw new Error('no ROM loaded: call start() first');
    return this.machine;
  }

  /** Keyframe, then the recorded frames with their RAM writes, all in this thread: one round trip per restore. */
  private async replay(req: Extract<MachineRequestBody, { type: 'replay' }>): Promise<MachineReplyBody> {
    const m = this.running();
    const { snapshot } = await this.keyframes.load(req.keyframe, true);
    m.restore(snapshot);
    const n = req.buttons.length >> 1;
    const rams = new Uint8Array((n + 1) * RAM_SIZE);
    let w = 0;
    const writes = [...req.writes].sort((a, b) => a.at - b.at);
    for (let i = 0; ; i++) {
      for (; w < writes.length && writes[w].at === i; w++) m.writeRam(writes[w].address, writes[w].bytes);
      rams.set(m.ram(), i * RAM_SIZE);
      if (i === n) break;
      m.frame([req.buttons[2 * i], req.buttons[2 * i + 1]]);
    }
    const reply = this.frameReply(m, req.screen) as FrameReply;
    reply.rams = rams;
    return reply;
  }

  private frameReply(m: NesMachine, screen: boolean): MachineReplyBody {
    const reply: FrameReply = { type: 'frame', frame: m.frameCount, lag: m.lag, ram: m.ram() };
    if (this.withPrgRam) reply.prgRam = m.prgRam();
    if (screen) reply.screen = m.screenRgba();
    return reply;
  }
}
