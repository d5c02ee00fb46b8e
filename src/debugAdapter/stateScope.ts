// What names mean in conditions and the debug console: the held frame (frame, episode, step, ram[...], RAM-map names) and, for desync breakpoints, the event's fields.
import type { DesyncEvent } from '../core/sync/desyncDetector';
import type { RamMap } from '../core/config/ramMap';
import { ExpressionError, type ExpressionScope, type Value } from './expression';
import { byteAt, memoryArea } from '../core/frameMemory';

export interface HeldState {
  frame: number;
  episode: number;
  step: number;
  ram: Uint8Array;
  /** $6000-$7FFF when the frame carries it (a RAM map names a variable there). */
  prgRam?: Uint8Array;
}

/** Names that always mean Lockstep's own counters; a RAM-map variable of the same name is reachable as `vars.NAME`. */
export const BUILTIN_NAMES = ['frame', 'episode', 'step'] as const;
export const DESYNC_FIELD_NAMES = ['type', 'expectedFrame', 'receivedFrame', 'gap', 'delayMs', 'clockOffsetMs', 'clockDriftMs', 'player', 'controller'] as const;
export const INDEXABLE_NAMES = ['ram', 'ram16'] as const;

export class StateScope implements ExpressionScope {
  constructor(
    private readonly ramMap: RamMap,
    private readonly state: HeldState,
    private readonly event?: DesyncEvent,
  ) {}

  get(name: string): Value | undefined {
    if (this.event) {
      const e = this.event;
      switch (name) {
        case 'type': return e.type;
        case 'expectedFrame': return e.expectedFrame;
        case 'receivedFrame': return e.receivedFrame;
        case 'gap': return e.gap;
        case 'delayMs': return e.delayMs;
        case 'clockOffsetMs': return e.clockOffsetMs;
        case 'clockDriftMs': return e.clockDriftMs ?? null;
        case 'player': return e.player;
        case 'controller': return e.player === null ? null : e.player + 1;
        default: break;
      }
    }
    switch (name) {
      case 'frame': return this.state.frame;
      case 'episode': return this.state.episode;
      case 'step': return this.state.step;
      default: break;
    }
    const varName = name.startsWith('vars.') ? name.slice(5) : name;
    const v = this.ramMap.lookup(varName);
    if (v && v.name === varName) return this.ramMap.value(varName, this.state);
    return undefined;
  }

  index(name: string, i: number): Value | undefined {
    if (name !== 'ram' && name !== 'ram16') return undefined;
    const width = name === 'ram16' ? 2 : 1;
    const area = memoryArea(i, width);
    if (!area) throw new ExpressionError(`${name}[0x${i.toString(16)}] is outside work RAM $0000-$07FF and PRG-RAM $6000-$7FFF`);
    if (area === 'prgRam' && !this.state.prgRam) {
      throw new ExpressionError(`${name}[0x${i.toString(16)}] is in PRG-RAM, which frames carry only when the RAM map names a variable in $6000-$7FFF`);
    }
    const lo = byteAt(this.state, i)!;
    return width === 1 ? lo : lo | (byteAt(this.state, i + 1)! << 8);
  }
}

/** Every bare name valid in a frame condition (with the desync fields when `desync` is true). */
export function knownNames(ramMap: RamMap, desync: boolean): string[] {
  const names: string[] = [...BUILTIN_NAMES];
  for (const v of ramMap.variables) {
    names.push(`vars.${v.name}`);
    if (!(BUILTIN_NAMES as readonly string[]).includes(v.name)) names.push(v.name);
  }
  if (desync) names.push(...DESYNC_FIELD_NAMES);
  return names;
}

/** How a RAM-map variable is written in expressions (`vars.NAME` when a built-in name shadows it). */
export function evaluateNameOf(varName: string): string {
  return (BUILTIN_NAMES as readonly string[]).includes(varName) ? `vars.${varName}` : varName;
}
