// Debug Console completions (DAP `completions`): commands at the start of a line, buttons after `press`, words after `gate`/`wait`, names in expressions.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { BUTTON_NAMES } from '../core/buttons';
import { ON_TIMEOUT_MEANING } from './consoleCommand';
import { BUILTIN_NAMES, INDEXABLE_NAMES } from './stateScope';

type Item = DebugProtocol.CompletionItem;

const COMMANDS: ReadonlyArray<[string, string]> = [
  ['help', 'the console commands and this ROM\'s RAM-map names'],
  ['press', 'buttons for the held frame: press A RIGHT, press p2 LEFT'],
  ['frames', 'run N frames, then stop: frames 60'],
  ['back', 'step back N frames: back 10'],
  ['gate', 'what a late action does: gate hold | gate skip'],
  ['wait', 'pause-until-action: wait on | wait off'],
  ['status', 'frame, fps, desyncs, on timeout'],
];

const ARGUMENTS: Record<string, ReadonlyArray<[string, string]>> = {
  gate: [['hold', ON_TIMEOUT_MEANING.hold], ['skip', ON_TIMEOUT_MEANING.skip]],
  wait: [['on', 'stop whenever the emulator waits for an agent'], ['off', 'never stop for a wait']],
};

/**
 * Proposals for `text` with the cursor at `cursor` (0-based, UTF-16). Each item replaces the word being typed: `start`
 * (0-based here; the session converts it for the client) and `length` cover it.
 * `ramNames` are the current ROM's RAM-map variable names.
 */
export function consoleCompletions(text: string, cursor: number, ramNames: readonly string[]): Item[] {
  const before = text.slice(0, Math.max(0, Math.min(cursor, text.length)));
  const word = /[A-Za-z_][\w.]*$|[A-Za-z_]?$/.exec(before)![0];
  const start = before.length - word.length;
  const words = before.slice(0, start).trim().split(/\s+/).filter(Boolean);
  const head = words[0]?.toLowerCase();
  const take = (items: Item[]) => items
    .filter((i) => i.label.toLowerCase().startsWith(word.toLowerCase()))
    .map((i) => ({ ...i, start, length: word.length }));

  if (words.length === 0) {
    return take([
      ...COMMANDS.map(([label, detail]): Item => ({ label, detail, type: 'keyword' })),
      ...names(ramNames),
    ]);
  }
  if (head === 'press') {
    const first = words.length === 1;
    return take([
      ...BUTTON_NAMES.map((b): Item => ({ label: b, detail: 'button', type: 'value' })),
      ...(first ? [{ label: 'p1', detail: 'controller 1 only', type: 'keyword' }, { label: 'p2', detail: 'controller 2 only', type: 'keyword' }] as Item[] : []),
    ]);
  }
  if (head && ARGUMENTS[head]) return words.length === 1 ? take(ARGUMENTS[head].map(([label, detail]): Item => ({ label, detail, type: 'value' }))) : [];
  if (head === 'frames' || head === 'back' || head === 'help' || head === 'status') return [];
  return take(names(ramNames));
}

/** Names an expression may use: frame, episode, step, ram[…], ram16[…], the RAM map's variables (also as vars.NAME). */
function names(ramNames: readonly string[]): Item[] {
  return [
    ...BUILTIN_NAMES.map((n): Item => ({ label: n, detail: 'the held frame', type: 'variable' })),
    ...INDEXABLE_NAMES.map((n): Item => ({ label: n, text: `${n}[`, detail: n === 'ram' ? 'a byte of work RAM: ram[0x18]' : 'a 16-bit little-endian word: ram16[0x10]', type: 'variable' })),
    ...ramNames.map((n): Item => ({ label: n, detail: 'RAM map', type: 'variable' })),
    ...ramNames.map((n): Item => ({ label: `vars.${n}`, detail: 'RAM map', type: 'variable' })),
  ];
}
