// RAM maps: named variables in NES work RAM or cartridge PRG-RAM, the per-player reward and the done flag, loaded from a game's .rammap.json.
import { asFrameMemory, byteAt, memoryArea, type FrameMemory } from '../frameMemory';
import { WORK_RAM_SIZE } from '../nes';
import type { EmulatorKind } from '../ports';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

export interface RamVariable {
  name: string;
  address: number;
  /** Bytes, little-endian. */
  size: 1 | 2;
  signed: boolean;
  meaning?: string;
}

/** reward(player) = sum over terms of scale x (value after - value before). */
export interface RewardTerm {
  player: 0 | 1;
  variable: string;
  scale: number;
}

export interface DoneCondition {
  variable: string;
  equals: number;
}

export interface RamMapData {
  name: string;
  variables: readonly RamVariable[];
  reward: readonly RewardTerm[];
  /** The episode is done when any condition holds; empty = never. */
  done: readonly DoneCondition[];
  /**
   * Frames run with no input after power-on before episode 0 starts (the game's boot, while RAM is still uninitialised);
   * optionally per emulator (both emulators number frames alike, so one number fits both unless a game boots differently).
   */
  warmupFrames?: number | Partial<Record<EmulatorKind, number>>;
}

export class RamMap {
  readonly name: string;
  readonly variables: readonly RamVariable[];
  readonly rewardTerms: readonly RewardTerm[];
  readonly doneConditions: readonly DoneCondition[];
  private readonly warmup: number | Partial<Record<EmulatorKind, number>>;
  /** Variable names in observation order. */
  readonly names: readonly string[];
  private readonly byName: ReadonlyMap<string, RamVariable>;
  /** The reward terms and done conditions with their variables looked up once: reward and isDone run every frame. */
  private readonly rewardRefs: ReadonlyArray<{ player: number; scale: number; v: RamVariable }>;
  private readonly doneRefs: ReadonlyArray<{ v: RamVariable; equals: number }>;
  /** Bytes a RAM copy must have for every work-RAM variable to be readable. */
  private readonly needed: number;
  /** Whether a variable lives in PRG-RAM: then every frame must carry PRG-RAM (FrameMemory.prgRam). */
  readonly needsPrgRam: boolean;

  constructor(data: RamMapData) {
    this.warmup = data.warmupFrames ?? 0;
    const byName = new Map<string, RamVariable>();
    for (const v of data.variables) {
      if (byName.has(v.name)) throw new Error(`RAM map ${data.name}: duplicate variable name "${v.name}"`);
      if (!memoryArea(v.address, v.size)) {
        throw new Error(`RAM map ${data.name}: variable ${v.name} at ${hex(v.address)} (size ${v.size}) is outside work RAM $0000-$07FF and PRG-RAM $6000-$7FFF`);
      }
      byName.set(v.name, v);
    }
    for (const t of data.reward) {
      if (!byName.has(t.variable)) throw new Error(`RAM map ${data.name}: reward refers to unknown variable "${t.variable}"`);
    }
    for (const d of data.done) {
      if (!byName.has(d.variable)) throw new Error(`RAM map ${data.name}: done refers to unknown variable "${d.variable}"`);
    }
    this.name = data.name;
    this.variables = data.variables.map((v) => ({ ...v }));
    this.rewardTerms = data.reward.map((t) => ({ ...t }));
    this.doneConditions = data.done.map((d) => ({ ...d }));
    this.names = this.variables.map((v) => v.name);
    this.byName = new Map(this.variables.map((v) => [v.name, v]));
    this.rewardRefs = this.rewardTerms.map((t) => ({ player: t.player, scale: t.scale, v: this.byName.get(t.variable)! }));
    this.doneRefs = this.doneConditions.map((d) => ({ v: this.byName.get(d.variable)!, equals: d.equals }));
    this.needed = this.variables.reduce((m, v) => (v.address < WORK_RAM_SIZE ? Math.max(m, v.address + v.size) : m), 0);
    this.needsPrgRam = this.variables.some((v) => memoryArea(v.address, v.size) === 'prgRam');
  }

  /** Every variable's value, in observation order. */
  read(memory: Uint8Array | FrameMemory): Record<string, number> {
    const m = this.checked(memory);
    const out: Record<string, number> = {};
    for (const v of this.variables) out[v.name] = this.valueOf(v, m);
    return out;
  }

  /** One variable's value; throws for an unknown name. */
  value(name: string, memory: Uint8Array | FrameMemory): number {
    const v = this.byName.get(name);
    if (!v) throw new Error(`RAM map ${this.name} has no variable "${name}"`);
    return this.valueOf(v, this.checked(memory));
  }

  /** Reward a player earned across one frame: sum of scale x delta of its reward variables (0 when none). */
  reward(player: number, before: Uint8Array | FrameMemory, after: Uint8Array | FrameMemory): number {
    let total = 0;
    let a: FrameMemory | undefined;
    let b: FrameMemory | undefined;
    for (const t of this.rewardRefs) {
      if (t.player !== player) continue;
      a ??= this.checked(after);
      b ??= this.checked(before);
      total += t.scale * (this.valueOf(t.v, a) - this.valueOf(t.v, b));
    }
    return total;
  }

  /** Boot frames to run before episode 0 on this emulator. */
  warmupFramesFor(emulator: EmulatorKind): number {
    return typeof this.warmup === 'number' ? this.warmup : (this.warmup[emulator] ?? 0);
  }

  isDone(memory: Uint8Array | FrameMemory): boolean {
    if (this.doneRefs.length === 0) return false;
    const m = this.checked(memory);
    for (const d of this.doneRefs) {
      if (this.valueOf(d.v, m) === d.equals) return true;
    }
    return false;
  }

  /** A variable by name, or the variable covering an address (a number, or "0x10" / "$10" text). */
  lookup(nameOrAddress: string | number): RamVariable | undefined {
    if (typeof nameOrAddress === 'string') {
      const byName = this.byName.get(nameOrAddress);
      if (byName) return byName;
      const address = parseAddressText(nameOrAddress);
      return address === undefined ? undefined : this.covering(address);
    }
    return this.covering(nameOrAddress);
  }

  /** Name of the variable covering an address, for labelling memory views. */
  nameOf(address: number): string | undefined {
    return this.covering(address)?.name;
  }

  /** The work-RAM ranges the map reads, merged, as [start, length] pairs (what an emulator must send per frame). */
  ramRanges(): Array<[number, number]> {
    const spans = this.variables.filter((v) => v.address < WORK_RAM_SIZE).map((v) => [v.address, v.address + v.size] as [number, number]).sort((a, b) => a[0] - b[0]);
    const out: Array<[number, number]> = [];
    for (const [s, e] of spans) {
      const last = out[out.length - 1];
      if (last && s <= last[0] + last[1]) last[1] = Math.max(last[1], e - last[0]);
      else out.push([s, e - s]);
    }
    return out;
  }

  private covering(address: number): RamVariable | undefined {
    return this.variables.find((v) => address >= v.address && address < v.address + v.size);
  }

  private checked(memory: Uint8Array | FrameMemory): FrameMemory {
    const m = asFrameMemory(memory);
    if (m.ram.length < this.needed) {
      throw new Error(`RAM map ${this.name} needs ${this.needed} bytes of RAM, got ${m.ram.length}`);
    }
    return m;
  }

  private valueOf(v: RamVariable, m: FrameMemory): number {
    if (v.address >= WORK_RAM_SIZE && !m.prgRam) {
      throw new Error(`RAM map ${this.name}: ${v.name} is in PRG-RAM (${hex(v.address)}) and this frame carries none`);
    }
    const lo = byteAt(m, v.address)!;
    if (v.size === 1) return v.signed && lo >= 0x80 ? lo - 0x100 : lo;
    const w = lo | (byteAt(m, v.address + 1)! << 8);
    return v.signed && w >= 0x8000 ? w - 0x10000 : w;
  }
}

/** The smallest and largest value a variable can read as (its size and sign): observation-space bounds for trainers. */
export function variableRange(v: RamVariable): [number, number] {
  const span = v.size === 1 ? 0x100 : 0x10000;
  return v.signed ? [-span / 2, span / 2 - 1] : [0, span - 1];
}

function hex(n: number): string {
  return '$' + n.toString(16).toUpperCase().padStart(4, '0');
}

function parseAddressText(s: string): number | undefined {
  const m = /^(?:0x|\$)([0-9a-f]{1,4})$/i.exec(s.trim());
  return m ? parseInt(m[1], 16) : undefined;
}

/** A map with no variables, no reward and no done flag, for ROMs that have none. */
export function emptyRamMap(name = 'none'): RamMap {
  return new RamMap({ name, variables: [], reward: [], done: [] });
}

/** Parses a .rammap.json text; every error names the file and the field (e.g. `variables[3].address`). */
export function parseRamMap(text: string, fileName: string): RamMap {
  const fail = (msg: string): never => {
    // Keys, values and JSON.parse's message quote the file: keep control characters out of logs and terminals.
    // eslint-disable-next-line no-control-regex -- escaping control characters is the point
    throw new Error(`${fileName}: ${msg}`.replace(/[\u0000-\u001f\u007f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')));
  };
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    fail(`invalid JSON: ${jsonErrorWithLine(e as Error, text)}`);
  }
  if (!isPlainObject(root)) return fail(`must be a JSON object with "variables", got ${show(root)}`);
  allowOnly(root, '', ['name', 'description', 'comment', 'rom', '$schema', 'variables', 'reward', 'done', 'warmupFrames'], fail);
  const frameCount = (v: unknown, at: string) => {
    if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > 100000) fail(`${at} must be an integer from 0 to 100000, got ${show(v)}`);
    return v as number;
  };
  const rawWarmup = root.warmupFrames ?? 0;
  let warmupFrames: number | Partial<Record<EmulatorKind, number>>;
  if (isPlainObject(rawWarmup)) {
    allowOnly(rawWarmup, 'warmupFrames.', ['embedded', 'fceux'], fail);
    warmupFrames = {};
    for (const k of ['embedded', 'fceux'] as const) if (rawWarmup[k] !== undefined) warmupFrames[k] = frameCount(rawWarmup[k], `warmupFrames.${k}`);
  } else {
    warmupFrames = frameCount(rawWarmup, 'warmupFrames');
  }

  const name = root.name === undefined ? baseName(fileName) : root.name;
  if (typeof name !== 'string' || name === '') fail(`name must be a non-empty string, got ${show(name)}`);

  if (!Array.isArray(root.variables)) fail(`variables must be an array, got ${show(root.variables)}`);
  const seen = new Map<string, number>();
  const variables = (root.variables as unknown[]).map((raw, i): RamVariable => {
    const at = `variables[${i}]`;
    if (!isPlainObject(raw)) return fail(`${at} must be an object, got ${show(raw)}`);
    allowOnly(raw, at + '.', ['name', 'address', 'size', 'signed', 'meaning', 'description'], fail);
    const vname = raw.name;
    if (typeof vname !== 'string' || !NAME_RE.test(vname)) {
      fail(`${at}.name must be a name of letters, digits, _ and . (not starting with a digit), got ${show(vname)}`);
    }
    const earlier = seen.get(vname as string);
    if (earlier !== undefined) fail(`${at}.name "${vname}" duplicates variables[${earlier}].name`);
    seen.set(vname as string, i);
    const size = raw.size === undefined ? 1 : raw.size;
    if (size !== 1 && size !== 2) fail(`${at}.size must be 1 or 2, got ${show(size)}`);
    const address = parseAddress(raw.address);
    if (address === undefined || !memoryArea(address, size as number)) {
      const top = (end: number) => (end - (size as number)).toString(16).toUpperCase().padStart(4, '0');
      fail(`${at}.address must be a number or "0x..." hex string in work RAM 0x0000..0x${top(WORK_RAM_SIZE)} or PRG-RAM 0x6000..0x${top(0x8000)} (size ${size}), got ${show(raw.address)}`);
    }
    const signed = raw.signed === undefined ? false : raw.signed;
    if (typeof signed !== 'boolean') fail(`${at}.signed must be true or false, got ${show(signed)}`);
    const v: RamVariable = { name: vname as string, address: address!, size: size as 1 | 2, signed: signed as boolean };
    const meaning = raw.meaning ?? raw.description;
    if (meaning !== undefined) {
      if (typeof meaning !== 'string') fail(`${at}.meaning must be a string, got ${show(meaning)}`);
      v.meaning = meaning as string;
    }
    return v;
  });
  const known = (field: string, variable: unknown) => {
    if (typeof variable !== 'string') fail(`${field} must be a variable name, got ${show(variable)}`);
    if (!seen.has(variable as string)) fail(`${field} refers to unknown variable "${variable}" (known: ${[...seen.keys()].join(', ') || 'none'})`);
    return variable as string;
  };

  const rewardRaw = root.reward ?? [];
  if (!Array.isArray(rewardRaw)) fail(`reward must be an array, got ${show(rewardRaw)}`);
  const reward = (rewardRaw as unknown[]).map((raw, i): RewardTerm => {
    const at = `reward[${i}]`;
    if (!isPlainObject(raw)) return fail(`${at} must be an object, got ${show(raw)}`);
    allowOnly(raw, at + '.', ['player', 'variable', 'scale'], fail);
    const player = raw.player === undefined ? 0 : raw.player;
    if (player !== 0 && player !== 1) fail(`${at}.player must be 0 or 1, got ${show(player)}`);
    const variable = known(`${at}.variable`, raw.variable);
    const scale = raw.scale === undefined ? 1 : raw.scale;
    if (typeof scale !== 'number' || !Number.isFinite(scale)) fail(`${at}.scale must be a finite number, got ${show(scale)}`);
    return { player: player as 0 | 1, variable, scale: scale as number };
  });

  const doneRaw = root.done === undefined || root.done === null ? [] : Array.isArray(root.done) ? root.done : [root.done];
  const single = !Array.isArray(root.done);
  const done = (doneRaw as unknown[]).map((raw, i): DoneCondition => {
    const at = single ? 'done' : `done[${i}]`;
    if (!isPlainObject(raw)) return fail(`${at} must be an object {variable, equals}, got ${show(raw)}`);
    allowOnly(raw, at + '.', ['variable', 'equals'], fail);
    const variable = known(`${at}.variable`, raw.variable);
    const equals = raw.equals;
    if (typeof equals !== 'number' || !Number.isInteger(equals)) fail(`${at}.equals must be an integer, got ${show(equals)}`);
    return { variable, equals: equals as number };
  });

  return new RamMap({ name: name as string, variables, reward, done, warmupFrames });
}

function parseAddress(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'string') {
    const m = /^0x([0-9a-f]{1,4})$/i.exec(v);
    return m ? parseInt(m[1], 16) : undefined;
  }
  return undefined;
}

function allowOnly(obj: Record<string, unknown>, prefix: string, allowed: readonly string[], fail: (m: string) => never): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(`unknown field ${prefix}${k} (allowed: ${allowed.join(', ')})`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  let s: string;
  try {
    s = v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
  } catch {
    // Nested deeper than JSON.stringify's stack allows (JSON.parse has no such limit).
    s = Array.isArray(v) ? 'a deeply nested array' : 'a deeply nested object';
  }
  return s.length > 40 ? s.slice(0, 39) + '…' : s;
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop()!.replace(/\.rammap\.json$|\.json$/i, '') || file;
}

/** JSON.parse reports a character position; a line number is what a person can use. */
function jsonErrorWithLine(e: Error, text: string): string {
  const m = /position (\d+)/.exec(e.message);
  if (!m) return e.message;
  const pos = Number(m[1]);
  const line = text.slice(0, pos).split('\n').length;
  return `${e.message.replace(/\s*\(line \d+ column \d+\)/, '')} (line ${line})`;
}
