// Parses one command's arguments (node:util parseArgs) so that every problem is one UsageError line naming the flag.
import { parseArgs } from 'node:util';
import { editDistance } from '../core/editDistance';
import { UsageError } from './usageError';

export type OptionTable = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

type Values<O extends OptionTable> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K]['multiple'] extends true ? string[] : string;
};

export type ParsedCommandLine<O extends OptionTable> =
  | { help: true }
  | { help: false; values: Values<O>; positionals: string[] };

/**
 * `--help`/`-h` anywhere an option may stand wins over every other problem. A string option always takes the next argument
 * as its value, even one starting with "-" (`--frames -3`), so the value check can say what is wrong with it instead of
 * parseArgs' "argument is ambiguous".
 */
export function parseCommandLine<O extends OptionTable>(args: readonly string[], options: O, allowPositionals = false): ParsedCommandLine<O> {
  const joined: string[] = [];
  const positionals: string[] = [];
  let problem: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a === '--help' || a === '-h') return { help: true };
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    if (problem) continue;
    if (!a.startsWith('--')) {
      problem = `unknown option ${a}`;
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const spec = Object.hasOwn(options, name) ? options[name] : undefined;
    if (!spec) {
      problem = `unknown option --${name}${closest(name, Object.keys(options))}`;
    } else if (spec.type === 'boolean') {
      if (eq >= 0) problem = `--${name} takes no value`;
      else joined.push(a);
    } else if (eq >= 0) {
      joined.push(a);
    } else if (i + 1 < args.length) {
      joined.push(`--${name}=${args[++i]}`);
    } else {
      problem = `--${name} needs a value`;
    }
  }
  if (problem) throw new UsageError(problem);
  if (!allowPositionals && positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (options start with --)`);
  // Every token was checked above, so parseArgs only collects values here.
  const { values } = parseArgs({ args: joined, options, strict: true, allowPositionals: false });
  return { help: false, values: values as Values<O>, positionals };
}

/** " (did you mean --x?)" for a shortened option or one misspelt by one or two edits, else "". */
function closest(given: string, known: readonly string[]): string {
  const extended = known.find((k) => given.length >= 2 && k.startsWith(given));
  if (extended) return ` (did you mean --${extended}?)`;
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(given, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best ? ` (did you mean --${best}?)` : '';
}
