// What an FceuxEmulator is built with: launch or attach, the state transport and action encoding, the link's timing, the limits.
import type { BridgeServer } from '../../bridge/bridgeServer';

export type FceuxMode = 'launch' | 'attach';

/**
 * How lockstep.lua sends each state. json: JSON with base64 RAM, then the screen as a binary "LSSC" message (what a
 * script that predates the others does anyway). binary: one binary "LSST" message with RAM and screen. file: binary
 * states, and the screens of stepped frames written to a private temp file instead of the socket (fastest).
 */
export type FceuxStateTransport = 'json' | 'binary' | 'file';
export const STATE_TRANSPORTS: readonly FceuxStateTransport[] = ['json', 'binary', 'file'];

/**
 * How actions go to lockstep.lua. binary: the 12-byte "LSAC" message, when the script's hello offers it (a script that
 * predates it gets JSON). json: always the JSON action message.
 */
export type FceuxActionEncoding = 'binary' | 'json';
export const ACTION_ENCODINGS: readonly FceuxActionEncoding[] = ['binary', 'json'];

/** Timing of lockstep.lua's link to the bridge (passed to the script as LOCKSTEP_* variables in launch mode). */
export interface FceuxLinkTiming {
  heartbeatMs?: number;
  deadMs?: number;
  helloMs?: number;
  reconnectTries?: number;
  reconnectMs?: number;
}

export interface FceuxEmulatorOptions {
  /** FCEUX executable; searched on PATH and in the usual places when omitted. */
  fceuxPath?: string;
  /** A bridge shared with the agents; the emulator creates (and closes) its own when omitted. */
  bridge?: BridgeServer;
  /** launch: start FCEUX ourselves. attach: wait for a user-started FCEUX that loads lockstep.lua. */
  mode?: FceuxMode;
  /** No FCEUX window (default). A window needs a display; without one the emulator stays headless and says so. */
  headless?: boolean;
  /** CPU RAM ranges [start, length] inside $0000-$07FF sent with each state; default all 2 KB. */
  ramRanges?: Array<[number, number]>;
  /** Every state also carries PRG-RAM $6000-$7FFF (8 KB more per frame; a RAM map names a variable there). */
  prgRam?: boolean;
  /** How long to wait for FCEUX's hello and first state (launch default 20 s, attach default 10 min). */
  connectTimeoutMs?: number;
  /** How long one step, snapshot or RAM write may take before it fails (default 10 s). */
  stepTimeoutMs?: number;
  /** lockstep.lua path; defaults to lua/lockstep.lua in the package. */
  luaPath?: string;
  linkTiming?: FceuxLinkTiming;
  /** Default file; falls back to binary when the temp file cannot be made. */
  stateTransport?: FceuxStateTransport;
  /** Default binary (JSON to a script that does not offer binary actions). */
  actions?: FceuxActionEncoding;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}
