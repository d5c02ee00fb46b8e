// A small, safe expression language for breakpoint conditions and the debug console (`gap > 5`, `ram[0x18] >= 100`): parsed once, evaluated per frame, never eval.
import { editDistance } from '../core/editDistance';

export type Value = number | boolean | string | null;

/** What names mean at the moment of evaluation (the current frame, a desync event, the RAM). */
export interface ExpressionScope {
  /** Value of a bare name; undefined when the name is unknown. */
  get(name: string): Value | undefined;
  /** `name[index]`; undefined when `name` cannot be indexed. Throws ExpressionError for an index out of range. */
  index(name: string, index: number): Value | undefined;
}

export class ExpressionError extends Error {
  constructor(message: string, readonly position?: number) {
    super(message);
    this.name = 'ExpressionError';
  }
}

export interface Expression {
  readonly source: string;
  /** Bare names the expression reads (excluding indexed ones). */
  readonly names: ReadonlySet<string>;
  /** Names used with `[...]`. */
  readonly indexed: ReadonlySet<string>;
  evaluate(scope: ExpressionScope): Value;
}

type BinaryOp = '+' | '-' | '*' | '/' | '%' | '<<' | '>>' | '&' | '|' | '^' | '==' | '!=' | '<' | '<=' | '>' | '>=';
type Node =
  | { kind: 'literal'; value: Value }
  | { kind: 'name'; name: string; pos: number }
  | { kind: 'index'; name: string; index: Node; pos: number }
  | { kind: 'unary'; op: '!' | '-' | '~'; operand: Node; pos: number }
  | { kind: 'binary'; op: BinaryOp; left: Node; right: Node; pos: number }
  | { kind: 'logical'; op: '&&' | '||'; left: Node; right: Node };

type Token =
  | { t: 'num'; v: number; pos: number }
  | { t: 'str'; v: string; pos: number }
  | { t: 'id'; v: string; pos: number }
  | { t: 'op'; v: string; pos: number }
  | { t: 'end'; pos: number };

const MAX_LENGTH = 2000;
const MAX_DEPTH = 64;
const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<<', '>>', '<', '>', '+', '-', '*', '/', '%', '!', '~', '&', '|', '^', '(', ')', '[', ']', ','];
const KEYWORDS: Record<string, Value> = { true: true, false: false, null: null };

/**
 * Precedence, lowest first. Bitwise operators bind tighter than comparisons (as in Python, unlike C), so
 * `pad1 & 0x80 != 0` means `(pad1 & 0x80) != 0`.
 */
const LEVELS: ReadonlyArray<readonly string[]> = [
  ['||'],
  ['&&'],
  ['==', '!='],
  ['<', '<=', '>', '>='],
  ['|'],
  ['^'],
  ['&'],
  ['<<', '>>'],
  ['+', '-'],
  ['*', '/', '%'],
];

export function parseExpression(source: string): Expression {
  if (typeof source !== 'string') throw new ExpressionError(`an expression must be text, got ${typeof source}`);
  if (source.length > MAX_LENGTH) throw new ExpressionError(`expression too long (${source.length} characters, at most ${MAX_LENGTH})`);
  const tokens = tokenize(source);
  const parser = new Parser(tokens, source);
  const root = parser.parseAll();
  const names = new Set<string>();
  const indexed = new Set<string>();
  collect(root, names, indexed);
  return {
    source,
    names,
    indexed,
    evaluate: (scope) => evaluate(root, scope),
  };
}

/** Truthiness for conditions: false, 0, null and '' are false. */
export function truthy(v: Value): boolean {
  return v !== null && v !== false && v !== 0 && v !== '';
}

/** Numbers as `64 (0x40)`, others as written. */
export function formatValue(v: Value): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0) return `${v} (0x${v.toString(16).toUpperCase()})`;
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** Names the expression uses that `known` does not contain, each with a suggestion when one is close. */
export function unknownNames(expr: Expression, known: readonly string[], indexable: readonly string[]): string[] {
  const problems: string[] = [];
  for (const n of expr.names) {
    if (!known.includes(n)) problems.push(`unknown name "${n}"${suggestName(n, known)}`);
  }
  for (const n of expr.indexed) {
    if (!indexable.includes(n)) problems.push(`"${n}" cannot be indexed (indexable: ${indexable.join(', ') || 'none'})`);
  }
  return problems;
}

function suggestName(given: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(given.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(given.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

// ---- tokenizer ----

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const rest = src.slice(i);
    const num = /^(?:0x[0-9a-f]+|\$[0-9a-f]+|0b[01]+|\d+(?:\.\d+)?)/i.exec(rest);
    if (num) {
      const text = num[0];
      if (/^[A-Za-z_]/.test(rest.slice(text.length))) throw new ExpressionError(`malformed number "${text}${rest.slice(text.length).match(/^\w+/)![0]}" at column ${i + 1}`, i);
      const v = text.startsWith('$') ? parseInt(text.slice(1), 16) : /^0b/i.test(text) ? parseInt(text.slice(2), 2) : Number(text);
      out.push({ t: 'num', v, pos: i });
      i += text.length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rest);
    if (id) {
      out.push({ t: 'id', v: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        s += src[j];
        j++;
      }
      if (j >= src.length) throw new ExpressionError(`unterminated string starting at column ${i + 1}`, i);
      out.push({ t: 'str', v: s, pos: i });
      i = j + 1;
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (op) {
      out.push({ t: 'op', v: op, pos: i });
      i += op.length;
      continue;
    }
    if (c === '=') throw new ExpressionError(`"=" at column ${i + 1}: use "==" to compare`, i);
    throw new ExpressionError(`unexpected character "${c}" at column ${i + 1}`, i);
  }
  out.push({ t: 'end', pos: src.length });
  return out;
}

// ---- parser (precedence climbing) ----

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[], private readonly src: string) {}

  parseAll(): Node {
    if (this.peek().t === 'end') throw new ExpressionError('empty expression', 0);
    const n = this.parseLevel(0);
    const t = this.peek();
    if (t.t !== 'end') throw new ExpressionError(`unexpected ${describe(t)} at column ${t.pos + 1}`, t.pos);
    return n;
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_DEPTH) throw new ExpressionError(`expression nested too deeply (more than ${MAX_DEPTH} levels)`, pos);
  }

  private parseLevel(level: number): Node {
    if (level >= LEVELS.length) return this.parseUnary();
    let left = this.parseLevel(level + 1);
    while (true) {
      const t = this.peek();
      if (t.t !== 'op' || !LEVELS[level].includes(t.v)) return left;
      this.i++;
      this.enter(t.pos);
      const right = this.parseLevel(level + 1);
      this.depth--;
      left = t.v === '&&' || t.v === '||'
        ? { kind: 'logical', op: t.v, left, right }
        : { kind: 'binary', op: t.v as BinaryOp, left, right, pos: t.pos };
    }
  }

  private parseUnary(): Node {
    const t = this.peek();
    if (t.t === 'op' && (t.v === '!' || t.v === '-' || t.v === '~')) {
      this.i++;
      this.enter(t.pos);
      const operand = this.parseUnary();
      this.depth--;
      return { kind: 'unary', op: t.v, operand, pos: t.pos };
    }
    if (t.t === 'op' && t.v === '+') {
      this.i++;
      return this.parseUnary();
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Node {
    const t = this.peek();
    switch (t.t) {
      case 'num':
        this.i++;
        return { kind: 'literal', value: t.v };
      case 'str':
        this.i++;
        return { kind: 'literal', value: t.v };
      case 'id': {
        this.i++;
        if (Object.prototype.hasOwnProperty.call(KEYWORDS, t.v)) return { kind: 'literal', value: KEYWORDS[t.v] };
        if (this.isOp('[')) {
          this.i++;
          this.enter(t.pos);
          const index = this.parseLevel(0);
          this.depth--;
          this.expect(']', `"]" to close ${t.v}[`);
          return { kind: 'index', name: t.v, index, pos: t.pos };
        }
        if (this.isOp('(')) throw new ExpressionError(`"${t.v}(" at column ${t.pos + 1}: function calls are not supported`, t.pos);
        return { kind: 'name', name: t.v, pos: t.pos };
      }
      case 'op':
        if (t.v === '(') {
          this.i++;
          this.enter(t.pos);
          const inner = this.parseLevel(0);
          this.depth--;
          this.expect(')', '")"');
          return inner;
        }
        throw new ExpressionError(`unexpected ${describe(t)} at column ${t.pos + 1}`, t.pos);
      case 'end':
        throw new ExpressionError(`expression ends too early: "${this.src}" needs a value at the end`, t.pos);
      default: {
        const _never: never = t;
        throw new ExpressionError(`unexpected token ${JSON.stringify(_never)}`);
      }
    }
  }

  private expect(op: string, what: string): void {
    if (!this.isOp(op)) {
      const t = this.peek();
      throw new ExpressionError(`expected ${what} at column ${t.pos + 1}, found ${describe(t)}`, t.pos);
    }
    this.i++;
  }
}

function describe(t: Token): string {
  switch (t.t) {
    case 'end':
      return 'the end';
    case 'num':
      return `number ${t.v}`;
    case 'str':
      return `string ${JSON.stringify(t.v)}`;
    case 'id':
      return `name "${t.v}"`;
    case 'op':
      return `"${t.v}"`;
    default: {
      const _never: never = t;
      return String(_never);
    }
  }
}

function collect(n: Node, names: Set<string>, indexed: Set<string>): void {
  switch (n.kind) {
    case 'literal':
      return;
    case 'name':
      names.add(n.name);
      return;
    case 'index':
      indexed.add(n.name);
      collect(n.index, names, indexed);
      return;
    case 'unary':
      collect(n.operand, names, indexed);
      return;
    case 'binary':
    case 'logical':
      collect(n.left, names, indexed);
      collect(n.right, names, indexed);
      return;
    default: {
      const _never: never = n;
      throw new Error(`unknown node ${JSON.stringify(_never)}`);
    }
  }
}

// ---- evaluation ----

function evaluate(n: Node, scope: ExpressionScope): Value {
  switch (n.kind) {
    case 'literal':
      return n.value;
    case 'name': {
      const v = scope.get(n.name);
      if (v === undefined) throw new ExpressionError(`unknown name "${n.name}"`, n.pos);
      return v;
    }
    case 'index': {
      const i = evaluate(n.index, scope);
      if (typeof i !== 'number' || !Number.isInteger(i)) throw new ExpressionError(`${n.name}[...] needs an integer index, got ${formatValue(i)}`, n.pos);
      const v = scope.index(n.name, i);
      if (v === undefined) throw new ExpressionError(`"${n.name}" cannot be indexed`, n.pos);
      return v;
    }
    case 'unary': {
      const v = evaluate(n.operand, scope);
      if (n.op === '!') return !truthy(v);
      if (v === null) return null;
      const x = toNumber(v, n.op, n.pos);
      return n.op === '-' ? -x : ~Math.trunc(x);
    }
    case 'logical': {
      const l = evaluate(n.left, scope);
      if (n.op === '&&') return truthy(l) ? truthy(evaluate(n.right, scope)) : false;
      return truthy(l) ? true : truthy(evaluate(n.right, scope));
    }
    case 'binary':
      return binary(n.op, evaluate(n.left, scope), evaluate(n.right, scope), n.pos);
    default: {
      const _never: never = n;
      throw new Error(`unknown node ${JSON.stringify(_never)}`);
    }
  }
}

function toNumber(v: Value, op: string, pos: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new ExpressionError(`"${op}" needs numbers, got ${formatValue(v)}`, pos);
}

function binary(op: BinaryOp, l: Value, r: Value, pos: number): Value {
  if (op === '==' || op === '!=') {
    const same = looselyEqual(l, r);
    return op === '==' ? same : !same;
  }
  // A missing value (e.g. gap of a timeout) makes every ordering and arithmetic false/null rather than an error.
  if (l === null || r === null) {
    return op === '<' || op === '<=' || op === '>' || op === '>=' ? false : null;
  }
  if (typeof l === 'string' && typeof r === 'string' && (op === '<' || op === '<=' || op === '>' || op === '>=')) {
    return op === '<' ? l < r : op === '<=' ? l <= r : op === '>' ? l > r : l >= r;
  }
  const a = toNumber(l, op, pos);
  const b = toNumber(r, op, pos);
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) throw new ExpressionError('division by zero', pos);
      return a / b;
    case '%':
      if (b === 0) throw new ExpressionError('division by zero (%)', pos);
      return a % b;
    case '<<':
      return Math.trunc(a) << Math.trunc(b);
    case '>>':
      return Math.trunc(a) >> Math.trunc(b);
    case '&':
      return Math.trunc(a) & Math.trunc(b);
    case '|':
      return Math.trunc(a) | Math.trunc(b);
    case '^':
      return Math.trunc(a) ^ Math.trunc(b);
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default: {
      const _never: never = op;
      throw new ExpressionError(`unknown operator ${String(_never)}`, pos);
    }
  }
}

function looselyEqual(l: Value, r: Value): boolean {
  if (l === null || r === null) return l === r;
  if (typeof l === 'string' || typeof r === 'string') return l === r;
  return (typeof l === 'boolean' ? Number(l) : l) === (typeof r === 'boolean' ? Number(r) : r);
}
