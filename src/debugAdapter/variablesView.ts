// The Variables view of a stopped session: scopes Game (RAM map + raw RAM), CPU (registers + PRG-RAM), Sync, Buffer, Agents and Metrics, built lazily per stop.
import { Handles } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { FrameMemory } from '../core/frameMemory';
import type { FrameRow } from '../core/runtime/rows';
import type { RamVariable } from '../core/config/ramMap';
import { maskToNames } from '../core/buttons';
import type { BuiltSession } from '../session/sessionBuilder';
import { evaluateNameOf } from './stateScope';
import { hexAddress } from './breakpoints';
import { NAMETABLES_SIZE, NAMETABLES_START, OAM_SIZE, PALETTE_SIZE, PALETTE_START, PRG_RAM_SIZE, PRG_RAM_START, WORK_RAM_SIZE } from '../core/nes';
import type { MachineDetail } from '../core/ports';
import { ON_TIMEOUT_MEANING, onTimeoutOf } from './consoleCommand';

export const RAM_MEMORY_REFERENCE = 'ram';
const ROW_BYTES = 16;

/** `ram` is all of work RAM; `ram@0x0018` starts at that address (what a variable's "View Binary Data" opens). */
export function memoryReferenceFor(address: number): string {
  return address === 0 ? RAM_MEMORY_REFERENCE : `${RAM_MEMORY_REFERENCE}@0x${address.toString(16).padStart(4, '0')}`;
}

/** The base address a memory reference stands for, or undefined when it is not one of ours. */
export function parseMemoryReference(ref: string): number | undefined {
  if (ref === RAM_MEMORY_REFERENCE) return 0;
  const m = /^ram@0x([0-9a-f]{1,4})$/i.exec(ref);
  if (!m) return undefined;
  const a = parseInt(m[1], 16);
  return a < WORK_RAM_SIZE ? a : undefined;
}

/** Memory read on demand (MachineDetail), not carried by every frame: each is a memory reference of its own. */
export interface DetailRegion {
  /** The memory reference: `prgram` is the whole region, `prgram@0x6010` starts at an address. */
  reference: string;
  /** Address of its first byte (CPU for PRG-RAM, PPU for nametables and palette). */
  start: number;
  size: number;
  /** Variable name in the Variables view. */
  name: string;
  label: string;
  /** Undefined when this emulator cannot read the region (then `missing` says why). */
  bytes(d: MachineDetail): Uint8Array | undefined;
  missing?: string;
}

export const PRG_RAM_REGION: DetailRegion = {
  reference: 'prgram', start: PRG_RAM_START, size: PRG_RAM_SIZE, name: 'prgRam',
  label: `8 KB PRG-RAM ${hexAddress(PRG_RAM_START)}-${hexAddress(PRG_RAM_START + PRG_RAM_SIZE - 1)}`, bytes: (d) => d.prgRam,
};
export const NAMETABLES_REGION: DetailRegion = {
  reference: 'nametables', start: NAMETABLES_START, size: NAMETABLES_SIZE, name: 'nametables',
  label: `PPU ${hexAddress(NAMETABLES_START)}-${hexAddress(NAMETABLES_START + NAMETABLES_SIZE - 1)} (4 nametables, mirroring applied)`, bytes: (d) => d.nametables,
};
export const PALETTE_REGION: DetailRegion = {
  reference: 'palette', start: PALETTE_START, size: PALETTE_SIZE, name: 'palette',
  label: `PPU ${hexAddress(PALETTE_START)}-${hexAddress(PALETTE_START + PALETTE_SIZE - 1)} (colour indices)`, bytes: (d) => d.palette,
};
/** Why OAM is missing on FCEUX: said in the Variables view and by readMemory, never replaced by made-up bytes. */
export const OAM_UNAVAILABLE = 'OAM (sprite RAM) cannot be read from FCEUX: its Lua API (2.6.5) reads CPU memory (memory.*) and PPU memory (ppu.*), and OAM is in neither; use "emulator": "embedded" to see it';
export const OAM_REGION: DetailRegion = {
  reference: 'oam', start: 0, size: OAM_SIZE, name: 'oam',
  label: 'OAM, 256 bytes: 64 sprites of y, tile, attributes, x', bytes: (d) => d.oam, missing: OAM_UNAVAILABLE,
};
export const DETAIL_REGIONS: readonly DetailRegion[] = [PRG_RAM_REGION, NAMETABLES_REGION, PALETTE_REGION, OAM_REGION];

export function regionReferenceFor(region: DetailRegion, address: number): string {
  return address === region.start ? region.reference : `${region.reference}@0x${address.toString(16).padStart(4, '0')}`;
}

/** The region and start address a memory reference names, or undefined when it names none of them. */
export function parseRegionReference(ref: string): { region: DetailRegion; address: number } | undefined {
  const m = /^([a-z]+)(?:@0x([0-9a-f]{1,4}))?$/i.exec(ref);
  const region = m && DETAIL_REGIONS.find((r) => r.reference === m[1]);
  if (!m || !region) return undefined;
  const address = m[2] === undefined ? region.start : parseInt(m[2], 16);
  return address >= region.start && address < region.start + region.size ? { region, address } : undefined;
}

/** The status register as its flag letters, upper case when set: `NV-BdIzC`-style, bits 7 to 0. */
export function describeFlags(p: number): string {
  return 'NV-BDIZC'
    .split('')
    .map((c, i) => (c === '-' ? '-' : (p >> (7 - i)) & 1 ? c : c.toLowerCase()))
    .join('');
}

export interface ViewSource {
  built: BuiltSession;
  lastRow(): FrameRow | undefined;
  agentLabels: readonly [string, string];
  pauseUntilAction(): boolean;
  stepBackDepth: number;
  framesRun(): number;
}

type Provider = (start?: number, count?: number) => DebugProtocol.Variable[];

export class VariablesView {
  private handles = new Handles<Provider>();
  private gameRef = 0;
  /** Registers and PRG-RAM of the held frame: one emulator request per stop, made only when a view asks. */
  private detail?: Promise<MachineDetail>;

  constructor(private readonly src: ViewSource) {}

  /** Forgets every reference handed out (VS Code asks again after each stop). */
  reset(): void {
    this.handles = new Handles<Provider>();
    this.gameRef = 0;
    this.detail = undefined;
  }

  /**
   * The held frame's registers and PRG-RAM, asked of the emulator once until the next reset(); undefined when the
   * emulator cannot tell. A failed request is forgotten so the next view asks again.
   */
  machineDetail(): Promise<MachineDetail> | undefined {
    const emulator = this.src.built.emulator;
    if (!emulator.inspect) return undefined;
    if (!this.detail) {
      const p = emulator.inspect();
      this.detail = p;
      p.catch(() => {
        if (this.detail === p) this.detail = undefined;
      });
    }
    return this.detail;
  }

  /** The scopes; `detail` (from machineDetail()) adds the CPU scope. */
  scopes(detail?: MachineDetail): DebugProtocol.Scope[] {
    this.gameRef = this.handles.create(() => this.game());
    const mapSize = this.src.built.ramMap.variables.length;
    const cpu: DebugProtocol.Scope[] = detail
      ? [
        { name: 'CPU', variablesReference: this.handles.create(() => this.cpu(detail)), namedVariables: 7, expensive: false, presentationHint: 'registers' },
        { name: 'PPU', variablesReference: this.handles.create(() => [NAMETABLES_REGION, PALETTE_REGION, OAM_REGION].map((r) => this.regionVariable(r, detail))), namedVariables: 3, expensive: false },
      ]
      : [];
    return [
      { name: 'Game', variablesReference: this.gameRef, namedVariables: mapSize + 1, expensive: false, presentationHint: 'locals' },
      ...cpu,
      { name: 'Sync', variablesReference: this.handles.create(() => this.sync()), expensive: false },
      { name: 'Buffer', variablesReference: this.handles.create(() => this.buffer()), expensive: false },
      { name: 'Agents', variablesReference: this.handles.create(() => this.agents()), expensive: false },
      { name: 'Metrics', variablesReference: this.handles.create(() => this.metrics()), expensive: false },
    ];
  }

  /**
   * The stopped frame as a text page: the editor VS Code opens on every stop (a ROM has no source lines to show, and a
   * stack frame without a source would leave the Variables view empty until the frame is clicked).
   */
  frameSheet(title: string, stopReason: string): string {
    const section = (name: string, vars: DebugProtocol.Variable[]) =>
      [`## ${name}`, ...vars.filter((v) => v.variablesReference === 0 || v.value !== '').map((v) => `  ${v.name} = ${v.value}`), ''];
    return [
      `# ${title}`,
      `stopped: ${stopReason}`,
      '',
      ...section('Game (RAM map)', this.game().filter((v) => v.name !== 'ram')),
      ...section('Sync', this.sync()),
      ...section('Agents', this.agents()),
      'Step Frame (Ctrl+Alt+. / Cmd+Alt+.) runs one frame; the Variables view, the memory view and the Lockstep panels show more.',
      '',
    ].join('\n');
  }

  variables(ref: number, start?: number, count?: number): DebugProtocol.Variable[] {
    const p = this.handles.get(ref);
    return p ? p(start, count) : [];
  }

  isGameScope(ref: number): boolean {
    return ref !== 0 && ref === this.gameRef;
  }

  /** A reference to the raw RAM rows (for `ram` in the console). */
  ramRef(): number {
    return this.handles.create((start, count) => this.ramRows(start, count));
  }

  /** Children of an arbitrary value (an object's fields), for the console. */
  objectRef(value: Record<string, unknown>): number {
    return this.handles.create(() => this.objectVars(value));
  }

  describeRamVariable(v: RamVariable, memory: Uint8Array | FrameMemory): DebugProtocol.Variable {
    const value = this.src.built.ramMap.value(v.name, memory);
    return {
      name: v.name,
      value: formatNumber(value, v.size),
      type: `${v.signed ? 's' : 'u'}${v.size * 8} @ ${hexAddress(v.address)}`,
      evaluateName: evaluateNameOf(v.name),
      variablesReference: 0,
      memoryReference: v.address >= PRG_RAM_START ? regionReferenceFor(PRG_RAM_REGION, v.address) : memoryReferenceFor(v.address),
      presentationHint: v.meaning ? { kind: 'data', attributes: [] } : undefined,
    };
  }

  private ram(): Uint8Array {
    return this.src.built.runtime.current?.ram ?? new Uint8Array(WORK_RAM_SIZE);
  }

  private game(): DebugProtocol.Variable[] {
    const memory = this.src.built.runtime.current ?? { ram: this.ram() };
    const out = this.src.built.ramMap.variables.map((v) => {
      try {
        return this.describeRamVariable(v, memory);
      } catch (e) {
        // A frame without the PRG-RAM a variable lives in: say so on that line, keep the others.
        return leaf(v.name, `unavailable: ${(e as Error).message}`);
      }
    });
    out.push({
      name: 'ram',
      value: `2 KB work RAM ${hexAddress(0)}-${hexAddress(WORK_RAM_SIZE - 1)}`,
      variablesReference: this.ramRef(),
      indexedVariables: WORK_RAM_SIZE / ROW_BYTES,
      memoryReference: RAM_MEMORY_REFERENCE,
      evaluateName: 'ram',
      presentationHint: { kind: 'data', attributes: ['readOnly'] },
    });
    return out;
  }

  private ramRows(start?: number, count?: number): DebugProtocol.Variable[] {
    return this.rows(this.ram(), 0, memoryReferenceFor, start, count);
  }

  private cpu(d: MachineDetail): DebugProtocol.Variable[] {
    const r = d.registers;
    const byte = (v: number) => `0x${v.toString(16).toUpperCase().padStart(2, '0')} (${v})`;
    return [
      leaf('A', byte(r.a)),
      leaf('X', byte(r.x)),
      leaf('Y', byte(r.y)),
      leaf('P', `0x${r.p.toString(16).toUpperCase().padStart(2, '0')} ${describeFlags(r.p)}`),
      leaf('SP', `0x${r.sp.toString(16).toUpperCase().padStart(2, '0')} (stack at ${hexAddress(0x100 + r.sp)})`),
      leaf('PC', hexAddress(r.pc)),
      this.regionVariable(PRG_RAM_REGION, d),
    ];
  }

  private regionVariable(region: DetailRegion, d: MachineDetail): DebugProtocol.Variable {
    const bytes = region.bytes(d);
    if (!bytes) return { name: region.name, value: `unavailable: ${region.missing ?? 'this emulator cannot read it'}`, variablesReference: 0, presentationHint: { kind: 'data', attributes: ['readOnly'] } };
    return {
      name: region.name,
      value: region.label,
      variablesReference: this.handles.create((start, count) => this.rows(bytes, region.start, (a) => regionReferenceFor(region, a), start, count)),
      indexedVariables: Math.ceil(bytes.length / ROW_BYTES),
      memoryReference: region.reference,
      presentationHint: { kind: 'data', attributes: ['readOnly'] },
    };
  }

  private rows(bytes: Uint8Array, base: number, refFor: (a: number) => string, start = 0, count = bytes.length / ROW_BYTES): DebugProtocol.Variable[] {
    const out: DebugProtocol.Variable[] = [];
    const last = Math.min(Math.ceil(bytes.length / ROW_BYTES), start + count);
    for (let r = start; r < last; r++) {
      const o = r * ROW_BYTES;
      out.push({
        name: hexAddress(base + o),
        value: Array.from(bytes.subarray(o, o + ROW_BYTES), (b) => b.toString(16).padStart(2, '0')).join(' '),
        variablesReference: 0,
        memoryReference: refFor(base + o),
        presentationHint: { attributes: ['readOnly'] },
      });
    }
    return out;
  }

  private sync(): DebugProtocol.Variable[] {
    const { runtime, agents } = this.src.built;
    const cur = runtime.current;
    const row = this.src.lastRow();
    const gate = runtime.gateStatus;
    const quality = cur ? runtime.buffer.pair(cur.frame)?.syncQualityMs ?? null : null;
    const out: DebugProtocol.Variable[] = [
      leaf('frame', String(cur?.frame ?? '-'), 'frame'),
      leaf('episode', String(runtime.episodeIndex), 'episode'),
      leaf('step', String(runtime.stepIndex), 'step'),
    ];
    for (const p of [0, 1] as const) {
      if (!agents[p] && !row?.manual[p] && !row?.buttons[p]) continue;
      out.push(leaf(`last action c${p + 1}`, row ? describeAction(row, p) : 'none yet'));
      out.push(leaf(`latency c${p + 1}`, row?.agentLatencyMs[p] != null ? `${row.agentLatencyMs[p]!.toFixed(2)} ms` : '-'));
    }
    // Layer 2: per peer, its clock minus the bridge's from the last round's fastest ping, that round trip, and how far
    // the offset is from the reference clock_drift measures against.
    for (const c of runtime.clocks.clocks) {
      const reference = runtime.detector.clockReferenceFor(c.peer);
      out.push(leaf(`clock ${c.peer}`, c.offsetMs === null || c.rttMs === null
        ? 'not measured yet'
        : `offset ${signedMs(c.offsetMs)}, round trip ${c.rttMs.toFixed(2)} ms, drift ${reference === null ? '-' : signedMs(c.offsetMs - reference)} (${c.rounds} sync${c.rounds === 1 ? '' : 's'}, last at frame ${c.frame})`));
    }
    out.push(
      leaf('sync quality', quality === null ? 'no screen paired (no screen captured for this frame: no agent asked for one, captureScreens off)' : `${quality.toFixed(2)} ms between the state and its screen`),
      leaf('gate', gate ? `waiting for controller ${gate.waitingFor.map((w) => w + 1).join(' and ')} for frame ${gate.frame} (${Math.round(gate.sinceMs)} ms)` : 'not waiting'),
      leaf('on timeout', `${onTimeoutOf(runtime.gateMode)} (${ON_TIMEOUT_MEANING[onTimeoutOf(runtime.gateMode)]})`),
      leaf('pause until action', this.src.pauseUntilAction() ? 'on' : 'off'),
      leaf('step back', runtime.sessionHistory
        ? `${runtime.historyDepth} frame(s) back to the oldest reachable (whole session, ${runtime.sessionHistory.episodes.length} episode(s))${runtime.replayingPast ? '; in a finished episode: going forward replays it' : ''}`
        : `${runtime.historyDepth} of ${this.src.stepBackDepth} frames kept`),
      leaf('desyncs', String(runtime.detector.total())),
      leaf('frames run', String(this.src.framesRun())),
    );
    return out;
  }

  private buffer(): DebugProtocol.Variable[] {
    const { runtime } = this.src.built;
    const states = runtime.buffer.states().reverse();
    const out: DebugProtocol.Variable[] = [leaf('capacity', `${runtime.buffer.size} states, ${runtime.buffer.screenCount} screens of ${runtime.buffer.capacity}`)];
    for (const s of states) {
      const flags = [s.state.lag ? 'lag' : '', s.speculative ? 'speculative' : '', s.desync?.length ? `desync: ${s.desync.join(', ')}` : ''].filter(Boolean);
      const fields: Record<string, unknown> = {
        episode: s.episode ?? null,
        timestamp: new Date(s.timestamp).toISOString(),
        lag: s.state.lag,
        desync: s.desync?.join(', ') ?? 'none',
        ...s.state.vars,
      };
      out.push({
        name: `frame ${s.frame}`,
        value: `episode ${s.episode ?? '-'}${flags.length ? ` (${flags.join('; ')})` : ''}`,
        variablesReference: this.objectRef(fields),
      });
    }
    return out;
  }

  private agents(): DebugProtocol.Variable[] {
    const { agents } = this.src.built;
    const row = this.src.lastRow();
    const out: DebugProtocol.Variable[] = [];
    for (const p of [0, 1] as const) {
      const a = agents[p];
      const fields: Record<string, unknown> = {
        spec: this.src.agentLabels[p],
        name: a?.name ?? 'none (released)',
        wantsScreen: a?.wantsScreen ?? false,
        lastButtons: row ? describeAction(row, p) : 'none yet',
        latencyMs: row?.agentLatencyMs[p] ?? null,
      };
      const extra = a as { connected?: boolean; clockOffsetMs?: number | null } | undefined;
      if (extra && typeof extra.connected === 'boolean') fields.connected = extra.connected;
      if (extra && extra.clockOffsetMs !== undefined) fields.clockOffsetMs = extra.clockOffsetMs;
      out.push({ name: `controller ${p + 1}`, value: a ? a.name : 'none', variablesReference: this.objectRef(fields) });
    }
    return out;
  }

  private metrics(): DebugProtocol.Variable[] {
    return this.objectVars(this.src.built.runtime.metrics.snapshot() as unknown as Record<string, unknown>);
  }

  private objectVars(o: Record<string, unknown>): DebugProtocol.Variable[] {
    return Object.entries(o).map(([k, v]) => {
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const inner = v as Record<string, unknown>;
        return { name: k, value: summarize(inner), variablesReference: this.objectRef(inner) };
      }
      return leaf(k, typeof v === 'number' ? formatPlain(v) : v === null ? '-' : Array.isArray(v) ? JSON.stringify(v) : String(v));
    });
  }
}

function leaf(name: string, value: string, evaluateName?: string): DebugProtocol.Variable {
  return { name, value, variablesReference: 0, evaluateName, presentationHint: { attributes: ['readOnly'] } };
}

function describeAction(row: FrameRow, p: 0 | 1): string {
  const names = maskToNames(row.buttons[p]);
  const source = row.manual[p] ? 'by hand' : row.held[p] ? 'held (late agent)' : 'agent';
  return `${names.length ? names.join(' ') : 'none'} (0x${row.buttons[p].toString(16).padStart(2, '0')}, ${source}, frame ${row.frame})`;
}

/** `64 (0x40)`; negative values show their byte pattern too. */
export function formatNumber(value: number, size: 1 | 2): string {
  const bits = size * 8;
  const raw = value < 0 ? value + 2 ** bits : value;
  return `${value} (0x${raw.toString(16).toUpperCase().padStart(size * 2, '0')})`;
}

function formatPlain(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

function summarize(o: Record<string, unknown>): string {
  const parts = Object.entries(o).slice(0, 4).map(([k, v]) => `${k}: ${typeof v === 'number' ? formatPlain(v) : typeof v === 'object' ? '…' : String(v)}`);
  return `{${parts.join(', ')}${Object.keys(o).length > 4 ? ', …' : ''}}`;
}

function signedMs(ms: number): string {
  return `${ms >= 0 ? '+' : ''}${ms.toFixed(2)} ms`;
}

/** The bytes that store `value` in a RAM-map variable (little-endian); throws when it does not fit the variable's width. */
export function encodeRamVariable(v: RamVariable, value: number): Uint8Array {
  const lo = v.signed ? -(2 ** (v.size * 8 - 1)) : 0;
  const hi = v.signed ? 2 ** (v.size * 8 - 1) - 1 : 2 ** (v.size * 8) - 1;
  // Accept either reading of a byte (e.g. 200 or -56 for a signed byte) as long as it fits the width.
  if (!Number.isInteger(value) || value < Math.min(lo, -(2 ** (v.size * 8 - 1))) || value > Math.max(hi, 2 ** (v.size * 8) - 1)) {
    throw new Error(`${v.name} is ${v.signed ? 'signed' : 'unsigned'} ${v.size * 8}-bit: ${value} does not fit (${lo}..${hi})`);
  }
  const raw = value < 0 ? value + 2 ** (v.size * 8) : value;
  const bytes = v.size === 1 ? Uint8Array.of(raw & 0xff) : Uint8Array.of(raw & 0xff, (raw >> 8) & 0xff);
  return bytes;
}
