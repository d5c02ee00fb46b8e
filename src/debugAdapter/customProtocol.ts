// The one typed definition of Lockstep's custom DAP requests and events (all named `lockstep.*`), shared by the adapter, the extension and tests.
import type { DesyncType } from '../core/sync/desyncDetector';
import type { EmulatorKind } from '../core/ports';

/** Sent in `lockstep.sessionInfo`; bump when a request or event changes shape. */
export const LOCKSTEP_DAP_PROTOCOL_VERSION = 1;

export type GateModeName = 'strict' | 'hold';

/** A controller index as everywhere in Lockstep: 0 = controller 1, 1 = controller 2. */
export type PlayerIndex = 0 | 1;

export interface LockstepStatus {
  state: 'starting' | 'running' | 'stopped' | 'terminated';
  /** The frame the emulator holds (null before the ROM is loaded). */
  frame: number | null;
  episode: number;
  step: number;
  /** Frames run in this debug session. */
  framesRun: number;
  /** Frames per second of the current run (since the last Continue or step), or of the last run while stopped. */
  fps: number;
  desyncTotal: number;
  desyncs: Partial<Record<DesyncType, number>>;
  gateMode: GateModeName;
  pauseUntilAction: boolean;
  /** Present while the gate waits for an agent. */
  waiting?: WaitingInfo;
  /** Frames that can be stepped back. */
  stepBackAvailable: number;
}

export interface WaitingInfo {
  frame: number;
  /** Controllers still awaited (0 = controller 1). */
  waitingFor: number[];
  sinceMs: number;
  mode: GateModeName;
}

/** Custom requests: command name -> arguments and response body. */
export interface CustomRequests {
  /** Runs exactly `count` frames (breakpoints still stop earlier), then stops with reason `step`. */
  'lockstep.stepFrames': { args: { count: number }; body: { from: number } };
  /** Buttons for the held frame by hand (pause-until-action); without `player`, for every controller still awaited. */
  'lockstep.sendAction': { args: { buttons: string[] | number; player?: PlayerIndex }; body: SendActionResult };
  'lockstep.setGateMode': { args: { mode: GateModeName }; body: { mode: GateModeName } };
  /** When on, the session stops (reason `pause`) whenever the gate has waited for an agent longer than a moment. */
  'lockstep.setPauseUntilAction': { args: { enabled: boolean }; body: { enabled: boolean } };
  'lockstep.getStatus': { args: Record<string, never>; body: LockstepStatus };
  /**
   * Whether something shows this session's screens (the extension says so as screen and buffer panels open and close;
   * it may come before the launch has finished). Screens are captured while shown, unless the launch configuration
   * sets `captureScreens` either way; `capturing` says what holds now.
   */
  'lockstep.showScreens': { args: { shown: boolean }; body: { capturing: boolean } };
  /**
   * Stops the session on session-history tick `tick` (any episode; the timeline panel's click), like a step back that
   * may go forward too: answers where it stopped, then a `stopped` event with reason `goto` follows.
   */
  'lockstep.travel': { args: { tick: number }; body: TravelResult };
}

export interface TravelResult {
  tick: number;
  frame: number;
  episode: number;
  step: number;
}

export interface SendActionResult {
  frame: number;
  buttons: number;
  buttonNames: string[];
  /** `now`: released a frame the gate was holding; `queued`: applies when the next frame runs. */
  applied: 'now' | 'queued';
  players: number[];
}

export interface SessionInfo {
  protocolVersion: number;
  session: string;
  rom: { name: string; path: string; md5: string };
  emulator: EmulatorKind;
  agents: [string, string];
  ramMap: { name: string; variables: Array<{ name: string; address: number; size: number }> };
  /** Bridge port when FCEUX or a trainer connects over WebSocket. */
  bridgePort: number | null;
  stepBackDepth: number;
}

export interface DesyncNotice {
  type: DesyncType;
  frame: number;
  expectedFrame: number;
  receivedFrame: number | null;
  gap: number | null;
  delayMs: number | null;
  clockOffsetMs: number | null;
  /** clock_drift: how far the peer's offset moved from its reference (ms); null for other desyncs. */
  clockDriftMs: number | null;
  player: number | null;
  message: string;
  recovery: string | null;
  /** Whether a desync breakpoint stops the session for it. */
  stops: boolean;
}

export interface EpisodeEndNotice {
  episode: number;
  rows: number;
  reason: string;
  startFrame: number;
  terminationFrame: number;
  returns: [number, number];
}

export interface RunSummaryNotice {
  frames: number;
  wallMs: number;
  fps: number;
  desyncTotal: number;
  desyncs: Partial<Record<DesyncType, number>>;
  episodesEnded: number;
  fault: string | null;
}

/** Custom events: event name -> body. */
export interface CustomEvents {
  'lockstep.sessionInfo': SessionInfo;
  /** Throttled while running (a few per second) and sent at every stop. */
  'lockstep.status': LockstepStatus;
  'lockstep.waiting': WaitingInfo;
  /** A shown wait ended: the agent's action arrived, or one was supplied by hand. */
  'lockstep.released': { frame: number; waitedMs: number; by: 'agent' | 'manual' };
  'lockstep.desync': DesyncNotice;
  'lockstep.episodeEnd': EpisodeEndNotice;
  /** Attach mode: where a user-started FCEUX running lua/lockstep.lua must connect. */
  'lockstep.attachWaiting': { port: number; token: string; luaPath: string | null };
  'lockstep.summary': RunSummaryNotice;
}

export type CustomRequestName = keyof CustomRequests;
export type CustomEventName = keyof CustomEvents;

export const CUSTOM_REQUEST_NAMES: readonly CustomRequestName[] = [
  'lockstep.stepFrames',
  'lockstep.sendAction',
  'lockstep.setGateMode',
  'lockstep.setPauseUntilAction',
  'lockstep.getStatus',
  'lockstep.showScreens',
  'lockstep.travel',
];

export const CUSTOM_EVENT_NAMES: readonly CustomEventName[] = [
  'lockstep.sessionInfo',
  'lockstep.status',
  'lockstep.waiting',
  'lockstep.released',
  'lockstep.desync',
  'lockstep.episodeEnd',
  'lockstep.attachWaiting',
  'lockstep.summary',
];

/** A parsed custom request: a tagged union the adapter switches on. */
export type CustomRequest = { [K in CustomRequestName]: { command: K; args: CustomRequests[K]['args'] } }[CustomRequestName];

export function isCustomRequestName(command: string): command is CustomRequestName {
  return (CUSTOM_REQUEST_NAMES as readonly string[]).includes(command);
}

/** Checks a custom request's arguments; throws naming the field and value that are wrong. */
export function parseCustomRequest(command: string, raw: unknown): CustomRequest {
  if (!isCustomRequestName(command)) {
    throw new Error(`unknown request "${command}" (Lockstep understands ${CUSTOM_REQUEST_NAMES.join(', ')})`);
  }
  const args = (raw ?? {}) as Record<string, unknown>;
  if (typeof args !== 'object' || Array.isArray(args)) throw new Error(`${command}: arguments must be an object, got ${JSON.stringify(raw)}`);
  switch (command) {
    case 'lockstep.stepFrames': {
      const count = args.count;
      if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) {
        throw new Error(`${command}: count must be an integer >= 1, got ${JSON.stringify(count)}`);
      }
      return { command, args: { count } };
    }
    case 'lockstep.sendAction': {
      const buttons = args.buttons;
      const okNames = Array.isArray(buttons) && buttons.every((b) => typeof b === 'string');
      const okMask = typeof buttons === 'number' && Number.isInteger(buttons) && buttons >= 0 && buttons <= 0xff;
      if (!okNames && !okMask) throw new Error(`${command}: buttons must be a list of button names or a mask 0-255, got ${JSON.stringify(buttons)}`);
      const player = args.player;
      if (player !== undefined && player !== 0 && player !== 1) {
        throw new Error(`${command}: player must be 0 (controller 1) or 1 (controller 2), got ${JSON.stringify(player)}`);
      }
      return { command, args: { buttons: buttons as string[] | number, player: player as PlayerIndex | undefined } };
    }
    case 'lockstep.setGateMode': {
      const mode = args.mode;
      if (mode !== 'strict' && mode !== 'hold') throw new Error(`${command}: mode must be "strict" or "hold", got ${JSON.stringify(mode)}`);
      return { command, args: { mode } };
    }
    case 'lockstep.setPauseUntilAction': {
      const enabled = args.enabled;
      if (typeof enabled !== 'boolean') throw new Error(`${command}: enabled must be true or false, got ${JSON.stringify(enabled)}`);
      return { command, args: { enabled } };
    }
    case 'lockstep.getStatus':
      return { command, args: {} };
    case 'lockstep.showScreens': {
      const shown = args.shown;
      if (typeof shown !== 'boolean') throw new Error(`${command}: shown must be true or false, got ${JSON.stringify(shown)}`);
      return { command, args: { shown } };
    }
    case 'lockstep.travel': {
      const tick = args.tick;
      if (typeof tick !== 'number' || !Number.isSafeInteger(tick) || tick < 0) {
        throw new Error(`${command}: tick must be an integer >= 0 (a session-history tick), got ${JSON.stringify(tick)}`);
      }
      return { command, args: { tick } };
    }
    default: {
      const _never: never = command;
      throw new Error(`unhandled request ${String(_never)}`);
    }
  }
}
