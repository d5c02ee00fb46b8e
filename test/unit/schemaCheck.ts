// A small JSON-schema (draft-07 subset) checker for tests of the shipped schemas; it throws on keywords it does not know rather than ignore them.
import { isDeepStrictEqual } from 'node:util';

type Schema = { [key: string]: unknown } | boolean;

/** Keywords that only describe; they never reject a value. */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'markdownDescription', 'default', 'errorMessage', 'examples']);
const CHECKED = new Set([
  'type', 'enum', 'const', 'properties', 'additionalProperties', 'required', 'items', 'minimum', 'maximum',
  'exclusiveMinimum', 'minLength', 'pattern', 'anyOf', 'allOf', 'not', 'if', 'then', 'else',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function hasType(v: unknown, t: string): boolean {
  if (t === 'integer') return typeof v === 'number' && Number.isInteger(v);
  return typeOf(v) === t;
}

/** Every reason `value` does not match `schema`, each prefixed with its JSON path; empty when it matches. */
export function schemaErrors(schema: Schema, value: unknown, at = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: no value is allowed here`];
  for (const k of Object.keys(schema)) {
    if (!ANNOTATIONS.has(k) && !CHECKED.has(k)) throw new Error(`schemaCheck: keyword "${k}" at ${at} is not supported`);
  }
  const errors: string[] = [];
  const s = schema as Record<string, unknown>;
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => hasType(value, t))) return [`${at}: must be ${types.join(' or ')}, got ${typeOf(value)}`];
  }
  if (s.enum !== undefined && !(s.enum as unknown[]).some((e) => isDeepStrictEqual(e, value))) {
    errors.push(`${at}: must be one of ${JSON.stringify(s.enum)}`);
  }
  if (s.const !== undefined && !isDeepStrictEqual(s.const, value)) errors.push(`${at}: must be ${JSON.stringify(s.const)}`);
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${at}: must be >= ${s.minimum}`);
    if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum) errors.push(`${at}: must be > ${s.exclusiveMinimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${at}: must be <= ${s.maximum}`);
  }
  if (typeof value === 'string') {
    if (typeof s.minLength === 'number' && value.length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) errors.push(`${at}: does not match ${s.pattern}`);
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const r of (s.required ?? []) as string[]) if (!(r in obj)) errors.push(`${at}: missing ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      if (k in props) errors.push(...schemaErrors(props[k], v, `${at}.${k}`));
      else if (s.additionalProperties !== undefined) errors.push(...schemaErrors(s.additionalProperties as Schema, v, `${at}.${k}`));
    }
  }
  if (Array.isArray(value) && s.items !== undefined) {
    value.forEach((item, i) => errors.push(...schemaErrors(s.items as Schema, item, `${at}[${i}]`)));
  }
  if (s.allOf !== undefined) for (const sub of s.allOf as Schema[]) errors.push(...schemaErrors(sub, value, at));
  if (s.anyOf !== undefined && !(s.anyOf as Schema[]).some((sub) => schemaErrors(sub, value, at).length === 0)) {
    errors.push(`${at}: matches none of the allowed forms`);
  }
  if (s.not !== undefined && schemaErrors(s.not as Schema, value, at).length === 0) {
    errors.push(`${at}: ${typeof s.errorMessage === 'string' ? s.errorMessage : 'matches a form that is not allowed'}`);
  }
  if (s.if !== undefined) {
    const branch = schemaErrors(s.if as Schema, value, at).length === 0 ? s.then : s.else;
    if (branch !== undefined) errors.push(...schemaErrors(branch as Schema, value, at));
  }
  return errors;
}
