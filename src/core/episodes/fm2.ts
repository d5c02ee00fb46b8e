// FCEUX movies (.fm2, text form): parse into button masks per frame, and write a movie FCEUX can replay.
import { randomUUID } from 'node:crypto';
import { fm2ToMask, maskToFm2, type ButtonPair } from '../buttons';
import type { EmulatorKind } from '../ports';

export interface Fm2Frame {
  /** Bitfield: 1 soft reset, 2 power cycle (others exist in FCEUX; kept as read). */
  commands: number;
  /** Controller 1 and 2 as BUTTON masks (0 when a port has no gamepad). */
  ports: [number, number];
}

export interface Fm2Subtitle {
  frame: number;
  text: string;
}

export interface Fm2Movie {
  /** Header `key value` lines except comments and subtitles. */
  header: Record<string, string>;
  /** Text after `comment ` (e.g. "author Jane"). */
  comments: string[];
  subtitles: Fm2Subtitle[];
  /** One entry per input line; entry i is the input for frame i of the movie. */
  frames: Fm2Frame[];
}

export const FM2_COMMAND = { softReset: 1, powerCycle: 2 } as const;

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MD5_HEX_RE = /^[0-9a-f]{32}$/i;

/** Parses an FM2 movie; errors name the file and line. */
export function parseFm2(text: string, fileName: string): Fm2Movie {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const movie: Fm2Movie = { header: {}, comments: [], subtitles: [], frames: [] };
  const fail = (lineNo: number, msg: string): never => {
    throw new Error(`${fileName}:${lineNo}: ${msg}`);
  };
  let inputStarted = false;
  let portTypes: [string, string] | undefined;
  let fourscore = false;

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i];
    if (line.trim() === '') continue;

    if (line.startsWith('|')) {
      if (!inputStarted) {
        inputStarted = true;
        if (movie.header.version === undefined) fail(lineNo, 'input starts before the "version 3" header line');
        if (movie.header.binary !== undefined && movie.header.binary !== '0') fail(lineNo, 'binary FM2 input is not supported (save the movie as text)');
        fourscore = movie.header.fourscore === '1';
        portTypes = [movie.header.port0 ?? '', movie.header.port1 ?? ''];
      }
      movie.frames.push(parseInputLine(line, lineNo, portTypes!, fourscore, fail));
      continue;
    }
    if (inputStarted) fail(lineNo, `expected an input line starting with "|" after the header, got ${show(line)}`);

    const space = line.indexOf(' ');
    const key = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? '' : line.slice(space + 1);
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) fail(lineNo, `expected a "key value" header line, got ${show(line)}`);
    if (movie.frames.length === 0 && Object.keys(movie.header).length === 0 && movie.comments.length === 0 && key !== 'version') {
      fail(lineNo, `an FM2 movie must start with "version 3", got ${show(line)}`);
    }
    if (key === 'comment') {
      movie.comments.push(value);
    } else if (key === 'subtitle') {
      const m = /^(\d+) (.*)$/.exec(value);
      if (!m) fail(lineNo, `subtitle must be "subtitle <frame> <text>", got ${show(line)}`);
      const frame = Number(m![1]);
      if (!Number.isSafeInteger(frame)) fail(lineNo, `subtitle frame must be a whole number up to ${Number.MAX_SAFE_INTEGER}, got ${show(m![1])}`);
      movie.subtitles.push({ frame, text: m![2] });
    } else {
      if (key in movie.header) fail(lineNo, `header key "${key}" appears twice`);
      checkHeaderValue(key, value, lineNo, fail);
      movie.header[key] = value;
    }
  }
  if (movie.header.version === undefined) fail(1, 'not an FM2 movie: no "version 3" line');
  return movie;
}

function checkHeaderValue(key: string, value: string, lineNo: number, fail: (n: number, m: string) => never): void {
  switch (key) {
    case 'version':
      if (value !== '3') fail(lineNo, `only FM2 version 3 is supported, got version ${show(value)}`);
      break;
    case 'port0':
    case 'port1':
      if (value === '2') fail(lineNo, `${key} is a Zapper (2); only gamepads (1) or nothing (0) are supported`);
      if (value !== '0' && value !== '1') fail(lineNo, `${key} must be 0 (none) or 1 (gamepad), got ${show(value)}`);
      break;
    case 'palFlag':
    case 'fourscore':
    case 'binary':
      if (value !== '0' && value !== '1') fail(lineNo, `${key} must be 0 or 1, got ${show(value)}`);
      break;
    case 'guid':
      if (!GUID_RE.test(value)) fail(lineNo, `guid must be 8-4-4-4-12 hex digits, got ${show(value)}`);
      break;
    case 'romChecksum':
      try {
        fm2ChecksumToMd5(value);
      } catch (e) {
        fail(lineNo, (e as Error).message);
      }
      break;
    case 'emuVersion':
    case 'rerecordCount':
      if (!/^\d+$/.test(value)) fail(lineNo, `${key} must be a whole number, got ${show(value)}`);
      break;
    default:
      break;
  }
}

function parseInputLine(
  line: string, lineNo: number, portTypes: [string, string], fourscore: boolean, fail: (n: number, m: string) => never,
): Fm2Frame {
  const fields = line.split('|');
  // "|c|p0|p1|p2|" splits into ['', c, p0, p1, p2, '']; the trailing fields may be missing on hand-written lines.
  const gamepads = fourscore ? 4 : 2;
  if (fields.length < 2 + gamepads) fail(lineNo, `input line needs |commands|port0|port1|...|, got ${show(line)}`);
  const cmd = fields[1];
  if (!/^\d{1,10}$/.test(cmd)) fail(lineNo, `commands must be a decimal number, got ${show(cmd)}`);
  const ports: [number, number] = [0, 0];
  for (let p = 0; p < 2; p++) {
    const field = fields[2 + p];
    const type = fourscore ? '1' : portTypes[p] || (field === '' ? '0' : '1');
    if (type === '0') {
      if (field !== '') fail(lineNo, `port${p} is declared empty (port${p} 0) but the line has ${show(field)} there`);
      continue;
    }
    if (field.length !== 8) fail(lineNo, `port${p} must be 8 characters in RLDUTSBA order, got ${show(field)}`);
    ports[p] = fm2ToMask(field);
  }
  return { commands: Number(cmd), ports };
}

/** Hex MD5 (32 digits) to FM2's romChecksum value: "base64:" + base64 of the 16 raw bytes. */
export function md5ToFm2Checksum(hex: string): string {
  if (!MD5_HEX_RE.test(hex)) throw new Error(`MD5 must be 32 hex digits, got ${show(hex)}`);
  return 'base64:' + Buffer.from(hex, 'hex').toString('base64');
}

/** FM2 romChecksum ("base64:..." or plain 32 hex digits) to lowercase hex MD5. */
export function fm2ChecksumToMd5(value: string): string {
  if (MD5_HEX_RE.test(value)) return value.toLowerCase();
  const m = /^base64:([A-Za-z0-9+/]{22}==)$/.exec(value);
  if (!m) throw new Error(`romChecksum must be "base64:" followed by the base64 of a 16-byte MD5, got ${show(value)}`);
  return Buffer.from(m[1], 'base64').toString('hex');
}

export interface Fm2WriteOptions {
  /** ROM name as FCEUX shows it (usually the file name without extension). */
  romFilename: string;
  /** MD5 of the ROM's PRG + CHR as FCEUX hashes them (RomInfo.md5NoHeader): what FCEUX checks on replay. */
  romMd5NoHeaderHex: string;
  /** 8-4-4-4-12 hex; a random one when omitted. */
  guid?: string;
  /** Input for frames 0, 1, 2, ...: either a button pair or a full frame with commands. */
  frames: ReadonlyArray<Fm2Frame | ButtonPair>;
  /** Comment lines, e.g. "author lockstep"; each becomes `comment <text>`. */
  comment?: string | readonly string[];
  /** Whether controller 2 is plugged in (default true). */
  port1?: boolean;
}

/** An FM2 movie FCEUX 2.6 replays with --playmov. */
export function writeFm2(o: Fm2WriteOptions): string {
  if (typeof o.romFilename !== 'string' || /[\r\n]/.test(o.romFilename)) throw new Error(`romFilename must be one line of text, got ${show(o.romFilename)}`);
  const guid = o.guid ?? randomUUID().toUpperCase();
  if (!GUID_RE.test(guid)) throw new Error(`guid must be 8-4-4-4-12 hex digits, got ${show(guid)}`);
  const port1 = o.port1 ?? true;
  const comments = o.comment === undefined ? [] : typeof o.comment === 'string' ? o.comment.split(/\r?\n/) : [...o.comment];
  for (const c of comments) if (/[\r\n]/.test(c)) throw new Error(`comment must be one line of text, got ${show(c)}`);

  const out = [
    'version 3',
    'emuVersion 20605',
    'rerecordCount 0',
    'palFlag 0',
    `romFilename ${o.romFilename}`,
    `romChecksum ${md5ToFm2Checksum(o.romMd5NoHeaderHex)}`,
    `guid ${guid}`,
    'fourscore 0',
    'port0 1',
    `port1 ${port1 ? 1 : 0}`,
    'port2 0',
    ...comments.map((c) => `comment ${c}`),
  ];
  o.frames.forEach((f, i) => {
    const { commands, ports } = isButtonPair(f) ? { commands: 0, ports: f } : f;
    if (!Number.isInteger(commands) || commands < 0) throw new Error(`frame ${i}: commands must be a non-negative integer, got ${commands}`);
    for (let p = 0; p < 2; p++) {
      const m = ports[p];
      if (!Number.isInteger(m) || m < 0 || m > 0xff) throw new Error(`frame ${i}: controller ${p + 1} mask must be 0..255, got ${m}`);
    }
    if (!port1 && ports[1] !== 0) throw new Error(`frame ${i}: controller 2 has buttons pressed but port1 is off`);
    out.push(`|${commands}|${maskToFm2(ports[0])}|${port1 ? maskToFm2(ports[1]) : ''}||`);
  });
  return out.join('\n') + '\n';
}

function isButtonPair(f: Fm2Frame | ButtonPair): f is ButtonPair {
  return Array.isArray(f);
}

function show(v: unknown): string {
  // JSON escapes C0 controls but not DEL, C1 controls or line separators, which would reach logs and terminals raw.
  const s = (JSON.stringify(v) ?? String(v)).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return s.length > 60 ? s.slice(0, 59) + '…' : s;
}

/**
 * FM2 line (0-based) that carries the input for Lockstep frame id `frame`: line i is read while FCEUX's
 * emu.framecount() goes from i to i+1. The embedded emulator numbers frames the same way (its first frame has no
 * vblank, like FCEUX's "PPU dead" frames), so the line is the frame id on either emulator; the emulator is kept in the
 * signature for movies whose frame ids an emulator counts differently.
 */
export function fm2LineForFrame(_kind: EmulatorKind, frame: number): number {
  return frame;
}
