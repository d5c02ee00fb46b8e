// The bridge wire protocol (emulator link and agent link): the one typed definition of every message. See docs/protocol.md.
// Text frames carry JSON messages; binary frames carry screens (see screenFrame.ts). Parsing/validation lives in protocolCodec.ts.

export const PROTOCOL_VERSION = 1;

/** Largest message the bridge accepts (a full RGBA screen plus headroom). */
export const MAX_MESSAGE_BYTES = 1 << 20;

export type Role = 'emulator' | 'agent';

// ---- messages shared by both links ----
export interface HeartbeatMsg { type: 'heartbeat'; seq: number; timestamp: number }
export interface HeartbeatAckMsg { type: 'heartbeat_ack'; seq: number; timestamp: number }
/** Clock sync: t0 is the sender's clock when sent. */
export interface PingMsg { type: 'ping'; id: number; t0: number }
/** Clock sync reply: t0 echoed, t1 the replier's wall clock (ms) when it answered. */
export interface PongMsg { type: 'pong'; id: number; t0: number; t1: number }
/** Ask the peer to send the state of its current frame again. */
export interface ResyncRequestMsg { type: 'resync_request'; timestamp: number; reason?: string }
export interface ErrorMsg { type: 'error'; code: string; message: string }
export interface QuitMsg { type: 'quit'; code?: number; reason?: string }

// ---- emulator link (FCEUX Lua script <-> bridge), path /emulator ----
export interface EmulatorHelloMsg {
  type: 'hello';
  role: 'emulator';
  protocol: number;
  token: string;
  emulator: string;
  rom: { name: string; md5: string };
  /**
   * The emulator reads actions as the 12-byte binary "LSAC" message (actionFrame.ts) as well as JSON; the bridge then
   * sends them so. Without it, actions stay JSON.
   */
  binaryActions?: boolean;
}
/**
 * Bridge's answer to a hello: what to send per frame. ram is a list of [start, length] ranges of CPU RAM.
 * Optional speed-ups an emulator that does not know them ignores (it keeps sending JSON states with "LSSC" screens):
 * binaryState: send every state as one binary "LSST" message (RAM, and the screen, inside; see screenFrame.ts).
 * screenFile: with binaryState, a file (same machine, named lockstep-screen-*.gd) the emulator may write the screen of a
 * state that answers an action to, as an "LSSC" frame, instead of sending it; the state's flags say so.
 */
export interface EmulatorWelcomeMsg {
  type: 'welcome'; protocol: number; session: string; ram: Array<[number, number]>; screen: boolean;
  binaryState?: boolean;
  screenFile?: string;
}
/**
 * State before `frame` runs. ram is base64 of the requested ranges concatenated; a screen, if asked for, follows as a
 * binary frame. An emulator whose welcome said binaryState sends the same content as a binary "LSST" message instead.
 */
export interface EmulatorStateMsg { type: 'state'; frame: number; timestamp: number; ram: string; lag: boolean; screen: boolean }
/** Buttons to hold during `frame` on controllers 1 and 2 (as binary "LSAC" to an emulator whose hello offered binaryActions). */
export interface EmulatorActionMsg { type: 'action'; frame: number; buttons: [number, number]; screen?: boolean }
export type SavestateOp = 'save' | 'load' | 'drop' | 'replay';
export interface SavestateMsg {
  type: 'savestate'; op: SavestateOp; slot: number;
  /** save: keep the picture with the state (default true; a load of a slot without one sends states without a screen
   * until a frame runs). replay: the last state carries the screen. */
  screen?: boolean;
  /** replay: base64 of 2 bytes a frame (controller 1, controller 2), the frames to run from the loaded slot. */
  buttons?: string;
  /** replay: RAM writes made at the state with index `at` (0 = the loaded one) before that state is sent. */
  writes?: SavestateReplayWrite[];
}
export interface SavestateReplayWrite { at: number; address: number; data: string }
export interface SavestateAckMsg { type: 'savestate_ack'; op: SavestateOp; slot: number; frame: number }
export interface WriteRamMsg { type: 'write_ram'; address: number; data: string }
export interface WriteRamAckMsg { type: 'write_ram_ack'; address: number; length: number }
export interface ResetMsg { type: 'reset' }
/** Ask for the held frame's CPU registers and PRG-RAM (a debugger's Variables or memory view; never per frame). */
export interface InspectMsg { type: 'inspect' }
/** prgRam: base64 of the 8 KB $6000-$7FFF; nametables: of PPU $2000-$2FFF (4 KB); palette: of PPU $3F00-$3F1F. */
export interface InspectReplyMsg {
  type: 'inspect_reply'; frame: number; registers: { a: number; x: number; y: number; p: number; sp: number; pc: number };
  prgRam: string; nametables: string; palette: string;
}
/** Ask for a change of what each state carries (e.g. screens on/off). */
export interface ConfigureMsg { type: 'configure'; screen?: boolean; ram?: Array<[number, number]> }

export type EmulatorToBridge =
  | EmulatorHelloMsg | EmulatorStateMsg | SavestateAckMsg | WriteRamAckMsg | InspectReplyMsg
  | HeartbeatMsg | HeartbeatAckMsg | PongMsg | PingMsg | ErrorMsg;
export type BridgeToEmulator =
  | EmulatorWelcomeMsg | EmulatorActionMsg | SavestateMsg | WriteRamMsg | ResetMsg | InspectMsg | ConfigureMsg
  | HeartbeatMsg | HeartbeatAckMsg | PingMsg | PongMsg | ResyncRequestMsg | QuitMsg | ErrorMsg;

// ---- agent link (trainer <-> bridge), path /agent ----
export interface ScreenRequest {
  /** rgba: 256x240x4; gray: one byte per pixel (luma). */
  format: 'rgba' | 'gray';
  /** Integer downsampling factor (1, 2, 4, 8): width 256/f, height 240/f. */
  downsample: number;
}
export interface AgentHelloMsg {
  type: 'hello';
  role: 'agent';
  protocol: number;
  token: string;
  /** Which controller this trainer drives; omitted = the first free one the launch config gave to a websocket agent. */
  player?: 0 | 1;
  name?: string;
  screen?: ScreenRequest | null;
  /**
   * Declared action repeat: every action of this link holds its buttons for this many frames (1..MAX_REPEAT); the bridge
   * answers the frames in between itself, records each (marked repeated), and sends the state after the last one.
   */
  frameskip?: number;
}
/** The most frames one declared action may cover. */
export const MAX_REPEAT = 64;
export interface AgentWelcomeMsg {
  type: 'welcome';
  protocol: number;
  session: string;
  player: 0 | 1;
  rom: string;
  /** RAM-map variable names in observation order. */
  vars: string[];
  /** [min, max] of each variable (from its size and sign), in `vars` order: observation-space bounds. */
  varRanges?: Array<[number, number]>;
  maxSteps: number | null;
  buttons: string[];
  screen: ScreenRequest | null;
}
export interface AgentStateMsg {
  type: 'state';
  frame: number;
  step: number;
  episode: number;
  timestamp: number;
  vars: Record<string, number>;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Record<string, unknown>;
  /** True when a binary screen frame for this frame follows. */
  screen: boolean;
  /** Frames run since the trainer's last answer when it declared a repeat (reward is their sum); absent = 1. */
  frames?: number;
}
/** buttons: a mask of BUTTON bits, or a list of button names. repeat: hold them this many frames (overrides hello.frameskip). */
export interface AgentActionMsg { type: 'action'; frame: number; buttons: number | string[]; info?: Record<string, unknown>; repeat?: number }
export interface EpisodeEndMsg {
  type: 'episode_end';
  episode: number;
  terminationFrame: number;
  rows: number;
  reason: 'done_flag' | 'max_steps' | 'agent_terminated' | 'stopped';
  /** Reward of the episode's last transition for this trainer's controller (the last step()'s reward). */
  reward?: number;
  /** The state after the last frame (at terminationFrame): the last step()'s observation. screen: a binary screen frame follows. */
  final?: { frame: number; timestamp: number; vars: Record<string, number>; info: Record<string, unknown>; screen: boolean };
  /** Frames run since the trainer's last answer when it declared a repeat (reward is their sum); absent = 1. */
  frames?: number;
}
/** A trainer may say its episode is over (terminated) from its side; the bridge fixes the synced termination frame. */
export interface AgentTerminateMsg { type: 'terminate'; frame: number }

export type AgentToBridge =
  | AgentHelloMsg | AgentActionMsg | AgentTerminateMsg
  | HeartbeatMsg | HeartbeatAckMsg | PingMsg | PongMsg | ResyncRequestMsg | QuitMsg | ErrorMsg;
export type BridgeToAgent =
  | AgentWelcomeMsg | AgentStateMsg | EpisodeEndMsg
  | HeartbeatMsg | HeartbeatAckMsg | PingMsg | PongMsg | ResyncRequestMsg | QuitMsg | ErrorMsg;

/** WebSocket close codes the bridge uses, with the reason text sent beside them. */
export const CLOSE = {
  normal: 1000,
  protocolError: 1002,
  /** The peer stopped reading: more than the bridge's unsent-bytes bound queued for it. */
  notReading: 1008,
  tooBig: 1009,
  badToken: 4001,
  badOrigin: 4003,
  badVersion: 4005,
  malformed: 4007,
  helloTimeout: 4008,
  replaced: 4009,
} as const;
