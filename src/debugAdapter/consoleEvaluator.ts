// Evaluates Debug Console and watch expressions against the held frame: RAM-map names, ram[addr], frame/episode/step and operators.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { RamMap } from '../core/config/ramMap';
import type { FrameMemory } from '../core/frameMemory';
import { ExpressionError, formatValue, parseExpression, unknownNames, type Value } from './expression';
import { INDEXABLE_NAMES, knownNames, type StateScope } from './stateScope';
import { RAM_MEMORY_REFERENCE, memoryReferenceFor, type VariablesView } from './variablesView';
import { WORK_RAM_SIZE as RAM_BYTES } from '../core/nes';

export class ConsoleEvaluator {
  constructor(
    private readonly ramMap: RamMap,
    private readonly view: VariablesView,
    /** The held frame as an expression scope. */
    private readonly scope: () => StateScope,
    /** The held frame's memory (work RAM, and PRG-RAM when carried). */
    private readonly ram: () => Uint8Array | FrameMemory,
  ) {}

  /** The text to show and the extras (a variables or memory reference) for an expression. */
  evaluate(text: string): [string, Partial<DebugProtocol.EvaluateResponse['body']>] {
    const t = text.trim();
    if (t === 'ram') return [`2 KB work RAM $0000-$07FF`, { variablesReference: this.view.ramRef(), indexedVariables: RAM_BYTES / 16, memoryReference: RAM_MEMORY_REFERENCE }];
    const varName = t.startsWith('vars.') ? t.slice(5) : t;
    const v = this.ramMap.lookup(varName);
    if (v && v.name === varName && (t.startsWith('vars.') || !['frame', 'episode', 'step'].includes(t))) {
      const shown = this.view.describeRamVariable(v, this.ram());
      return [shown.value, { type: shown.type, memoryReference: shown.memoryReference }];
    }
    const value = this.value(t);
    const idx = /^ram\[\s*(0x[0-9a-f]+|\$[0-9a-f]+|\d+)\s*\]$/i.exec(t);
    const extra: Partial<DebugProtocol.EvaluateResponse['body']> = {};
    if (idx) {
      const a = idx[1].startsWith('$') ? parseInt(idx[1].slice(1), 16) : Number(idx[1]);
      if (a >= 0 && a < RAM_BYTES) extra.memoryReference = memoryReferenceFor(a);
    }
    return [formatValue(value), extra];
  }

  value(text: string): Value {
    const expr = parseExpression(text);
    const problems = unknownNames(expr, knownNames(this.ramMap, false), INDEXABLE_NAMES);
    if (problems.length > 0) throw new ExpressionError(problems.join('; '));
    return expr.evaluate(this.scope());
  }

  number(text: string): number {
    const v = this.value(text);
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`"${text}" is not a number (got ${formatValue(v)})`);
    return v;
  }
}
