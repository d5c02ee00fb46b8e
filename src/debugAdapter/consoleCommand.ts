// Debug Console commands (`press A RIGHT`, `press p2 LEFT`, `frames 60`, `back 10`, `gate hold`, `wait on`, `help`); anything else is an expression.
import { BUTTON_NAMES, isButtonMask, namesToMask } from '../core/buttons';
import type { GateMode } from '../core/sync/frameGate';

/**
 * What happens to a late action, in the words of lockstep.yaml's `onTimeout` (the only vocabulary users see): hold = the
 * emulator keeps holding the frame and waits; skip = the frame runs with the late controller's previous buttons. The gate's
 * own modes (strict / hold) are internal, and its "hold" means holding the buttons, the opposite of onTimeout's.
 */
export type OnTimeout = 'hold' | 'skip';

export function onTimeoutOf(mode: GateMode): OnTimeout {
  return mode === 'strict' ? 'hold' : 'skip';
}

export function gateModeFor(onTimeout: OnTimeout): GateMode {
  return onTimeout === 'hold' ? 'strict' : 'hold';
}

export const ON_TIMEOUT_MEANING: Record<OnTimeout, string> = {
  hold: 'the emulator holds the frame and waits for a late action',
  skip: 'the frame runs with the late controller\'s previous buttons',
};

export type ConsoleCommand =
  | { kind: 'help' }
  | { kind: 'press'; buttons: number; player?: 0 | 1 }
  | { kind: 'frames'; count: number }
  | { kind: 'back'; count: number }
  | { kind: 'gate'; onTimeout: OnTimeout }
  | { kind: 'wait'; enabled: boolean }
  | { kind: 'status' }
  | { kind: 'expression'; text: string };

/** The console's `help`, with the current ROM's own RAM-map names as examples (none when the ROM has no RAM map). */
export function consoleHelp(ramNames: readonly string[]): string {
  const [a, b] = ramNames;
  const examples = ['frame', 'episode', 'step', 'ram[0x18]', 'ram16[0x10]', ...(a ? [a, `vars.${a}`] : []), `${b ?? a ?? 'ram[0x18]'} >= 3 && frame > 100`];
  return [
    ...CONSOLE_HELP_HEAD,
    `  ${examples.join(', ')}`,
    '                       expressions: numbers (12, 0x0C, $0C), + - * / % << >> & | ^ ~, == != < <= > >=, && || !',
    a ? `                       this ROM's RAM map names: ${ramNames.slice(0, 12).join(', ')}${ramNames.length > 12 ? ', …' : ''}` : '                       this ROM has no RAM map: name its bytes in <rom>.rammap.json (docs/configuration.md)',
    '  Tab completes commands, button names and RAM-map names.',
  ].join('\n');
}

const CONSOLE_HELP_HEAD = [
  'Lockstep Debug Console',
  '  press A RIGHT        buttons for the held frame (every controller still awaited, else controller 1)',
  '  press p2 LEFT        buttons for controller 2 only; `press` alone releases all buttons',
  '  press 0x81           a button mask (bits: A 1, B 2, SELECT 4, START 8, UP 16, DOWN 32, LEFT 64, RIGHT 128)',
  '  frames 60            run 60 frames, then stop (breakpoints still stop earlier)',
  '  back 10              step back 10 frames',
  `  gate hold|skip       a late action, as onTimeout in lockstep.yaml: hold: ${ON_TIMEOUT_MEANING.hold}; skip: ${ON_TIMEOUT_MEANING.skip}`,
  '  wait on|off          pause-until-action: stop whenever the emulator waits for an agent',
  '  status               frame, fps, desyncs, on timeout',
];

/** Parses one console line; throws a one-line error for a malformed command. */
export function parseConsoleCommand(line: string): ConsoleCommand {
  const text = line.trim();
  const [head, ...rest] = text.split(/\s+/);
  const word = head?.toLowerCase() ?? '';
  switch (word) {
    case 'help':
    case '?':
      if (rest.length === 0) return { kind: 'help' };
      break;
    case 'press':
      return parsePress(rest);
    case 'frames':
    case 'back': {
      if (rest.length > 1) break;
      const count = rest.length === 0 ? 1 : Number(rest[0]);
      if (!Number.isSafeInteger(count) || count < 1) throw new Error(`${word} needs a whole number of frames >= 1, e.g. "${word} 60"; got "${rest.join(' ')}"`);
      return { kind: word, count };
    }
    case 'gate':
      if (rest.length === 1 && (rest[0] === 'hold' || rest[0] === 'skip')) return { kind: 'gate', onTimeout: rest[0] };
      if (rest.length <= 1) {
        throw new Error(`gate takes "hold" (${ON_TIMEOUT_MEANING.hold}) or "skip" (${ON_TIMEOUT_MEANING.skip}), as onTimeout in lockstep.yaml` +
          (rest[0] === 'strict' ? '; "gate strict" is now "gate hold"' : ''));
      }
      break;
    case 'wait':
      if (rest.length === 1 && (rest[0] === 'on' || rest[0] === 'off')) return { kind: 'wait', enabled: rest[0] === 'on' };
      if (rest.length <= 1) throw new Error('wait takes "on" or "off" (pause-until-action)');
      break;
    case 'status':
      if (rest.length === 0) return { kind: 'status' };
      break;
    default:
      break;
  }
  return { kind: 'expression', text };
}

function parsePress(args: string[]): ConsoleCommand {
  let player: 0 | 1 | undefined;
  let names = args;
  const first = args[0]?.toLowerCase();
  const m = first ? /^(?:p|c|controller)?([12]):?$/.exec(first) : null;
  if (m && (first!.startsWith('p') || first!.startsWith('c'))) {
    player = m[1] === '1' ? 0 : 1;
    names = args.slice(1);
  }
  const joined = names.join(' ').replace(/[+,]/g, ' ').trim();
  if (/^(0x[0-9a-f]+|\$[0-9a-f]+|\d+)$/i.test(joined)) {
    const mask = joined.startsWith('$') ? parseInt(joined.slice(1), 16) : Number(joined);
    if (!isButtonMask(mask)) throw new Error(`press: a button mask must be 0-255, got ${joined}`);
    return { kind: 'press', buttons: mask, player };
  }
  try {
    return { kind: 'press', buttons: namesToMask(joined === '' ? [] : joined.split(/\s+/)), player };
  } catch (e) {
    throw new Error(`press: ${(e as Error).message}; e.g. "press A RIGHT" or "press p2 LEFT" (buttons: ${BUTTON_NAMES.join(' ')})`);
  }
}
