// Runtime validation of bridge wire messages against the types in protocol.ts: untrusted JSON text in, typed message or a short error out.
import { namesToMask } from '../core/buttons';
import { NAMETABLES_SIZE, PALETTE_SIZE, PRG_RAM_SIZE } from '../core/nes';
import {
  MAX_MESSAGE_BYTES, MAX_REPEAT,
  type AgentToBridge, type BridgeToAgent, type BridgeToEmulator, type EmulatorToBridge,
  type ErrorMsg, type HeartbeatAckMsg, type HeartbeatMsg, type PingMsg, type PongMsg, type QuitMsg,
  type ResyncRequestMsg, type SavestateReplayWrite, type ScreenRequest, type EpisodeEndMsg,
} from './protocol';

export type Parsed<T> = { ok: true; msg: T } | { ok: false; error: string };

/** Longest error text a parser returns: errors travel back over the wire and into logs, so a huge payload is never echoed. */
export const MAX_ERROR_CHARS = 200;

/** Highest CPU address (the NES address space is 16 bits). */
const MAX_CPU_ADDRESS = 0xffff;
const SAVESTATE_OPS = ['save', 'load', 'drop', 'replay'] as const;
const EPISODE_END_REASONS = ['done_flag', 'max_steps', 'agent_terminated', 'stopped'] as const;
const SCREEN_FORMATS = ['rgba', 'gray'] as const;
const DOWNSAMPLE_FACTORS = [1, 2, 4, 8] as const;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Bounds of a free-form `info` object (an action's, recorded with its row; a state's): nesting levels, and bytes as JSON. */
export const MAX_INFO_DEPTH = 16;
export const MAX_INFO_BYTES = 16 * 1024;

/** Thrown inside the parsers and turned into `{ ok: false }` at the boundary. */
class InvalidMessage extends Error {}

/** A short, single-line rendering of an untrusted value for error messages. */
export function preview(value: unknown, max = 40): string {
  let s: string;
  if (value === undefined) s = 'undefined';
  else if (typeof value === 'number' && !Number.isFinite(value)) s = String(value);
  else if (Array.isArray(value) && value.length > 8) s = `an array of ${value.length} items`;
  else if (typeof value === 'string' && value.length > max) s = `a string of ${value.length} characters`;
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      // Too deeply nested (or cyclic) for JSON.stringify; String() of such an array recurses just as deep, so never call it.
      s = Array.isArray(value) ? 'a deeply nested array' : typeof value === 'object' && value !== null ? 'a deeply nested object' : String(value);
    }
  }
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** C0/C1 controls and line separators: escaped wherever peer text reaches a log, a close reason or a terminal. */
// eslint-disable-next-line no-control-regex -- escaping control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Untrusted text as one inert line: control characters escaped (\u001b...), cut to `max` characters. */
export function inertText(text: string, max = MAX_ERROR_CHARS): string {
  const clean = String(text).replace(CONTROL_CHARS, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  return clean.length > max ? clean.slice(0, max - 1) + '…' : clean;
}

function cap(text: string): string {
  return inertText(text, MAX_ERROR_CHARS);
}

/** Typed accessors over one untrusted object; every failure names `<type>.<field>`. */
class Fields {
  constructor(private readonly obj: Record<string, unknown>, private readonly where: string) {}

  private fail(field: string, expected: string, value: unknown): never {
    throw new InvalidMessage(`${this.where}.${field} must be ${expected}, got ${preview(value)}`);
  }

  has(field: string): boolean {
    return this.obj[field] !== undefined;
  }

  raw(field: string): unknown {
    return this.obj[field];
  }

  /** A frame id, counter or index: a non-negative safe integer. */
  count(field: string): number {
    const v = this.obj[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(field, 'a non-negative integer', v);
    return v;
  }

  int(field: string, min: number, max: number): number {
    const v = this.obj[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(field, `an integer in ${min}..${max}`, v);
    return v;
  }

  /** A timestamp or other real number: finite (JSON has no NaN, but a hand-built object might). */
  finite(field: string): number {
    const v = this.obj[field];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'a finite number', v);
    return v;
  }

  string(field: string): string {
    const v = this.obj[field];
    if (typeof v !== 'string') this.fail(field, 'a string', v);
    return v;
  }

  nonEmptyString(field: string): string {
    const v = this.obj[field];
    if (typeof v !== 'string' || v === '') this.fail(field, 'a non-empty string', v);
    return v;
  }

  bool(field: string): boolean {
    const v = this.obj[field];
    if (typeof v !== 'boolean') this.fail(field, 'true or false', v);
    return v;
  }

  oneOf<T extends string | number>(field: string, allowed: readonly T[]): T {
    const v = this.obj[field];
    if (!allowed.includes(v as T)) this.fail(field, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, v);
    return v as T;
  }

  base64(field: string): string {
    const v = this.obj[field];
    if (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64_RE.test(v)) this.fail(field, 'a base64 string', v);
    return v;
  }

  record(field: string): Record<string, unknown> {
    const v = this.obj[field];
    if (!isPlainObject(v)) this.fail(field, 'an object', v);
    return v;
  }

  /**
   * A free-form `info` object (an action's, recorded with its row; a state's): nested at most MAX_INFO_DEPTH levels and
   * at most MAX_INFO_BYTES as JSON, so that writing it out (JSON.stringify, deep comparison) can neither overflow nor
   * bloat a row.
   */
  infoObject(field: string): Record<string, unknown> {
    const rec = this.record(field);
    const stack: Array<[unknown, number]> = [[rec, 1]];
    while (stack.length > 0) {
      const [v, depth] = stack.pop()!;
      if (typeof v !== 'object' || v === null) continue;
      if (depth > MAX_INFO_DEPTH) this.fail(field, `an object nested at most ${MAX_INFO_DEPTH} levels deep`, rec);
      for (const child of Object.values(v)) stack.push([child, depth + 1]);
    }
    const bytes = Buffer.byteLength(JSON.stringify(rec));
    if (bytes > MAX_INFO_BYTES) this.fail(field, `at most ${MAX_INFO_BYTES} bytes as JSON (got ${bytes})`, rec);
    return rec;
  }

  numberRecord(field: string): Record<string, number> {
    const rec = this.record(field);
    for (const [k, n] of Object.entries(rec)) {
      if (typeof n !== 'number' || !Number.isFinite(n)) this.fail(`${field}.${k}`, 'a finite number', n);
    }
    return rec as Record<string, number>;
  }

  stringList(field: string): string[] {
    const v = this.obj[field];
    if (!Array.isArray(v)) this.fail(field, 'an array of strings', v);
    v.forEach((s, i) => {
      if (typeof s !== 'string') this.fail(`${field}[${i}]`, 'a string', s);
    });
    return v as string[];
  }

  /** CPU RAM ranges: [start, length] pairs inside the 64 KiB address space. */
  ranges(field: string): Array<[number, number]> {
    const v = this.obj[field];
    if (!Array.isArray(v)) this.fail(field, 'an array of [start, length] pairs', v);
    return v.map((r, i): [number, number] => {
      if (!Array.isArray(r) || r.length !== 2) this.fail(`${field}[${i}]`, 'a [start, length] pair', r);
      const [start, length] = r as unknown[];
      if (typeof start !== 'number' || !Number.isInteger(start) || start < 0 || start > MAX_CPU_ADDRESS) {
        this.fail(`${field}[${i}][0]`, `an address in 0..${MAX_CPU_ADDRESS}`, start);
      }
      if (typeof length !== 'number' || !Number.isInteger(length) || length < 1 || start + length > MAX_CPU_ADDRESS + 1) {
        this.fail(`${field}[${i}][1]`, `a length >= 1 that stays inside 0..${MAX_CPU_ADDRESS}`, length);
      }
      return [start, length];
    });
  }

  screenRequest(field: string): ScreenRequest {
    const v = this.obj[field];
    if (!isPlainObject(v)) this.fail(field, 'an object {format, downsample} or null', v);
    const f = new Fields(v, `${this.where}.${field}`);
    return { format: f.oneOf('format', SCREEN_FORMATS), downsample: f.oneOf('downsample', DOWNSAMPLE_FACTORS) };
  }

  player(field: string): 0 | 1 {
    return this.oneOf(field, [0, 1] as const);
  }

  /** Agent buttons: a mask 0..255 or a list of button names (normalised to a mask). */
  buttons(field: string): number {
    const v = this.obj[field];
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0 || v > 0xff) this.fail(field, 'a button mask 0..255 or a list of button names', v);
      return v;
    }
    if (Array.isArray(v) && v.every((n) => typeof n === 'string')) {
      try {
        return namesToMask(v as string[]);
      } catch (e) {
        throw new InvalidMessage(`${this.where}.${field}: ${(e as Error).message}`);
      }
    }
    return this.fail(field, 'a button mask 0..255 or a list of button names', v);
  }

  /** A replay's RAM writes: {at, address, data} with `at` a state of the replay (0..frames) and base64 data inside $0000-$FFFF. */
  replayWrites(field: string, frames: number): SavestateReplayWrite[] {
    const v = this.obj[field];
    if (!Array.isArray(v)) this.fail(field, 'an array of {at, address, data}', v);
    return v.map((w, i) => {
      if (!isPlainObject(w)) this.fail(`${field}[${i}]`, 'an object {at, address, data}', w);
      const g = new Fields(w, `${this.where}.${field}[${i}]`);
      const at = g.int('at', 0, frames);
      const address = g.int('address', 0, MAX_CPU_ADDRESS);
      const data = g.base64('data');
      const length = base64ByteLength(data);
      if (length === 0 || address + length > MAX_CPU_ADDRESS + 1) this.fail(`${field}[${i}].data`, `1..${MAX_CPU_ADDRESS + 1 - address} bytes`, data);
      return { at, address, data };
    });
  }

  /** Emulator buttons: exactly two masks, controller 1 then controller 2. */
  buttonPair(field: string): [number, number] {
    const v = this.obj[field];
    if (!Array.isArray(v) || v.length !== 2) this.fail(field, 'a pair [controller1, controller2] of masks 0..255', v);
    v.forEach((m, i) => {
      if (typeof m !== 'number' || !Number.isInteger(m) || m < 0 || m > 0xff) this.fail(`${field}[${i}]`, 'a button mask 0..255', m);
    });
    return [v[0] as number, v[1] as number];
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- validators for the messages both links share ----
const heartbeat = (f: Fields): HeartbeatMsg => ({ type: 'heartbeat', seq: f.count('seq'), timestamp: f.finite('timestamp') });
const heartbeatAck = (f: Fields): HeartbeatAckMsg => ({ type: 'heartbeat_ack', seq: f.count('seq'), timestamp: f.finite('timestamp') });
const ping = (f: Fields): PingMsg => ({ type: 'ping', id: f.count('id'), t0: f.finite('t0') });
const pong = (f: Fields): PongMsg => ({ type: 'pong', id: f.count('id'), t0: f.finite('t0'), t1: f.finite('t1') });
const errorMsg = (f: Fields): ErrorMsg => ({ type: 'error', code: f.string('code'), message: f.string('message') });
function resyncRequest(f: Fields): ResyncRequestMsg {
  const m: ResyncRequestMsg = { type: 'resync_request', timestamp: f.finite('timestamp') };
  if (f.has('reason')) m.reason = f.string('reason');
  return m;
}
function quit(f: Fields): QuitMsg {
  const m: QuitMsg = { type: 'quit' };
  if (f.has('code')) m.code = f.int('code', -(2 ** 31), 2 ** 31 - 1);
  if (f.has('reason')) m.reason = f.string('reason');
  return m;
}

/** One validator per message type of a direction; the mapped type makes a missing type a compile error. */
type Validators<U extends { type: string }> = { [K in U['type']]: (f: Fields) => Extract<U, { type: K }> };

const EMULATOR_TO_BRIDGE: Validators<EmulatorToBridge> = {
  hello(f) {
    const rom = f.record('rom');
    const r = new Fields(rom, 'hello.rom');
    const md5 = r.string('md5');
    // Empty when the emulator cannot hash the ROM (older FCEUX builds lack rom.gethash).
    if (md5 !== '' && !/^[0-9a-fA-F]{32}$/.test(md5)) throw new InvalidMessage(`hello.rom.md5 must be 32 hex digits or empty, got ${preview(md5)}`);
    return {
      type: 'hello', role: f.oneOf('role', ['emulator'] as const), protocol: f.int('protocol', 1, 0xffff),
      token: helloToken(f), emulator: f.string('emulator'), rom: { name: r.string('name'), md5: md5.toLowerCase() },
    };
  },
  state: (f) => ({
    type: 'state', frame: f.count('frame'), timestamp: f.finite('timestamp'), ram: f.base64('ram'),
    lag: f.bool('lag'), screen: f.bool('screen'),
  }),
  savestate_ack: (f) => ({ type: 'savestate_ack', op: f.oneOf('op', SAVESTATE_OPS), slot: f.count('slot'), frame: f.count('frame') }),
  write_ram_ack: (f) => ({ type: 'write_ram_ack', address: f.int('address', 0, MAX_CPU_ADDRESS), length: f.count('length') }),
  inspect_reply(f) {
    const r = new Fields(f.record('registers'), 'inspect_reply.registers');
    const sized = (field: string, size: number): string => {
      const v = f.base64(field);
      if (base64ByteLength(v) !== size) throw new InvalidMessage(`inspect_reply.${field} must hold ${size} bytes, got ${base64ByteLength(v)}`);
      return v;
    };
    return {
      type: 'inspect_reply', frame: f.count('frame'), prgRam: sized('prgRam', PRG_RAM_SIZE), nametables: sized('nametables', NAMETABLES_SIZE), palette: sized('palette', PALETTE_SIZE),
      registers: { a: r.int('a', 0, 0xff), x: r.int('x', 0, 0xff), y: r.int('y', 0, 0xff), p: r.int('p', 0, 0xff), sp: r.int('sp', 0, 0xff), pc: r.int('pc', 0, 0xffff) },
    };
  },
  heartbeat, heartbeat_ack: heartbeatAck, ping, pong, error: errorMsg,
};

const BRIDGE_TO_EMULATOR: Validators<BridgeToEmulator> = {
  welcome(f) {
    const m: BridgeToEmulatorOf<'welcome'> = {
      type: 'welcome', protocol: f.int('protocol', 1, 0xffff), session: f.string('session'), ram: f.ranges('ram'), screen: f.bool('screen'),
    };
    if (f.has('binaryState')) m.binaryState = f.bool('binaryState');
    if (f.has('screenFile')) m.screenFile = f.nonEmptyString('screenFile');
    return m;
  },
  action(f) {
    const m: BridgeToEmulatorOf<'action'> = { type: 'action', frame: f.count('frame'), buttons: f.buttonPair('buttons') };
    if (f.has('screen')) m.screen = f.bool('screen');
    return m;
  },
  savestate(f) {
    const m: BridgeToEmulatorOf<'savestate'> = { type: 'savestate', op: f.oneOf('op', SAVESTATE_OPS), slot: f.count('slot') };
    if (f.has('screen')) m.screen = f.bool('screen');
    if (m.op !== 'replay') return m;
    m.buttons = f.base64('buttons');
    if (base64ByteLength(m.buttons) % 2 !== 0) throw new InvalidMessage(`savestate.buttons must hold 2 bytes a frame, got ${base64ByteLength(m.buttons)}`);
    const frames = base64ByteLength(m.buttons) / 2;
    if (f.has('writes')) m.writes = f.replayWrites('writes', frames);
    return m;
  },
  write_ram(f) {
    const address = f.int('address', 0, MAX_CPU_ADDRESS);
    const data = f.base64('data');
    const length = base64ByteLength(data);
    if (length === 0 || address + length > MAX_CPU_ADDRESS + 1) {
      throw new InvalidMessage(`write_ram.data must hold 1..${MAX_CPU_ADDRESS + 1 - address} bytes at address ${address}, got ${length}`);
    }
    return { type: 'write_ram', address, data };
  },
  reset: () => ({ type: 'reset' }),
  inspect: () => ({ type: 'inspect' }),
  configure(f) {
    const m: BridgeToEmulatorOf<'configure'> = { type: 'configure' };
    if (f.has('screen')) m.screen = f.bool('screen');
    if (f.has('ram')) m.ram = f.ranges('ram');
    return m;
  },
  heartbeat, heartbeat_ack: heartbeatAck, ping, pong, resync_request: resyncRequest, quit, error: errorMsg,
};
type BridgeToEmulatorOf<K extends BridgeToEmulator['type']> = Extract<BridgeToEmulator, { type: K }>;

const AGENT_TO_BRIDGE: Validators<AgentToBridge> = {
  hello(f) {
    const m: Extract<AgentToBridge, { type: 'hello' }> = {
      type: 'hello', role: f.oneOf('role', ['agent'] as const), protocol: f.int('protocol', 1, 0xffff), token: helloToken(f),
    };
    if (f.has('player')) m.player = f.player('player');
    if (f.has('name')) m.name = f.string('name');
    if (f.raw('screen') === null) m.screen = null;
    else if (f.has('screen')) m.screen = f.screenRequest('screen');
    if (f.has('frameskip')) m.frameskip = f.int('frameskip', 1, MAX_REPEAT);
    return m;
  },
  action(f) {
    const m: Extract<AgentToBridge, { type: 'action' }> = { type: 'action', frame: f.count('frame'), buttons: f.buttons('buttons') };
    if (f.has('info')) m.info = f.infoObject('info');
    if (f.has('repeat')) m.repeat = f.int('repeat', 1, MAX_REPEAT);
    return m;
  },
  terminate: (f) => ({ type: 'terminate', frame: f.count('frame') }),
  heartbeat, heartbeat_ack: heartbeatAck, ping, pong, resync_request: resyncRequest, quit, error: errorMsg,
};

const BRIDGE_TO_AGENT: Validators<BridgeToAgent> = {
  welcome(f) {
    const maxSteps = f.raw('maxSteps') === null ? null : f.int('maxSteps', 1, Number.MAX_SAFE_INTEGER);
    return {
      type: 'welcome', protocol: f.int('protocol', 1, 0xffff), session: f.string('session'), player: f.player('player'),
      rom: f.string('rom'), vars: f.stringList('vars'), maxSteps, buttons: f.stringList('buttons'),
      screen: f.raw('screen') === null ? null : f.screenRequest('screen'),
    };
  },
  state: (f) => ({
    type: 'state', frame: f.count('frame'), step: f.count('step'), episode: f.count('episode'), timestamp: f.finite('timestamp'),
    vars: f.numberRecord('vars'), reward: f.finite('reward'), terminated: f.bool('terminated'), truncated: f.bool('truncated'),
    info: f.infoObject('info'), screen: f.bool('screen'),
  }),
  episode_end: (f) => {
    const m: EpisodeEndMsg = {
      type: 'episode_end', episode: f.count('episode'), terminationFrame: f.count('terminationFrame'), rows: f.count('rows'),
      reason: f.oneOf('reason', EPISODE_END_REASONS),
    };
    if (f.has('reward')) m.reward = f.finite('reward');
    return m;
  },
  heartbeat, heartbeat_ack: heartbeatAck, ping, pong, resync_request: resyncRequest, quit, error: errorMsg,
};

/**
 * The hello token. A client may put it in the URL query (`?token=`) instead, which the bridge server checks;
 * then the parsed hello carries an empty token.
 */
function helloToken(f: Fields): string {
  return f.has('token') ? f.string('token') : '';
}

function parseWith<U extends { type: string }>(text: string, validators: Validators<U>, direction: string): Parsed<U> {
  try {
    if (typeof text !== 'string') throw new InvalidMessage(`${direction} message must be JSON text, got ${typeof text}`);
    if (text.length > MAX_MESSAGE_BYTES) throw new InvalidMessage(`${direction} message too large: ${text.length} characters (limit ${MAX_MESSAGE_BYTES})`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new InvalidMessage(`${direction} message is not valid JSON: ${(e as Error).message}`);
    }
    if (!isPlainObject(value)) {
      throw new InvalidMessage(`${direction} message must be a JSON object, got ${Array.isArray(value) ? 'an array' : preview(value)}`);
    }
    const type = value.type;
    if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(validators, type)) {
      throw new InvalidMessage(`unknown ${direction} message type ${preview(type)} (expected one of ${Object.keys(validators).join(', ')})`);
    }
    const validate = validators[type as U['type']] as (f: Fields) => U;
    return { ok: true, msg: validate(new Fields(value, type)) };
  } catch (e) {
    if (e instanceof InvalidMessage) return { ok: false, error: cap(e.message) };
    throw e;
  }
}

export function parseEmulatorToBridge(text: string): Parsed<EmulatorToBridge> {
  return parseWith(text, EMULATOR_TO_BRIDGE, 'emulator→bridge');
}

export function parseBridgeToEmulator(text: string): Parsed<BridgeToEmulator> {
  return parseWith(text, BRIDGE_TO_EMULATOR, 'bridge→emulator');
}

/** Agent actions come back with `buttons` always normalised to a mask, whether the trainer sent a mask or names. */
export function parseAgentToBridge(text: string): Parsed<AgentToBridge> {
  return parseWith(text, AGENT_TO_BRIDGE, 'agent→bridge');
}

export function parseBridgeToAgent(text: string): Parsed<BridgeToAgent> {
  return parseWith(text, BRIDGE_TO_AGENT, 'bridge→agent');
}

/** A message as wire text. */
export function encode(msg: EmulatorToBridge | BridgeToEmulator | AgentToBridge | BridgeToAgent): string {
  return JSON.stringify(msg);
}

function base64ByteLength(s: string): number {
  if (s.length === 0) return 0;
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return (s.length / 4) * 3 - padding;
}

/** Strict standard base64 (with padding) to bytes; throws on anything else rather than silently dropping characters. */
export function decodeBase64Ram(s: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !BASE64_RE.test(s)) {
    throw new Error(`RAM data must be standard base64, got ${preview(s)}`);
  }
  // Copy out of Buffer's shared pool so the caller owns a standalone array.
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
