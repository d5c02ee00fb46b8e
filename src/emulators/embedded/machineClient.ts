// EmulatorPort over machine requests: the part the worker-backed and in-process embedded emulators share.
import type { ButtonPair } from '../../core/buttons';
import { TypedEmitter } from '../../core/typedEmitter';
import type { ReplayResult, ReplayWrite, TimeTravelPort } from '../../core/history/timeTravelPort';
import type {
  EmulatorEvent,
  EmulatorFrame,
  EmulatorPort,
  MachineDetail,
  RomInfo,
  SnapshotHandle,
  StepOptions,
} from '../../core/ports';
import { assertMapperSupported, readRom } from '../rom';
import type { MachineReplyBody, MachineRequestBody } from './workerProtocol';
import { EMBEDDED_KEYFRAME_EVERY } from './keyframeStore';

/** Epoch-based wall clock with sub-millisecond resolution. */
export const wallClockMs = (): number => performance.timeOrigin + performance.now();

export abstract class MachineClient implements EmulatorPort, TimeTravelPort {
  readonly kind = 'embedded' as const;
  readonly keyframeEvery = EMBEDDED_KEYFRAME_EVERY;
  private readonly events = new TypedEmitter<{ event: EmulatorEvent }>();
  /** Handles this port issued and has not dropped; a handle not in here is refused before reaching the machine. */
  private readonly handles = new Map<number, SnapshotHandle>();
  private closing: Promise<void> | undefined;

  /** `carryPrgRam`: every frame carries PRG-RAM $6000-$7FFF (EmulatorFrame.prgRam). */
  protected constructor(private readonly now: () => number = wallClockMs, private readonly carryPrgRam = false) {}

  /** Delivers one request to the machine and resolves with its reply (an error reply is still a reply). */
  protected abstract request(body: MachineRequestBody): Promise<MachineReplyBody>;
  /** Stops the machine for good; called once by close(). */
  protected abstract shutdown(): Promise<void>;

  async start(romPath: string, options?: StepOptions): Promise<{ rom: RomInfo; first: EmulatorFrame }> {
    const { bytes, info } = await readRom(romPath);
    assertMapperSupported(info);
    const reply = await this.request({ type: 'start', rom: bytes, screen: wantScreen(options), prgRam: this.carryPrgRam });
    this.handles.clear(); // the machine dropped its snapshots with the old ROM
    return { rom: info, first: this.frameFrom(reply) };
  }

  async step(buttons: ButtonPair, options?: StepOptions): Promise<EmulatorFrame> {
    return this.frameFrom(await this.request({ type: 'step', buttons: [buttons[0], buttons[1]], screen: wantScreen(options) }));
  }

  async current(options?: StepOptions): Promise<EmulatorFrame> {
    return this.frameFrom(await this.request({ type: 'current', screen: wantScreen(options) }));
  }

  async writeRam(address: number, bytes: Uint8Array): Promise<void> {
    expect(await this.request({ type: 'writeRam', address, bytes: bytes.slice() }), 'done');
  }

  async inspect(): Promise<MachineDetail> {
    const r = expect(await this.request({ type: 'inspect' }), 'detail');
    return { frame: r.frame, registers: r.registers, prgRam: r.prgRam, nametables: r.nametables, palette: r.palette, oam: r.oam };
  }

  async saveSnapshot(): Promise<SnapshotHandle> {
    const reply = expect(await this.request({ type: 'save' }), 'saved');
    const handle: SnapshotHandle = Object.freeze({ id: reply.snapshot, frame: reply.frame });
    this.handles.set(handle.id, handle);
    return handle;
  }

  async loadSnapshot(handle: SnapshotHandle, options?: StepOptions): Promise<EmulatorFrame> {
    this.ownHandle(handle);
    return this.frameFrom(await this.request({ type: 'load', snapshot: handle.id, screen: wantScreen(options) }));
  }

  dropSnapshot(handle: SnapshotHandle): void {
    if (this.handles.get(handle.id) !== handle) return; // already dropped or not ours: nothing to free
    this.handles.delete(handle.id);
    this.request({ type: 'drop', snapshot: handle.id }).then(
      (reply) => {
        if (reply.type === 'error') this.emit({ type: 'log', level: 'warn', message: `dropSnapshot: ${reply.message}` });
      },
      () => undefined, // the machine is gone, and its snapshots with it
    );
  }

  async reset(options?: StepOptions): Promise<EmulatorFrame> {
    return this.frameFrom(await this.request({ type: 'reset', screen: wantScreen(options) }));
  }

  saveKeyframe(id: number, withScreen: boolean): void {
    this.fireAndForget({ type: 'keyframe', keyframe: id, withScreen }, 'saveKeyframe');
  }

  dropKeyframe(id: number): void {
    this.fireAndForget({ type: 'dropKeyframe', keyframe: id }, 'dropKeyframe');
  }

  async replay(id: number, buttons: Uint8Array, writes: ReplayWrite[], options?: StepOptions): Promise<ReplayResult> {
    const reply = expect(await this.request({ type: 'replay', keyframe: id, buttons, writes, screen: wantScreen(options) }), 'frame');
    if (!reply.rams) throw new Error('embedded emulator answered a replay without its RAM trail');
    return { frame: this.frameFrom(reply), rams: reply.rams };
  }

  async keyframeStats(): Promise<{ bytes: number; count: number }> {
    const r = expect(await this.request({ type: 'keyframeStats' }), 'keyframeStats');
    return { bytes: r.bytes, count: r.count };
  }

  onEvent(listener: (e: EmulatorEvent) => void): () => void {
    return this.events.on('event', listener);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  protected get closed(): boolean {
    return this.closing !== undefined;
  }

  protected emit(e: EmulatorEvent): void {
    this.events.emit('event', e);
  }

  /** A request whose answer nobody waits for: an error reply is logged, a gone machine ignored. */
  private fireAndForget(body: MachineRequestBody, what: string): void {
    this.request(body).then(
      (reply) => {
        if (reply.type === 'error') this.emit({ type: 'log', level: 'warn', message: `${what}: ${reply.message}` });
      },
      () => undefined,
    );
  }

  private ownHandle(handle: SnapshotHandle): void {
    if (this.handles.get(handle.id) !== handle) {
      throw new Error(`snapshot ${handle.id} (frame ${handle.frame}) was dropped, predates the last start(), or belongs to another emulator`);
    }
  }

  private frameFrom(reply: MachineReplyBody): EmulatorFrame {
    const r = expect(reply, 'frame');
    const frame: EmulatorFrame = { frame: r.frame, timestamp: this.now(), ram: r.ram, lag: r.lag };
    if (r.prgRam) frame.prgRam = r.prgRam;
    if (r.screen) frame.screen = r.screen;
    return frame;
  }
}

function wantScreen(options: StepOptions | undefined): boolean {
  return options?.screen === true;
}

function expect<T extends MachineReplyBody['type']>(
  reply: MachineReplyBody,
  type: T,
): Extract<MachineReplyBody, { type: T }> {
  if (reply.type === type) return reply as Extract<MachineReplyBody, { type: T }>;
  if (reply.type === 'error') throw new Error(reply.message);
  throw new Error(`embedded emulator answered '${reply.type}' where '${type}' was expected`);
}
