// EmulatorPort over a real FCEUX running lua/lockstep.lua: launches (or waits for) FCEUX and drives it frame by frame through the bridge.
import { randomBytes } from 'node:crypto';
import { isButtonMask, type ButtonPair } from '../../core/buttons';
import { BridgeServer, type BridgeLink } from '../../bridge/bridgeServer';
import type { ClockPingable, ClockSample } from '../../core/sync/clockSyncScheduler';
import { CLOSE, PROTOCOL_VERSION, type EmulatorToBridge, type EmulatorWelcomeMsg, type PongMsg, type SavestateMsg } from '../../bridge/protocol';
import { decodeBase64Ram, encodeBase64, parseEmulatorToBridge } from '../../bridge/protocolCodec';
import { binaryFrameKind, decodeScreenFrame, decodeStateFrame, gdToRgba, type ScreenFrame } from '../../bridge/screenFrame';
import type { EmulatorEvent, EmulatorFrame, EmulatorPort, MachineDetail, ReplayWrite, RomInfo, SnapshotHandle, SnapshotOptions, StepOptions } from '../../core/ports';
import { NES_HEIGHT, NES_WIDTH, PRG_RAM_SIZE, PRG_RAM_START, WORK_RAM_SIZE } from '../../core/nes';
import { describeRomLayout, readRom } from '../rom';
import { FceuxProcess, type FceuxExit } from './fceuxProcess';
import { ScreenFile } from './screenFile';
import { locateFceux, lockstepLuaPath } from './fceuxLocator';
import { ACTION_ENCODINGS, STATE_TRANSPORTS, type FceuxActionEncoding, type FceuxEmulatorOptions, type FceuxMode, type FceuxStateTransport } from './fceuxEmulatorOptions';
import { encodeActionFrame } from '../../bridge/actionFrame';
import { frameOf, isAck, resendAfterReconnect, type Deadline, type Exchange, type Incoming, type Verdict } from './fceuxExchange';

export type { FceuxActionEncoding, FceuxEmulatorOptions, FceuxLinkTiming, FceuxMode, FceuxStateTransport } from './fceuxEmulatorOptions';

const DEFAULT_STEP_TIMEOUT_MS = 10_000;
const DEFAULT_LAUNCH_TIMEOUT_MS = 20_000;
const DEFAULT_ATTACH_TIMEOUT_MS = 10 * 60_000;
const QUIT_GRACE_MS = 2000;
/** Time a replay may take per frame on top of a step's timeout (FCEUX runs ~1,600 frames a second flat out). */
const REPLAY_MS_PER_FRAME = 5;
/** Work RAM images per block the states' RAM is cut from (16 KB): few allocations, little kept alive by one frame. */
const RAM_BLOCK_FRAMES = 8;

/** A RAM write the script can make: at least one byte, all of it within $0000-$FFFF. */
function checkWriteFits(what: string, address: number, bytes: Uint8Array): void {
  if (!Number.isInteger(address) || address < 0 || bytes.length < 1 || address + bytes.length > 0x10000) {
    throw new Error(`${what}: ${bytes.length} bytes at address ${address} do not fit in $0000-$FFFF`);
  }
}

export class FceuxEmulator implements EmulatorPort, ClockPingable {
  readonly kind = 'fceux' as const;
  private readonly mode: FceuxMode;
  private readonly ramRanges: Array<[number, number]>;
  /** What lockstep.lua is asked to send per state: ramRanges, then PRG-RAM when carried. */
  private readonly wireRanges: Array<[number, number]>;
  /** Bytes of RAM every state carries (the ranges' lengths summed). */
  private readonly ramBytes: number;
  private readonly transport: FceuxStateTransport;
  private readonly actions: FceuxActionEncoding;
  private screenFile?: ScreenFile;
  private readonly stepTimeoutMs: number;
  private readonly session = randomBytes(8).toString('hex');
  private readonly listeners = new Set<(e: EmulatorEvent) => void>();
  private bridge?: BridgeServer;
  private ownsBridge = false;
  private proc?: FceuxProcess;
  private link?: BridgeLink;
  private unlink: Array<() => void> = [];
  private rom?: RomInfo;
  /** The frame FCEUX waits to run (its last state). */
  private held?: EmulatorFrame;
  /** Whether the script attaches a screen to states nobody asked a screen for (resync, load, reset). */
  private scriptScreen = false;
  /** A state that announced a screen; it is complete when the binary frame arrives. */
  private awaitingScreen?: EmulatorFrame;
  private exchange?: Exchange;
  /** Requests not yet settled, by deadline (performance.now() ms), and the one timer that watches them. */
  private readonly deadlines = new Set<Deadline>();
  private watchdog?: ReturnType<typeof setTimeout>;
  private watchdogAt = Infinity;
  /** Public calls run one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Public calls started and not yet settled. */
  private inFlight = 0;
  /**
   * RGBA memory for the next screen, allocated and touched while FCEUX runs the frame: fresh memory costs page faults
   * and garbage-collector work that would otherwise land between FCEUX's state and the caller's next action.
   */
  private spareScreen?: Uint8Array;
  private spareScheduled = false;
  /** The last screen read from the screen file is still unconverted, its pixels in the file's read buffer. */
  private unreadFileScreen = false;
  private lastFileScreen?: EmulatorFrame;
  private nextSlot = 1;
  private nextPing = 1;
  /** Clock-sync pings out, by id (answered beside whatever request is in flight). */
  private readonly clockWaiters = new Map<number, (pong: PongMsg | null) => void>();
  /** Links FCEUX opened so far (a reconnect may be another FCEUX, with another clock). */
  private links = 0;
  /** Set by a timeout: answers to the abandoned request may still arrive, so resync before the next one. */
  private unsure = false;
  /** No state has arrived yet on the current link. */
  private freshLink = false;
  /** The current link's script reads binary actions (its hello said so) and this emulator sends them. */
  private binaryActions = false;
  /** Where the next state's work RAM image is cut from (see freshRam). */
  private ramBlock?: ArrayBuffer;
  private ramBlockUsed = 0;
  private exitError?: Error;
  private closing?: Promise<void>;
  private started = false;

  constructor(private readonly options: FceuxEmulatorOptions = {}) {
    this.mode = options.mode ?? 'launch';
    if (this.mode !== 'launch' && this.mode !== 'attach') {
      throw new Error(`FCEUX mode must be "launch" or "attach", got ${JSON.stringify(options.mode)}`);
    }
    this.ramRanges = options.ramRanges ?? [[0, WORK_RAM_SIZE]];
    this.ramRanges.forEach(([start, length], i) => {
      if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 1 || start + length > WORK_RAM_SIZE) {
        throw new Error(`ramRanges[${i}] must be [start, length] inside $0000-$07FF, got ${JSON.stringify([start, length])}`);
      }
    });
    // lockstep.lua reads any CPU range: PRG-RAM goes last, after the work-RAM ranges, and frameFrom splits it off again.
    this.wireRanges = options.prgRam ? [...this.ramRanges, [PRG_RAM_START, PRG_RAM_SIZE]] : this.ramRanges;
    this.ramBytes = this.wireRanges.reduce((n, [, length]) => n + length, 0);
    this.transport = options.stateTransport ?? 'file';
    if (!STATE_TRANSPORTS.includes(this.transport)) {
      throw new Error(`FCEUX stateTransport must be one of ${STATE_TRANSPORTS.join(', ')}, got ${JSON.stringify(options.stateTransport)}`);
    }
    this.stepTimeoutMs = options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    this.actions = options.actions ?? 'binary';
    if (!ACTION_ENCODINGS.includes(this.actions)) {
      throw new Error(`FCEUX actions must be one of ${ACTION_ENCODINGS.join(', ')}, got ${JSON.stringify(options.actions)}`);
    }
  }

  /** Process id of the FCEUX this emulator launched (undefined in attach mode or before start). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** The file offered to lockstep.lua for screens (transport "file", after start), for diagnostics. */
  get screenFilePath(): string | undefined {
    return this.screenFile?.path;
  }

  onEvent(listener: (e: EmulatorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(romPath: string, options: StepOptions = {}): Promise<{ rom: RomInfo; first: EmulatorFrame }> {
    return this.serial(async () => {
      if (this.started) throw new Error('FCEUX emulator already started: create a new FceuxEmulator for another run');
      if (this.closing) throw new Error('FCEUX emulator closed');
      this.started = true;
      try {
        return await this.startNow(romPath, options);
      } catch (e) {
        // A failed start leaves nothing running: no FCEUX, no port, no temp folder.
        await this.close();
        throw e;
      }
    });
  }

  private async startNow(romPath: string, options: StepOptions): Promise<{ rom: RomInfo; first: EmulatorFrame }> {
    const { info } = await readRom(romPath);
    this.rom = info;
    this.scriptScreen = options.screen === true;
    // Fail fast on a missing FCEUX before opening any port.
    const fceuxPath = this.mode === 'launch' ? locateFceux(this.options.fceuxPath) : undefined;
    this.bridge = this.options.bridge;
    if (!this.bridge) {
      this.bridge = new BridgeServer({ log: (level, message) => this.log(level, message) });
      this.ownsBridge = true;
    }
    if (this.transport === 'file') {
      try {
        // Launch mode: FceuxProcess's exit handling removes it with FCEUX_HOME (one exit hook per FCEUX).
        this.screenFile = new ScreenFile(this.session, { removeOnExit: this.mode === 'attach' });
      } catch (e) {
        this.log('warn', `no screen file (${(e as Error).message}): screens go over the socket`);
      }
    }
    const port = await this.bridge.listen();
    this.bridge.setHandler('emulator', (link) => this.onLink(link));
    const timeoutMs = this.options.connectTimeoutMs ?? (this.mode === 'launch' ? DEFAULT_LAUNCH_TIMEOUT_MS : DEFAULT_ATTACH_TIMEOUT_MS);
    if (fceuxPath) {
      this.launch(fceuxPath, romPath, port);
      this.log('info', `started FCEUX (pid ${this.proc?.pid}) on ${info.name}; waiting for lockstep.lua to connect`);
    } else {
      this.log('info', `waiting for FCEUX: open ${info.name} in FCEUX and load ${this.luaPath()} ` +
        `(File > Lua > New Lua Script Window) with CONFIG port = ${port}, token = "${this.bridge.token}"`);
    }
    const ev = await this.request(
      () => undefined,
      (e) => (e.kind === 'state' ? 'done' : 'wait'),
      timeoutMs,
      () => this.mode === 'launch'
        ? `FCEUX did not connect within ${timeoutMs} ms (is LuaSocket installed? Debian/Ubuntu: sudo apt-get install lua-socket)`
        : `no FCEUX connected within ${timeoutMs} ms`,
    );
    return { rom: info, first: frameOf(ev) };
  }

  /**
   * When nothing else is in flight the action is sent before step() returns, so a caller can do other work (recording,
   * hashing) while FCEUX runs the frame.
   */
  step(buttons: ButtonPair, options: StepOptions = {}): Promise<EmulatorFrame> {
    return this.serial(() => this.stepHeld(buttons, options));
  }

  private stepHeld(buttons: ButtonPair, options: StepOptions): Promise<EmulatorFrame> {
    const [p1, p2] = buttons;
    if (!isButtonMask(p1) || !isButtonMask(p2)) return Promise.reject(new Error(`buttons must be two masks 0..255, got ${JSON.stringify(buttons)}`));
    const held = this.settledHeld();
    if (held) return this.sendAction(held.frame, p1, p2, options);
    return this.ready().then((h) => this.sendAction(h.frame, p1, p2, options));
  }

  /**
   * The next step sent from inside a step's `arrived`: at once when that step is the only call in flight (its frame is
   * held, nothing else waits its turn); otherwise undefined, and the caller steps as usual.
   */
  private readonly stepNow = (buttons: ButtonPair, options: StepOptions = {}): Promise<EmulatorFrame> | undefined => {
    if (this.inFlight !== 1 || !this.settledHeld()) return undefined;
    return this.serial(() => this.stepHeld(buttons, options), true);
  };

  private async sendAction(held: number, p1: number, p2: number, options: StepOptions): Promise<EmulatorFrame> {
    const screen = options.screen === true;
    const arrived = options.arrived;
    const ev = await this.request(
      () => {
        if (this.binaryActions) this.link?.sendBinary(encodeActionFrame(held, p1, p2, screen));
        else this.link?.sendJson({ type: 'action', frame: held, buttons: [p1, p2], screen });
        if (screen) this.prepareSpareScreen();
      },
      (e) => {
        if (e.kind === 'error' && e.msg.code === 'wrong_frame') {
          throw new Error(`FCEUX refused the action for frame ${held}: ${e.msg.message}`);
        }
        if (e.kind !== 'state') return 'wait';
        // After a reconnect the script repeats the held frame's state: the action was lost with the old link.
        if (e.frame.frame === held) return e.fresh ? 'resend' : 'wait';
        return 'done';
      },
      this.stepTimeoutMs,
      () => `FCEUX did not answer the action for frame ${held} within ${this.stepTimeoutMs} ms`,
      arrived && ((e) => arrived(frameOf(e), this.stepNow)),
    );
    const frame = frameOf(ev);
    if (frame.frame !== held + 1) this.log('warn', `FCEUX went from frame ${held} to ${frame.frame} in one step`);
    return frame;
  }

  current(options: StepOptions = {}): Promise<EmulatorFrame> {
    return this.serial(async () => {
      await this.ready();
      this.configureScreen(options.screen === true);
      const ev = await this.request(
        () => this.link?.sendJson({ type: 'resync_request', timestamp: Date.now(), reason: 'current state asked for' }),
        (e) => (e.kind === 'state' ? 'done' : 'wait'),
        this.stepTimeoutMs,
        () => `FCEUX did not resend its state within ${this.stepTimeoutMs} ms`,
      );
      return frameOf(ev);
    });
  }

  writeRam(address: number, bytes: Uint8Array): Promise<void> {
    return this.serial(async () => {
      checkWriteFits('writeRam', address, bytes);
      await this.ready();
      await this.request(
        () => this.link?.sendJson({ type: 'write_ram', address, data: encodeBase64(bytes) }),
        (e) => {
          if (e.kind === 'error' && e.msg.code === 'bad_write_ram') throw new Error(`FCEUX refused the RAM write: ${e.msg.message}`);
          if (e.kind === 'ack') return e.msg.type === 'write_ram_ack' && e.msg.address === address ? 'done' : 'wait';
          return resendAfterReconnect(e);
        },
        this.stepTimeoutMs,
        () => `FCEUX did not acknowledge the RAM write within ${this.stepTimeoutMs} ms`,
      );
    });
  }

  /** One request to lockstep.lua, only when asked: the per-frame states carry none of this. */
  inspect(): Promise<MachineDetail> {
    return this.serial(async () => {
      await this.ready();
      const ev = await this.request(
        () => this.link?.sendJson({ type: 'inspect' }),
        (e) => {
          // A lockstep.lua older than this request answers unknown_type: say so at once rather than time out.
          if (e.kind === 'error' && e.msg.code === 'unknown_type') throw new Error(`this lockstep.lua cannot report registers and PRG-RAM (${e.msg.message}): use the one shipped with Lockstep`);
          return e.kind === 'inspect' ? 'done' : resendAfterReconnect(e);
        },
        this.stepTimeoutMs,
        () => `FCEUX did not answer the registers and PRG-RAM request within ${this.stepTimeoutMs} ms`,
      );
      if (ev.kind !== 'inspect') throw new Error(`expected registers and PRG-RAM from FCEUX, got ${ev.kind}`);
      const m = ev.msg;
      // FCEUX keeps the palette's top bits; the console (and the embedded emulator) have 6-bit entries.
      const palette = decodeBase64Ram(m.palette).map((b) => b & 0x3f);
      return { frame: m.frame, registers: { ...m.registers }, prgRam: decodeBase64Ram(m.prgRam), nametables: decodeBase64Ram(m.nametables), palette };
    });
  }

  /** `screen: false` (history keyframes): lockstep.lua keeps no picture with it, 246 KB saved a snapshot. */
  saveSnapshot(options: SnapshotOptions = {}): Promise<SnapshotHandle> {
    return this.serial(async () => {
      await this.ready();
      const slot = this.nextSlot++;
      const msg: SavestateMsg = { type: 'savestate', op: 'save', slot };
      if (options.screen === false) msg.screen = false;
      const ev = await this.request(
        () => this.link?.sendJson(msg),
        (e) => (e.kind === 'ack' ? (isAck(e.msg, 'save', slot) ? 'done' : 'wait') : resendAfterReconnect(e)),
        this.stepTimeoutMs,
        () => `FCEUX did not acknowledge savestate ${slot} within ${this.stepTimeoutMs} ms`,
      );
      if (ev.kind !== 'ack' || ev.msg.type !== 'savestate_ack') throw new Error(`expected a savestate acknowledgement from FCEUX, got ${ev.kind}`);
      return { id: slot, frame: ev.msg.frame };
    });
  }

  loadSnapshot(handle: SnapshotHandle, options: StepOptions = {}): Promise<EmulatorFrame> {
    return this.serial(async () => {
      await this.ready();
      this.configureScreen(options.screen === true);
      let acked = false;
      const ev = await this.request(
        () => this.link?.sendJson({ type: 'savestate', op: 'load', slot: handle.id }),
        (e) => {
          if (e.kind === 'error' && e.msg.code === 'no_savestate') throw new Error(`FCEUX has no snapshot ${handle.id}: ${e.msg.message}`);
          if (e.kind === 'ack') {
            if (isAck(e.msg, 'load', handle.id)) acked = true;
            return 'wait';
          }
          if (acked && e.kind === 'state') return 'done';
          return resendAfterReconnect(e);
        },
        this.stepTimeoutMs,
        () => `FCEUX did not load snapshot ${handle.id} within ${this.stepTimeoutMs} ms`,
      );
      return frameOf(ev);
    });
  }

  /**
   * Loads a snapshot and runs recorded frames from it inside lockstep.lua, in one request: the script sends every
   * state it goes through (the snapshot's after its writes at 0, then one per frame), as many messages, with no round
   * trip per frame. Only the last state carries the screen, when asked and known.
   */
  replaySnapshot(handle: SnapshotHandle, buttons: Uint8Array, writes: readonly ReplayWrite[], options: StepOptions = {}): Promise<EmulatorFrame[]> {
    return this.serial(async () => {
      const n = buttons.length >> 1;
      if (buttons.length % 2 !== 0) throw new Error(`replaySnapshot: buttons must hold 2 bytes a frame, got ${buttons.length}`);
      for (const w of writes) {
        if (!Number.isInteger(w.at) || w.at < 0 || w.at > n) throw new Error(`replaySnapshot: a write at state ${w.at} is outside the replay's 0..${n}`);
        checkWriteFits('replaySnapshot', w.address, w.bytes);
      }
      await this.ready();
      const msg: SavestateMsg = { type: 'savestate', op: 'replay', slot: handle.id, buttons: encodeBase64(buttons), screen: options.screen === true };
      if (writes.length) msg.writes = writes.map((w) => ({ at: w.at, address: w.address, data: encodeBase64(w.bytes) }));
      const states: EmulatorFrame[] = [];
      let acked = false;
      // Emulating is the script's part: a frame takes well under a millisecond, so a long replay gets that much longer.
      const timeoutMs = this.stepTimeoutMs + n * REPLAY_MS_PER_FRAME;
      await this.request(
        () => this.link?.sendJson(msg),
        (e) => {
          if (e.kind === 'error' && (e.msg.code === 'no_savestate' || e.msg.code === 'bad_savestate')) {
            // A lockstep.lua older than the replay op refuses it as an unknown op, in these words (newer ones name replay
            // too): say so rather than blame the slot.
            if (/op must be save, load or drop/.test(e.msg.message)) throw new Error(`this lockstep.lua cannot replay savestates (${e.msg.message}): use the one shipped with Lockstep`);
            throw new Error(`FCEUX cannot replay from snapshot ${handle.id}: ${e.msg.message}`);
          }
          if (e.kind === 'ack') {
            if (isAck(e.msg, 'replay', handle.id)) acked = true;
            return 'wait';
          }
          if (e.kind !== 'state') return 'wait';
          // A reconnect lost the request (or the rest of its states): replay again from the start.
          if (e.fresh) {
            acked = false;
            states.length = 0;
            return 'resend';
          }
          if (!acked) return 'wait';
          states.push(e.frame);
          return states.length === n + 1 ? 'done' : 'wait';
        },
        timeoutMs,
        () => `FCEUX did not replay ${n} frame(s) from snapshot ${handle.id} within ${timeoutMs} ms`,
      );
      return states;
    });
  }

  /**
   * One NTP-style exchange with lockstep.lua (its clock is LuaSocket's gettime): not queued behind steps, since the
   * script answers a ping as soon as it waits for an action. Null when unanswered in time or not connected.
   */
  clockPing(now: () => number, timeoutMs: number): Promise<ClockSample | null> {
    const link = this.link;
    if (!link || this.closing || this.exitError) return Promise.resolve(null);
    const id = this.nextPing++;
    const t0 = now();
    return new Promise<ClockSample | null>((resolve) => {
      const timer = setTimeout(() => finish(null), Math.max(0, timeoutMs));
      const finish = (pong: PongMsg | null) => {
        const t3 = now();
        clearTimeout(timer);
        this.clockWaiters.delete(id);
        resolve(pong ? { t0, t1: pong.t1, t3 } : null);
      };
      this.clockWaiters.set(id, finish);
      link.sendJson({ type: 'ping', id, t0 });
    });
  }

  get clockLinkId(): number {
    return this.links;
  }

  dropSnapshot(handle: SnapshotHandle): void {
    // Fire and forget: the acknowledgement is ignored, and a drop lost to a reconnect only costs the script some memory.
    this.link?.sendJson({ type: 'savestate', op: 'drop', slot: handle.id });
  }

  reset(options: StepOptions = {}): Promise<EmulatorFrame> {
    return this.serial(async () => {
      await this.ready();
      this.configureScreen(options.screen === true);
      const ev = await this.request(
        () => this.link?.sendJson({ type: 'reset' }),
        // A power cycle twice in a row (after a reconnect) lands on the same frame-0 machine.
        (e) => (e.kind === 'state' ? (e.fresh ? 'resend' : 'done') : 'wait'),
        this.stepTimeoutMs,
        () => `FCEUX did not power-cycle within ${this.stepTimeoutMs} ms`,
      );
      return frameOf(ev);
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---- internals ----

  private async shutdown(): Promise<void> {
    this.exchange?.reject(new Error('FCEUX emulator closed'));
    this.exchange = undefined;
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    for (const w of [...this.clockWaiters.values()]) w(null);
    if (this.link?.open) this.link.sendJson({ type: 'quit', code: 0, reason: 'Lockstep session closed' });
    if (this.proc) {
      // Without a link the quit could not be sent: no point waiting for FCEUX to leave by itself.
      const exit = await this.proc.stop(this.link?.open ? QUIT_GRACE_MS : 0);
      this.log('info', `FCEUX ended (${exit.description})`);
    }
    this.dropLink();
    if (this.bridge) {
      this.bridge.setHandler('emulator', undefined);
      if (this.ownsBridge) await this.bridge.close();
    }
    this.screenFile?.dispose();
  }

  private luaPath(): string {
    return this.options.luaPath ?? lockstepLuaPath();
  }

  private launch(fceuxPath: string, romPath: string, port: number): void {
    let headless = this.options.headless ?? true;
    if (!headless && process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
      this.log('warn', 'no display found (DISPLAY/WAYLAND_DISPLAY unset): running FCEUX headless');
      headless = true;
    }
    const t = this.options.linkTiming ?? {};
    const scriptEnv: Record<string, string> = {};
    const put = (name: string, v: number | undefined) => {
      if (v !== undefined) scriptEnv[name] = String(v);
    };
    put('LOCKSTEP_HEARTBEAT_MS', t.heartbeatMs);
    put('LOCKSTEP_DEAD_MS', t.deadMs);
    put('LOCKSTEP_HELLO_MS', t.helloMs);
    put('LOCKSTEP_RECONNECT_TRIES', t.reconnectTries);
    put('LOCKSTEP_RECONNECT_MS', t.reconnectMs);
    const proc = new FceuxProcess({
      fceuxPath, romPath, luaPath: this.luaPath(), host: '127.0.0.1', port, token: this.bridge!.token, headless, scriptEnv,
      onLine: (_stream, line) => this.onOutputLine(line),
      onCleanup: () => this.screenFile?.dispose(),
    });
    this.proc = proc;
    void proc.exited.then((exit) => this.onExit(proc, exit));
  }

  private onOutputLine(line: string): void {
    const m = /^lockstep\.lua: (info|warn|error): (.*)$/.exec(line);
    if (m) this.log(m[1] as 'info' | 'warn' | 'error', `lockstep.lua: ${m[2]}`);
    else this.log('info', `fceux: ${line}`);
  }

  private onExit(proc: FceuxProcess, exit: FceuxExit): void {
    const tail = proc.lastErrorLines(4).join(' | ');
    this.exitError = new Error(`FCEUX exited (${exit.description})${tail ? `; last output: ${tail}` : ''}`);
    this.emit({ type: 'exit', code: exit.code, reason: exit.description });
    if (this.exchange) {
      const x = this.exchange;
      this.exchange = undefined;
      x.reject(this.exitError);
    }
  }

  private onLink(link: BridgeLink): void {
    if (this.closing) {
      link.close(CLOSE.normal, 'session closed');
      return;
    }
    const helloRom = link.hello.rom as { name?: unknown; md5?: unknown } | undefined;
    const md5 = typeof helloRom?.md5 === 'string' ? helloRom.md5.toLowerCase() : '';
    if (this.rom && md5 !== '' && md5 !== this.rom.md5NoHeader && md5 !== this.rom.md5) {
      const why = wrongRomMessage(String(helloRom?.name), md5, this.rom);
      this.log('error', why);
      link.sendJson({ type: 'quit', code: 5, reason: why });
      link.close(CLOSE.normal, 'wrong ROM');
      this.exchange?.reject(new Error(why));
      this.exchange = undefined;
      return;
    }
    if (this.link) {
      this.log('info', `FCEUX reconnected from ${link.remote}`);
      // The old socket is dead or stale; only the newest link speaks for FCEUX.
      if (this.link.open) this.link.close(CLOSE.replaced, 'replaced by a newer FCEUX link');
      this.dropLink();
    } else {
      this.log('info', `FCEUX connected from ${link.remote} (${String(helloRom?.name ?? '?')})`);
    }
    this.link = link;
    this.links++;
    this.binaryActions = this.actions === 'binary' && link.hello.binaryActions === true;
    this.freshLink = true;
    this.awaitingScreen = undefined;
    this.unlink = [
      link.onMessage((data) => this.onMessage(link, data)),
      link.onClose((code, reason) => {
        if (this.link === link && !this.closing) this.log('warn', `FCEUX link closed (${code}${reason ? ` ${reason}` : ''}); waiting for it to reconnect`);
      }),
    ];
    // A script that predates binaryState and screenFile ignores them and sends JSON states with socket screens.
    const welcome: EmulatorWelcomeMsg = { type: 'welcome', protocol: PROTOCOL_VERSION, session: this.session, ram: this.wireRanges, screen: this.scriptScreen };
    if (this.transport !== 'json') welcome.binaryState = true;
    if (this.screenFile) welcome.screenFile = this.screenFile.path;
    link.sendJson(welcome);
  }

  private dropLink(): void {
    for (const off of this.unlink) off();
    this.unlink = [];
    this.link = undefined;
  }

  private onMessage(link: BridgeLink, data: string | Uint8Array): void {
    if (link !== this.link) return;
    if (typeof data !== 'string') {
      if (binaryFrameKind(data) === 'state') this.onBinaryState(link, data);
      else this.onScreen(data);
      return;
    }
    const parsed = parseEmulatorToBridge(data);
    if (!parsed.ok) {
      this.log('warn', `bad message from FCEUX: ${parsed.error}`);
      return;
    }
    const msg: EmulatorToBridge = parsed.msg;
    switch (msg.type) {
      case 'state': {
        let frame: EmulatorFrame;
        try {
          frame = this.frameFrom(msg.frame, msg.timestamp, msg.ram, msg.lag);
        } catch (e) {
          this.log('warn', `bad state from FCEUX: ${(e as Error).message}`);
          return;
        }
        if (msg.screen) this.awaitingScreen = frame;
        else this.deliverState(frame);
        return;
      }
      case 'savestate_ack':
      case 'write_ram_ack':
        this.deliver({ kind: 'ack', msg });
        return;
      case 'inspect_reply':
        this.deliver({ kind: 'inspect', msg });
        return;
      case 'error':
        this.log('warn', `lockstep.lua reports ${msg.code}: ${msg.message}`);
        this.deliver({ kind: 'error', msg });
        return;
      case 'heartbeat':
        link.sendJson({ type: 'heartbeat_ack', seq: msg.seq, timestamp: Date.now() });
        return;
      case 'ping':
        link.sendJson({ type: 'pong', id: msg.id, t0: msg.t0, t1: Date.now() });
        return;
      case 'pong':
        this.clockWaiters.get(msg.id)?.(msg);
        this.deliver({ kind: 'pong', id: msg.id });
        return;
      case 'heartbeat_ack':
        return;
      case 'hello':
        this.log('warn', 'FCEUX sent a second hello on the same link; ignored');
        return;
      default: {
        const _x: never = msg;
        this.log('warn', `unhandled message ${JSON.stringify(_x)}`);
      }
    }
  }

  /** A binary "LSST" state: RAM in the message, the screen (if any) in the message or in the screen file. */
  private onBinaryState(link: BridgeLink, bytes: Uint8Array): void {
    let frame: EmulatorFrame;
    let inFile = false;
    try {
      const s = decodeStateFrame(bytes);
      frame = this.frameFrom(s.frame, s.timestamp, s.ram, s.lag);
      if (s.screen) this.attachScreen(frame, s.screen);
      inFile = s.screenInFile === true;
    } catch (e) {
      this.log('warn', `bad state from FCEUX: ${(e as Error).message}`);
      return;
    }
    this.awaitingScreen = undefined;
    if (inFile) {
      try {
        // Read now, before anything else is sent: the script rewrites the file only after its next action.
        if (!this.screenFile) throw new Error('the script used a screen file this bridge never offered');
        // The read reuses the file's buffer unless a screen nobody has read yet still lives there.
        if (this.unreadFileScreen) this.screenFile.detach();
        this.attachScreen(frame, this.screenFile.read(), true);
      } catch (e) {
        // The state without its screen would be wrong; the script sends a resync's state with the screen inside.
        this.log('warn', `bad screen file from FCEUX (${(e as Error).message}); asking for the state again`);
        this.configureScreen(true);
        link.sendJson({ type: 'resync_request', timestamp: Date.now(), reason: 'screen file unreadable' });
        return;
      }
    }
    this.deliverState(frame);
  }

  private onScreen(bytes: Uint8Array): void {
    const frame = this.awaitingScreen;
    this.awaitingScreen = undefined;
    if (!frame) {
      this.log('warn', `unexpected binary message of ${bytes.length} bytes from FCEUX`);
      return;
    }
    try {
      this.attachScreen(frame, decodeScreenFrame(bytes));
    } catch (e) {
      this.log('warn', `bad screen from FCEUX: ${(e as Error).message}`);
    }
    this.deliverState(frame);
  }

  /**
   * Gives the frame its screen, converted to RGBA when first read: a caller that sends its next action before looking
   * at the screen (or never looks) gets the conversion off the lockstep round trip. `inFileBuffer`: the pixels are a
   * view into the screen file's read buffer, which the next read must then leave alone.
   */
  private attachScreen(frame: EmulatorFrame, s: ScreenFrame, inFileBuffer = false): void {
    if (s.frame !== frame.frame) throw new Error(`screen is for frame ${s.frame}, state for frame ${frame.frame}`);
    if (s.width !== NES_WIDTH || s.height !== NES_HEIGHT) throw new Error(`screen is ${s.width}x${s.height}, expected ${NES_WIDTH}x${NES_HEIGHT}`);
    if (s.format !== 'gd' && s.format !== 'rgba') throw new Error(`screen format ${s.format} is not supported from FCEUX`);
    const settle = (rgba: Uint8Array): Uint8Array => {
      Object.defineProperty(frame, 'screen', { value: rgba, writable: true, enumerable: true, configurable: true });
      if (inFileBuffer && this.lastFileScreen === frame) this.unreadFileScreen = false;
      return rgba;
    };
    const convert = (): void => {
      const into = this.spareScreen;
      this.spareScreen = undefined;
      if (s.format === 'gd') {
        settle(gdToRgba(s.pixels, into).rgba);
      } else {
        const rgba = into ?? new Uint8Array(s.pixels.length);
        rgba.set(s.pixels);
        settle(rgba);
      }
    };
    Object.defineProperty(frame, 'screen', {
      enumerable: true,
      configurable: true,
      get: () => {
        convert();
        return frame.screen;
      },
      set: (v: Uint8Array | undefined) => settle(v as Uint8Array),
    });
    if (inFileBuffer) {
      this.lastFileScreen = frame;
      this.unreadFileScreen = true;
    }
  }

  private deliverState(frame: EmulatorFrame): void {
    this.held = frame;
    const fresh = this.freshLink;
    this.freshLink = false;
    this.deliver({ kind: 'state', frame, fresh });
  }

  private deliver(ev: Incoming): void {
    const x = this.exchange;
    if (!x) return;
    let verdict: Verdict;
    try {
      verdict = x.judge(ev);
    } catch (e) {
      this.exchange = undefined;
      x.reject(e as Error);
      return;
    }
    if (verdict === 'done') {
      this.exchange = undefined;
      if (x.arrived) {
        try {
          x.arrived(ev);
        } catch (e) {
          this.log('error', `a step's arrival handler failed: ${(e as Error)?.message ?? String(e)}`);
        }
      }
      x.resolve(ev);
    } else if (verdict === 'resend') {
      x.send();
    }
  }

  /** Sends a request and waits until `judge` says done; fails on timeout or when FCEUX exits. */
  private request(
    send: () => void,
    judge: (ev: Incoming) => Verdict,
    timeoutMs: number,
    timeoutText: () => string,
    arrived?: (ev: Incoming) => void,
  ): Promise<Incoming> {
    if (this.closing) return Promise.reject(new Error('FCEUX emulator closed'));
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise<Incoming>((resolve, reject) => {
      const d: Deadline = {
        at: performance.now() + timeoutMs,
        expire: () => {
          if (this.exchange === x) this.exchange = undefined;
          this.unsure = true;
          reject(new Error(timeoutText()));
        },
      };
      const x: Exchange = {
        send,
        judge,
        arrived,
        resolve: (ev) => {
          this.deadlines.delete(d);
          resolve(ev);
        },
        reject: (err) => {
          this.deadlines.delete(d);
          reject(err);
        },
      };
      // Sent before the bookkeeping: no answer can be handled before this turn ends, and FCEUX waits for the send.
      this.exchange = x;
      try {
        send();
      } finally {
        this.deadlines.add(d);
        this.armWatchdog(d.at);
      }
    });
  }

  /**
   * One timer watches every request's deadline: a timer set and cleared per step cost more than the rest of the
   * step's own work. Armed for the earliest deadline; a step answered in time leaves it alone.
   */
  private armWatchdog(at: number): void {
    if (this.watchdog !== undefined) {
      if (this.watchdogAt <= at) return;
      clearTimeout(this.watchdog);
    }
    this.watchdogAt = at;
    this.watchdog = setTimeout(() => this.onWatchdog(), Math.max(0, Math.ceil(at - performance.now())));
  }

  private onWatchdog(): void {
    this.watchdog = undefined;
    this.watchdogAt = Infinity;
    // libuv's timers can fire up to 1 ms early by performance.now(): a deadline not quite reached is waited for.
    const now = performance.now();
    let next = Infinity;
    for (const d of [...this.deadlines]) {
      if (d.at <= now) {
        this.deadlines.delete(d);
        d.expire();
      } else if (d.at < next) {
        next = d.at;
      }
    }
    if (next < Infinity) this.armWatchdog(next);
  }

  /**
   * Runs public calls one at a time, in order; an idle emulator starts the call at once rather than a tick later.
   * `now`: the caller knows the call before it is done (a step's arrival), so this one starts at once too.
   */
  private serial<T>(op: () => Promise<T>, now = this.inFlight === 0): Promise<T> {
    const run = now ? op() : this.queue.then(op, op);
    this.inFlight++;
    const settled = () => {
      this.inFlight--;
    };
    this.queue = run.then(settled, settled);
    return run;
  }

  /** The held frame when ready() would return it at once (no resync pending, nothing failed); undefined otherwise. */
  private settledHeld(): EmulatorFrame | undefined {
    return this.closing || this.exitError || this.unsure ? undefined : this.held;
  }

  /**
   * The held frame, once we are sure what FCEUX is doing. After a timeout, late answers may still be on their way:
   * a resync request followed by a ping is a barrier (the script handles messages in order), so the last state
   * before the pong is FCEUX's current one.
   */
  private async ready(): Promise<EmulatorFrame> {
    if (this.closing) throw new Error('FCEUX emulator closed');
    if (this.exitError) throw this.exitError;
    if (!this.held) throw new Error('FCEUX emulator not started: call start() first');
    if (!this.unsure) return this.held;
    const id = this.nextPing++;
    let last: EmulatorFrame | undefined;
    await this.request(
      () => {
        this.link?.sendJson({ type: 'resync_request', timestamp: Date.now(), reason: 'resync after a timeout' });
        this.link?.sendJson({ type: 'ping', id, t0: Date.now() });
      },
      (e) => {
        if (e.kind === 'state') {
          last = e.frame;
          return e.fresh ? 'resend' : 'wait';
        }
        return e.kind === 'pong' && e.id === id && last ? 'done' : 'wait';
      },
      this.stepTimeoutMs,
      () => `FCEUX is still not answering (resync after a timeout took over ${this.stepTimeoutMs} ms)`,
    );
    this.unsure = false;
    return this.held;
  }

  private prepareSpareScreen(): void {
    if (this.spareScreen || this.spareScheduled) return;
    this.spareScheduled = true;
    // After the caller's own work for this step, while FCEUX emulates.
    setImmediate(() => {
      this.spareScheduled = false;
      if (this.spareScreen || this.closing) return;
      const b = Buffer.allocUnsafeSlow(NES_WIDTH * NES_HEIGHT * 4).fill(0);
      this.spareScreen = new Uint8Array(b.buffer, b.byteOffset, b.length);
    }).unref();
  }

  /** Makes states the script sends on its own (resync, load, reset) carry a screen or not. */
  private configureScreen(screen: boolean): void {
    if (screen === this.scriptScreen) return;
    this.scriptScreen = screen;
    this.link?.sendJson({ type: 'configure', screen });
  }

  /**
   * A state's frame, with the states' RAM (the welcome's ranges, concatenated) as a 2 KB work RAM image of its own, and
   * PRG-RAM when carried. Built in one object literal (no spread): every state takes this path on the round trip.
   */
  private frameFrom(frame: number, timestamp: number, data: string | Uint8Array, lag: boolean): EmulatorFrame {
    const bytes = typeof data === 'string' ? decodeBase64Ram(data) : data;
    const expected = this.ramBytes;
    if (bytes.length !== expected) throw new Error(`RAM has ${bytes.length} bytes, the ranges asked for ${expected}`);
    const ram = this.freshRam();
    let at = 0;
    for (const [start, length] of this.ramRanges) {
      // One range that is the whole message (the usual case) is copied without a view made for it.
      ram.set(length === bytes.length ? bytes : bytes.subarray(at, at + length), start);
      at += length;
    }
    return this.wireRanges === this.ramRanges ? { frame, timestamp, ram, lag } : { frame, timestamp, ram, prgRam: bytes.slice(at, at + PRG_RAM_SIZE), lag };
  }

  /**
   * A zeroed 2 KB work RAM image of its own, cut from a block of RAM_BLOCK_FRAMES of them: a new 2 KB typed array costs
   * a malloc and the collector's external-memory accounting on every round trip (about 1.7 µs of the 20 µs Node holds a
   * step, timed in place), a view into a block costs neither. A block lives while any frame cut from it does; whoever
   * keeps one frame's RAM long (episode ends, the RAM log) copies it, and the webview panels copy views before sending.
   */
  private freshRam(): Uint8Array {
    if (!this.ramBlock || this.ramBlockUsed + WORK_RAM_SIZE > this.ramBlock.byteLength) {
      this.ramBlock = new ArrayBuffer(WORK_RAM_SIZE * RAM_BLOCK_FRAMES);
      this.ramBlockUsed = 0;
    }
    const ram = new Uint8Array(this.ramBlock, this.ramBlockUsed, WORK_RAM_SIZE);
    this.ramBlockUsed += WORK_RAM_SIZE;
    return ram;
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, message);
    this.emit({ type: 'log', level, message });
  }

  private emit(e: EmulatorEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
}

/**
 * Why FCEUX's game is not this session's ROM. Both sides hash PRG + CHR as the header declares (FCEUX's identity), so
 * trailing bytes never cause this: what is left is another file, another dump, or a header declaring other sizes.
 */
function wrongRomMessage(fceuxName: string, fceuxMd5: string, rom: RomInfo): string {
  const stem = (name: string) => name.replace(/^.*[\\/]/, '').replace(/\.nes$/i, '');
  const sameName = stem(fceuxName) === stem(rom.name);
  const hint = sameName
    ? 'same file name, other PRG/CHR bytes: the file changed after FCEUX loaded it, or its header declares other PRG/CHR sizes than FCEUX read'
    : 'another file';
  return `FCEUX is running ${fceuxName} (PRG+CHR md5 ${fceuxMd5}), but this session's ROM is ${describeRomLayout(rom)} (${hint})`;
}
