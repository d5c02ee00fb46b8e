// What the core needs from the outside: the emulator and agent ports, the frames and actions they exchange, and the optional state export.
import type { ButtonPair } from './buttons';

/** Which emulator backend a port, a recording or a RAM map's warm-up is for. */
export type EmulatorKind = 'embedded' | 'fceux';

export interface RomInfo {
  /** File name (no folder) the ROM was loaded from, or a label. */
  name: string;
  /** Hex MD5 of the whole file. */
  md5: string;
  /**
   * Hex MD5 of the ROM as FCEUX computes it (its game identity, FM2 romChecksum, Lua rom.gethash): PRG then CHR as the
   * header declares them, without the header, a trainer or bytes past the declared end of the image.
   */
  md5NoHeader: string;
  mapper: number;
  prgBanks: number;
  chrBanks: number;
  /** Where the file's bytes go, to say why two identities differ; absent for ROM infos not read from a file. */
  layout?: RomLayout;
}

/** Byte counts of an iNES file's parts, as its header declares them. */
export interface RomLayout {
  fileBytes: number;
  trainerBytes: number;
  prgBytes: number;
  chrBytes: number;
  /** Bytes past the declared image (often 4 KiB in homebrew and test ROMs): neither emulator loads them. */
  trailingBytes: number;
}

/**
 * What the emulator shows at the start of a frame: the machine after frame-1 ran, before `frame` runs.
 * An agent acting on this observation supplies the buttons for `frame`.
 */
export interface EmulatorFrame {
  /** Frame id (FCEUX: emu.framecount(); embedded: frames run since power-on or the last snapshot's id). */
  frame: number;
  /** Wall clock in ms (epoch-based, fractional) when the emulator produced this state. */
  timestamp: number;
  /** Copy of the 2 KB work RAM ($0000-$07FF). */
  ram: Uint8Array;
  /** Copy of PRG-RAM $6000-$7FFF (8 KB), only from a port created to carry it (a RAM map names a variable there). */
  prgRam?: Uint8Array;
  /** Copy of the screen as RGBA, 256x240x4 bytes, when screens were asked for. */
  screen?: Uint8Array;
  /** True when the previous frame did not poll the controllers (FCEUX lag flag). */
  lag: boolean;
}

/**
 * Whether the frame carries a screen, without reading it: an emulator may hand out a screen that is converted only
 * when first read (FceuxEmulator does), and a caller that only stores the frame should not pay for that.
 */
export function hasScreen(f: EmulatorFrame): boolean {
  const d = Object.getOwnPropertyDescriptor(f, 'screen');
  if (!d) return false;
  return d.get !== undefined || d.value !== undefined;
}

export interface StepOptions {
  /** Capture the screen for the returned frame. */
  screen?: boolean;
  /**
   * Optional, for step(): an emulator whose frames come in on a socket may call this the moment the step's frame
   * arrives, before the returned promise settles, and `next` then sends the following step at once (as step() would,
   * without the turns of the event loop in between). `next` returns undefined when it cannot (another call waits its
   * turn); step() is then used as usual. Emulators may ignore it: nothing may depend on its being called. It must not
   * throw (an emulator that catches a throw logs it).
   */
  arrived?: (frame: EmulatorFrame, next: StepNow) => void;
}

/** Sends a step at once from inside `StepOptions.arrived`; undefined when the emulator cannot send it now. */
export type StepNow = (buttons: ButtonPair, options?: StepOptions) => Promise<EmulatorFrame> | undefined;

export interface SnapshotOptions {
  /**
   * Keep the picture with the snapshot (default true). Without it a load holds a frame whose picture is not known
   * until a frame runs: FCEUX's savestates do not restore its picture, and keeping one costs 246 KB a snapshot.
   */
  screen?: boolean;
}

/** A RAM write made at the state with this index of a replay (0 = the snapshot's own state). */
export interface ReplayWrite {
  at: number;
  address: number;
  bytes: Uint8Array;
}

/** Opaque handle to a saved machine state; only valid for the port that made it. */
export interface SnapshotHandle {
  readonly id: number;
  readonly frame: number;
}

export type EmulatorEvent =
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'exit'; code: number | null; reason: string };

/** The 6502's registers when the held frame starts (the point where the previous frame ended). */
export interface CpuRegisters {
  a: number;
  x: number;
  y: number;
  /** Status flags NV-BDIZC as pushed by PHP (bits 4 and 5 set). */
  p: number;
  /** Stack pointer (the stack is at $0100 + sp). */
  sp: number;
  pc: number;
}

/**
 * What the held frame holds beyond the 2 KB work RAM every frame carries: read only when asked (a debugger's Variables
 * view or memory view), so the per-frame round trip stays the same.
 */
export interface MachineDetail {
  frame: number;
  registers: CpuRegisters;
  /** $6000-$7FFF as the CPU reads it (8 KB; open-bus or zeros on a cartridge without PRG-RAM). */
  prgRam: Uint8Array;
  /** PPU $2000-$2FFF (4 KB) as the PPU reads it, mirrored nametables included. */
  nametables: Uint8Array;
  /** PPU $3F00-$3F1F, 6-bit colour indices ($3F10/$14/$18/$1C read as $3F00/$04/$08/$0C, as on the console). */
  palette: Uint8Array;
  /**
   * OAM (sprite RAM, 256 bytes: 64 sprites of y, tile, attributes, x); absent where the emulator cannot read it: FCEUX
   * 2.6.5's Lua API reads CPU memory (`memory`) and PPU memory (`ppu`), and OAM is neither.
   */
  oam?: Uint8Array;
}

/** The one interface every emulator backend (embedded jsnes worker, real FCEUX) implements. */
export interface EmulatorPort {
  readonly kind: EmulatorKind;
  /** Starts the emulator with a ROM file and returns the first observable frame. Rejects with a clear error for a bad ROM. */
  start(romPath: string, options?: StepOptions): Promise<{ rom: RomInfo; first: EmulatorFrame }>;
  /** Runs the current frame with these buttons held on both controllers and returns the next frame's state. */
  step(buttons: ButtonPair, options?: StepOptions): Promise<EmulatorFrame>;
  /** The current frame's state again (resync), without advancing. */
  current(options?: StepOptions): Promise<EmulatorFrame>;
  writeRam(address: number, bytes: Uint8Array): Promise<void>;
  /** Registers and PRG-RAM of the held frame, on demand; absent on ports that cannot read them. */
  inspect?(): Promise<MachineDetail>;
  saveSnapshot(options?: SnapshotOptions): Promise<SnapshotHandle>;
  /**
   * Restores a snapshot: RAM, screen, frame id all return to it. Returns the restored frame's state (without a screen
   * when the snapshot was saved without its picture, even if one is asked for: never another frame's picture).
   */
  loadSnapshot(handle: SnapshotHandle, options?: StepOptions): Promise<EmulatorFrame>;
  /**
   * Optional: loads a snapshot and runs `buttons` (2 bytes a frame) from it with `writes`, in one request, answering
   * every state it went through (the snapshot's first, n + 1 in all); only the last may carry a screen (options.screen).
   * Ports without it are replayed one load and one step at a time.
   */
  replaySnapshot?(handle: SnapshotHandle, buttons: Uint8Array, writes: readonly ReplayWrite[], options?: StepOptions): Promise<EmulatorFrame[]>;
  /** Forgets a snapshot so its memory can be reclaimed. */
  dropSnapshot(handle: SnapshotHandle): void;
  /** Power-cycle the console (new episode from a clean machine). */
  reset(options?: StepOptions): Promise<EmulatorFrame>;
  onEvent(listener: (e: EmulatorEvent) => void): () => void;
  /** Ends the emulator for good (kills processes, stops workers). Idempotent. */
  close(): Promise<void>;
}

/** What an agent sees for one frame: the state before `frame` runs. */
export interface Observation {
  frame: number;
  /** Step index inside the episode (0-based), i.e. the dataset row this frame becomes. */
  step: number;
  episode: number;
  /** Which controller this agent drives (0 = controller 1). */
  player: 0 | 1;
  timestamp: number;
  ram: Uint8Array;
  /** RAM-map variables by name. */
  vars: Record<string, number>;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Record<string, unknown>;
  /** RGBA 256x240 when the agent asked for screens. */
  screen?: Uint8Array;
}

/** An agent's answer: the buttons for a frame, tagged with the frame id it believes it is answering. */
export interface AgentAction {
  frame: number;
  buttons: number;
  /** Free-form info the agent wants recorded (e.g. value estimate). */
  info?: Record<string, unknown>;
}

export interface AgentEpisodeEnd {
  episode: number;
  terminationFrame: number;
  rows: number;
  reason: 'done_flag' | 'max_steps' | 'agent_terminated' | 'stopped';
  /** Rewards of the episode's last transition per controller (an observation carries the reward that led to it; the last one has no observation). */
  lastRewards?: [number, number];
  /**
   * The state after the episode's last frame ran (at terminationFrame), which no row holds: a trainer's final observation
   * (Gymnasium bootstraps truncated episodes from it). The screen is there when the run captured screens.
   */
  final?: FinalState;
}

/** The state at an episode's termination frame. */
export interface FinalState {
  frame: number;
  timestamp: number;
  vars: Record<string, number>;
  info: Record<string, unknown>;
  /** RGBA 256x240, when screens were captured. */
  screen?: Uint8Array;
}

/** A screen as an agent got it: downsampled, grey or colour, the stacked frames oldest first. */
export interface GivenScreen {
  width: number;
  height: number;
  /** Bytes per pixel: 1 = grey, 3 = RGB planes merged per pixel, 4 = RGBA. */
  channels: 1 | 3 | 4;
  /** Oldest first; each width*height*channels bytes (0..255). */
  stack: Uint8Array[];
  /** The frame id each stacked slot was taken from, oldest first (same length as stack). */
  stackFrames: number[];
  /** How the bytes relate to what the agent got, e.g. "gray, downsample 4, as sent" or "model input x255, rounded". */
  encoding: string;
}

/** What an agent was actually given for one observation (its own encoding of it), reported through setInputTap. */
export interface GivenInput {
  frame: number;
  episode: number;
  step: number;
  /** How it went to the agent: "state message + screen frame", "ONNX model input"... */
  via: string;
  /** Variables by name as sent (in the order sent), when the agent gets variables. */
  vars?: Record<string, number>;
  /** A numeric input vector with a name per entry (an ONNX RAM input: values after scaling). */
  vector?: { names: string[]; values: number[] };
  info?: Record<string, unknown>;
  reward?: number;
  screen?: GivenScreen;
  /** Why there is no screen although the agent asked for one (e.g. it could not be encoded). */
  note?: string;
}

/** The one interface every agent (external trainer, ONNX policy, random, scripted, FM2 replay) implements. */
export interface AgentPort {
  readonly name: string;
  /** True when the agent wants screens in its observations. */
  readonly wantsScreen: boolean;
  /** Called once before the first observation; may wait (e.g. for a trainer to connect). */
  start?(signal?: AbortSignal): Promise<void>;
  act(obs: Observation, signal?: AbortSignal): Promise<AgentAction>;
  /**
   * Optional, for an agent that decides without waiting (the built-in random agent and replays): the answer act()
   * would give, returned at once, so the frame's step can go out in the same turn its state arrived. Used instead of
   * act() for that observation, never as well.
   */
  actNow?(obs: Observation): AgentAction;
  episodeEnd?(end: AgentEpisodeEnd): void | Promise<void>;
  /** Agents behind a link (a trainer over WebSocket) answer a heartbeat: true when acknowledged within timeoutMs. */
  heartbeat?(timeoutMs: number): Promise<boolean>;
  /**
   * Optional: the runtime hands a tap (undefined to remove it) and the agent reports what it actually gave its trainer
   * or model for each observation, for the agent's-eye view. Only called while a tap is set, so it costs nothing otherwise.
   */
  setInputTap?(tap: ((input: GivenInput) => void) | undefined): void;
  close(): Promise<void>;
}

/**
 * An emulator whose whole machine state can leave it as bytes and come back (in another instance of the same emulator).
 * Only the in-process embedded emulator used for snapshot recordings and divergence replays has it; EmulatorPort does not.
 */
export interface StateExporter {
  /** Names the byte layout; a sidecar written with another format is refused. */
  readonly stateFormat: string;
  /** The state of the held frame (before it runs). */
  exportState(): Promise<Uint8Array>;
  /** Restores a state made by exportState (same ROM) and returns the held frame. */
  importState(bytes: Uint8Array, options?: StepOptions): Promise<EmulatorFrame>;
}

export function isStateExporter(e: EmulatorPort | object): e is EmulatorPort & StateExporter {
  const x = e as Partial<StateExporter>;
  return typeof x.exportState === 'function' && typeof x.importState === 'function' && typeof x.stateFormat === 'string';
}
