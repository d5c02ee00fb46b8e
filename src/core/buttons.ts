// NES controller buttons as an 8-bit mask (the order the NES shift register reports them), with FM2 and name conversions.

export const BUTTON = {
  A: 0x01,
  B: 0x02,
  SELECT: 0x04,
  START: 0x08,
  UP: 0x10,
  DOWN: 0x20,
  LEFT: 0x40,
  RIGHT: 0x80,
} as const;

export type ButtonName = keyof typeof BUTTON;
export const BUTTON_NAMES: readonly ButtonName[] = ['A', 'B', 'SELECT', 'START', 'UP', 'DOWN', 'LEFT', 'RIGHT'];

/** Buttons for both controllers for one frame: [controller 1, controller 2], each a mask of BUTTON bits. */
export type ButtonPair = readonly [number, number];

const FM2_ORDER: readonly ButtonName[] = ['RIGHT', 'LEFT', 'DOWN', 'UP', 'START', 'SELECT', 'B', 'A'];
const FM2_LETTERS = 'RLDUTSBA';

/** A mask as an FM2 gamepad field, e.g. 0x82 -> "R.....B.". */
export function maskToFm2(mask: number): string {
  let out = '';
  for (let i = 0; i < 8; i++) out += mask & BUTTON[FM2_ORDER[i]] ? FM2_LETTERS[i] : '.';
  return out;
}

/** An FM2 gamepad field as a mask; any character other than '.' or ' ' counts as pressed, as FCEUX reads it. */
export function fm2ToMask(field: string): number {
  if (field.length !== 8) throw new Error(`FM2 gamepad field must be 8 characters (RLDUTSBA), got ${JSON.stringify(field)}`);
  let mask = 0;
  for (let i = 0; i < 8; i++) {
    const c = field[i];
    if (c !== '.' && c !== ' ') mask |= BUTTON[FM2_ORDER[i]];
  }
  return mask;
}

/** Button names (case-insensitive; aliases L/R/U/D, SEL, RIGHT...) to a mask; throws naming the unknown button. */
export function namesToMask(names: readonly string[]): number {
  let mask = 0;
  for (const raw of names) {
    const n = raw.trim().toUpperCase();
    if (n === '') continue;
    const key = (ALIASES[n] ?? n) as ButtonName;
    if (!(key in BUTTON)) throw new Error(`unknown button "${raw}" (expected one of ${BUTTON_NAMES.join(', ')})`);
    mask |= BUTTON[key];
  }
  return mask;
}

export function maskToNames(mask: number): ButtonName[] {
  return BUTTON_NAMES.filter((n) => mask & BUTTON[n]);
}

const ALIASES: Record<string, ButtonName> = {
  L: 'LEFT', R: 'RIGHT', U: 'UP', D: 'DOWN', SEL: 'SELECT', T: 'START', S: 'SELECT',
};

export function isButtonMask(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff;
}
