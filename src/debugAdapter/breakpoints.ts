// Lockstep's breakpoints: desync filters (exception breakpoints), frame/RAM conditions (function breakpoints) and RAM-change watches (data breakpoints).
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DESYNC_TYPES, type DesyncEvent, type DesyncType } from '../core/sync/desyncDetector';
import type { RamMap } from '../core/config/ramMap';
import { ExpressionError, parseExpression, truthy, unknownNames, type Expression, type ExpressionScope } from './expression';
import { INDEXABLE_NAMES, knownNames } from './stateScope';
import { asFrameMemory, byteAt, memoryArea, type FrameMemory } from '../core/frameMemory';


export interface DesyncFilterInfo {
  type: DesyncType;
  label: string;
  description: string;
  default: boolean;
}

export const DESYNC_FILTERS: readonly DesyncFilterInfo[] = [
  { type: 'frame_skip', label: 'Frame skip', default: true, description: 'An agent answered for a frame further ahead than maxFrameSkip allows.' },
  { type: 'minor_skip', label: 'Minor frame skip', default: false, description: 'An agent answered a frame or two ahead (within maxFrameSkip).' },
  { type: 'frame_rewind', label: 'Frame rewind', default: true, description: 'An agent answered for a frame the emulator has already passed.' },
  { type: 'timeout', label: 'Action timeout', default: false, description: 'No action arrived within frameTimeoutMs.' },
  { type: 'clock_drift', label: 'Clock drift', default: false, description: 'The agent\'s clock offset drifted beyond clockDriftThresholdMs.' },
  { type: 'episode_overrun', label: 'Episode overrun', default: true, description: 'A row was about to be recorded at or past the synced termination frame.' },
  { type: 'state_divergence', label: 'State divergence', default: true, description: 'Two fingerprints of the same frame differ (replay or second emulator).' },
];

/** The `exceptionBreakpointFilters` capability: one filter per desync type, each accepting a condition. */
export function exceptionBreakpointFilters(): DebugProtocol.ExceptionBreakpointsFilter[] {
  return DESYNC_FILTERS.map((f) => ({
    filter: f.type,
    label: f.label,
    description: f.description,
    default: f.default,
    supportsCondition: true,
    conditionDescription: 'e.g. gap > 5, delayMs > 250, controller == 2, score_p1 >= 3',
  }));
}

export type StopHit =
  | { reason: 'function breakpoint'; ids: number[]; description: string }
  | { reason: 'data breakpoint'; ids: number[]; description: string };

interface FunctionBp {
  id: number;
  expr: Expression;
  condition?: Expression;
  hit?: HitCondition;
  hits: number;
  /** Truth at the last evaluated frame: a function breakpoint stops when its expression becomes true. */
  was: boolean;
}

interface DataBp {
  id: number;
  address: number;
  length: number;
  label: string;
  condition?: Expression;
  hit?: HitCondition;
  hits: number;
}

type HitCondition = { op: '==' | '>=' | '>' | '%'; n: number };

export interface DataTarget {
  address: number;
  length: number;
  label: string;
}

/** Parses `ram:0x0018:1` data ids (the only kind this adapter hands out). */
export function parseDataId(dataId: string): DataTarget | undefined {
  const m = /^ram:0x([0-9a-f]{1,4}):(\d+)(?::(.*))?$/i.exec(dataId);
  if (!m) return undefined;
  const address = parseInt(m[1], 16);
  const length = Number(m[2]);
  if (length < 1 || !memoryArea(address, length)) return undefined;
  return { address, length, label: m[3] || hexAddress(address) };
}

export function dataIdFor(t: DataTarget): string {
  return `ram:0x${t.address.toString(16).padStart(4, '0')}:${t.length}:${t.label}`;
}

export function hexAddress(a: number): string {
  return '$' + a.toString(16).toUpperCase().padStart(4, '0');
}

export class BreakpointSet {
  private nextId = 1;
  private functionBps: FunctionBp[] = [];
  private dataBps: DataBp[] = [];
  private readonly filters = new Map<DesyncType, Expression | null>();

  constructor(private readonly ramMap: RamMap) {
    for (const f of DESYNC_FILTERS) if (f.default) this.filters.set(f.type, null);
  }

  /** Replaces the desync filters; returns one Breakpoint per filter then per filterOption, as DAP orders them. */
  setExceptionFilters(filters: readonly string[], options: readonly DebugProtocol.ExceptionFilterOptions[]): DebugProtocol.Breakpoint[] {
    this.filters.clear();
    const out: DebugProtocol.Breakpoint[] = [];
    const add = (id: string, condition: string | undefined) => {
      if (!(DESYNC_TYPES as readonly string[]).includes(id)) {
        out.push({ verified: false, message: `unknown desync filter "${id}" (known: ${DESYNC_TYPES.join(', ')})` });
        return;
      }
      const cond = condition?.trim() ? this.compile(condition, true) : null;
      if (cond && 'error' in cond) {
        out.push({ verified: false, message: cond.error });
        return;
      }
      this.filters.set(id as DesyncType, cond ? cond.expr : null);
      out.push({ verified: true });
    };
    for (const f of filters) add(f, undefined);
    for (const o of options) add(o.filterId, o.condition);
    return out;
  }

  /** Whether a desync stops the session: its filter is on and its condition (if any) holds in `scope`. */
  desyncStops(ev: DesyncEvent, scope: ExpressionScope): { stops: boolean; error?: string } {
    if (!this.filters.has(ev.type)) return { stops: false };
    const cond = this.filters.get(ev.type);
    if (!cond) return { stops: true };
    try {
      return { stops: truthy(cond.evaluate(scope)) };
    } catch (e) {
      // A condition that cannot be evaluated for this event stops, so the user sees why rather than missing the desync.
      return { stops: true, error: `condition "${cond.source}" failed: ${(e as Error).message}` };
    }
  }

  get enabledFilters(): DesyncType[] {
    return [...this.filters.keys()];
  }

  setFunctionBreakpoints(bps: readonly DebugProtocol.FunctionBreakpoint[], scope: ExpressionScope | undefined): DebugProtocol.Breakpoint[] {
    this.functionBps = [];
    return bps.map((bp) => {
      const expr = this.compile(bp.name, false);
      if ('error' in expr) return { verified: false, message: expr.error };
      const cond = bp.condition?.trim() ? this.compile(bp.condition, false) : undefined;
      if (cond && 'error' in cond) return { verified: false, message: `condition: ${cond.error}` };
      const hit = bp.hitCondition?.trim() ? parseHitCondition(bp.hitCondition) : undefined;
      if (typeof hit === 'string') return { verified: false, message: hit };
      const entry: FunctionBp = { id: this.nextId++, expr: expr.expr, condition: cond?.expr, hit, hits: 0, was: false };
      if (scope) entry.was = this.safeTruth(entry, scope);
      this.functionBps.push(entry);
      return { id: entry.id, verified: true, message: `stops when ${bp.name} becomes true` };
    });
  }

  setDataBreakpoints(bps: readonly DebugProtocol.DataBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.dataBps = [];
    return bps.map((bp) => {
      const target = parseDataId(bp.dataId);
      if (!target) return { verified: false, message: `not a Lockstep RAM data breakpoint: ${bp.dataId}` };
      if (bp.accessType && bp.accessType !== 'write') return { verified: false, message: `only "write" (value changes) can be watched, not "${bp.accessType}"` };
      const cond = bp.condition?.trim() ? this.compile(bp.condition, false) : undefined;
      if (cond && 'error' in cond) return { verified: false, message: `condition: ${cond.error}` };
      const hit = bp.hitCondition?.trim() ? parseHitCondition(bp.hitCondition) : undefined;
      if (typeof hit === 'string') return { verified: false, message: hit };
      const entry: DataBp = { id: this.nextId++, ...target, condition: cond?.expr, hit, hits: 0 };
      this.dataBps.push(entry);
      return { id: entry.id, verified: true, message: `stops when ${target.label} changes` };
    });
  }

  get hasFrameChecks(): boolean {
    return this.functionBps.length > 0 || this.dataBps.length > 0;
  }

  /**
   * Called after each frame with the RAM before and after it: data breakpoints first (a watched byte changed), then
   * function breakpoints (an expression became true). Returns the hit to stop for, if any.
   */
  checkFrame(beforeMemory: Uint8Array | FrameMemory, afterMemory: Uint8Array | FrameMemory, scope: ExpressionScope): StopHit | undefined {
    const before = asFrameMemory(beforeMemory);
    const after = asFrameMemory(afterMemory);
    const dataHits: DataBp[] = [];
    for (const bp of this.dataBps) {
      let changed = false;
      for (let i = bp.address; i < bp.address + bp.length; i++) {
        // A frame without PRG-RAM (none carried) changes nothing there.
        const a = byteAt(before, i);
        const b = byteAt(after, i);
        if (a !== undefined && b !== undefined && a !== b) {
          changed = true;
          break;
        }
      }
      if (!changed) continue;
      if (bp.condition && !this.safeEval(bp.condition, scope)) continue;
      bp.hits++;
      if (bp.hit && !hitMatches(bp.hit, bp.hits)) continue;
      dataHits.push(bp);
    }
    const fnHits: FunctionBp[] = [];
    for (const bp of this.functionBps) {
      const now = this.safeTruth(bp, scope);
      const rose = now && !bp.was;
      bp.was = now;
      if (!rose) continue;
      bp.hits++;
      if (bp.hit && !hitMatches(bp.hit, bp.hits)) continue;
      fnHits.push(bp);
    }
    if (dataHits.length > 0) {
      const what = dataHits.map((b) => `${b.label}: ${describeBytes(before, b)} -> ${describeBytes(after, b)}`).join(', ');
      return { reason: 'data breakpoint', ids: dataHits.map((b) => b.id), description: `Changed ${what}` };
    }
    if (fnHits.length > 0) {
      return { reason: 'function breakpoint', ids: fnHits.map((b) => b.id), description: `Condition became true: ${fnHits.map((b) => b.expr.source).join(', ')}` };
    }
    return undefined;
  }

  /** Re-reads every function breakpoint's truth at a state reached without running (step back, RAM write, stop). */
  rebase(scope: ExpressionScope): void {
    for (const bp of this.functionBps) bp.was = this.safeTruth(bp, scope);
  }

  /** Frame conditions checked on a state reached by stepping back (reverse continue): stops where a condition holds. */
  holdsNow(scope: ExpressionScope): number[] {
    return this.functionBps.filter((bp) => this.safeTruth(bp, scope)).map((bp) => bp.id);
  }

  private safeTruth(bp: FunctionBp, scope: ExpressionScope): boolean {
    return this.safeEval(bp.expr, scope) && (!bp.condition || this.safeEval(bp.condition, scope));
  }

  private safeEval(expr: Expression, scope: ExpressionScope): boolean {
    try {
      return truthy(expr.evaluate(scope));
    } catch {
      return false;
    }
  }

  private compile(text: string, desync: boolean): { expr: Expression } | { error: string } {
    let expr: Expression;
    try {
      expr = parseExpression(text);
    } catch (e) {
      return { error: e instanceof ExpressionError ? e.message : String(e) };
    }
    const problems = unknownNames(expr, knownNames(this.ramMap, desync), INDEXABLE_NAMES);
    if (problems.length > 0) return { error: `${problems.join('; ')}` };
    return { expr };
  }
}

function parseHitCondition(text: string): HitCondition | string {
  const m = /^\s*(==|>=|>|%)?\s*(\d+)\s*$/.exec(text);
  if (!m) return `hit count "${text}" must be N, >= N, > N or % N`;
  const n = Number(m[2]);
  if ((m[1] === '%' || !m[1]) && n === 0) return `hit count "${text}" must be at least 1`;
  return { op: (m[1] as HitCondition['op'] | undefined) ?? '==', n };
}

function hitMatches(h: HitCondition, hits: number): boolean {
  switch (h.op) {
    case '==': return hits === h.n;
    case '>=': return hits >= h.n;
    case '>': return hits > h.n;
    case '%': return hits % h.n === 0;
    default: {
      const _never: never = h.op;
      return Boolean(_never);
    }
  }
}

function describeBytes(m: FrameMemory, t: { address: number; length: number }): string {
  const bytes = Array.from({ length: t.length }, (_, i) => byteAt(m, t.address + i) ?? 0);
  if (t.length === 1) return String(bytes[0]);
  if (t.length === 2) return String(bytes[0] | (bytes[1] << 8));
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
