// Fast, detached save states for jsnes: deep copies of every component's data fields, restored in place.
//
// jsnes's own toJSON() is slow (~4.5 ms), shares live arrays with the running machine (a later button press
// rewrites a saved state) and drops ppu.vramMirrorTable. Here each component's own fields are copied by kind:
// numbers/booleans/null as they are, typed arrays and plain arrays as fresh copies, object references skipped.
// Copying every data field, not a hand-kept list, keeps mapper registers and exact PPU/APU timing counters
// (dotTarget, nextEventCycle, ...) that a hand-kept list would miss, so a restored machine replays identically.
import type { JsnesNes, JsnesTile } from './jsnesInternals';

type TypedArray = Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
type Plain = number | boolean | string | null | undefined | TypedArray | Plain[];
/** Alternating key, value: cheaper to build and walk than an object with ~80 keys. */
type Fields = (string | Plain)[];

/** A detached copy of a jsnes machine. Never mutated after capture, so it can be restored any number of times. */
export interface MachineSnapshot {
  /** The NesMachine state that owns it; restore refuses a snapshot from another machine. */
  readonly owner: object;
  readonly frameCount: number;
  readonly lag: boolean;
  readonly nes: Fields;
  readonly cpu: Fields;
  readonly ppu: Fields;
  readonly nameTables: Fields[];
  readonly palTable: Fields;
  /** References only: tiles are a cache derived from vramMem, rebuilt on restore. */
  readonly ptTile: JsnesTile[];
  readonly papu: Fields;
  readonly channels: Fields[];
  readonly mmap: Fields;
  readonly controllers: [Fields, Fields];
}

const SKIP = Symbol('skip');
const CHANNELS = ['square1', 'square2', 'triangle', 'noise', 'dmc'] as const;

export function captureMachine(
  nes: JsnesNes,
  meta: { owner: object; frameCount: number; lag: boolean },
  /** Leave the picture (ppu.buffer) out: a keyframe restored only to run frames from does not need it. Restore then keeps the live one. */
  withoutPicture = false,
  /**
   * Hand out the machine's own arrays instead of copies: only for a caller that reads them at once, before the next
   * frame (a keyframe encodes them into its own block), and so skips ~170 KB of copies a snapshot.
   */
  live = false,
): MachineSnapshot {
  const { cpu, ppu, papu, mmap } = nes;
  if (!mmap) throw new Error('cannot snapshot a machine with no ROM loaded');
  const fields = (obj: object, skip?: string) => captureFields(obj, skip, live);
  return {
    ...meta,
    // Only the crash latch: the rest of the NES object is options, callbacks and the ROM image.
    nes: ['crashed', nes.crashed ?? false],
    cpu: fields(cpu),
    ppu: fields(ppu, withoutPicture ? 'buffer' : undefined),
    nameTables: ppu.nameTable.map((t) => fields(t)),
    palTable: fields(ppu.palTable),
    ptTile: ppu.ptTile.slice(),
    papu: fields(papu),
    channels: CHANNELS.map((c) => fields(papu[c])),
    mmap: fields(mmap),
    controllers: [fields(nes.controllers[1]), fields(nes.controllers[2])],
  };
}

/** Writes a snapshot back into the live machine's current component objects (never into the snapshot). */
export function restoreMachine(nes: JsnesNes, s: MachineSnapshot): void {
  const { cpu, ppu, papu, mmap } = nes;
  if (!mmap) throw new Error('cannot restore into a machine with no ROM loaded');
  restoreFields(nes, s.nes);
  restoreFields(cpu, s.cpu);
  restoreFields(ppu, s.ppu);
  s.nameTables.forEach((f, i) => restoreFields(ppu.nameTable[i], f));
  restoreFields(ppu.palTable, s.palTable);
  restorePatternTiles(ppu.ptTile, s.ptTile, ppu.vramMem);
  restoreFields(papu, s.papu);
  CHANNELS.forEach((c, i) => restoreFields(papu[c], s.channels[i]));
  restoreFields(mmap, s.mmap);
  restoreFields(nes.controllers[1], s.controllers[0]);
  restoreFields(nes.controllers[2], s.controllers[1]);
}

function captureFields(obj: object, skip?: string, live = false): Fields {
  const out: Fields = [];
  const rec = obj as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    if (key === skip) continue;
    const copy = copyValue(rec[key], live);
    if (copy !== SKIP) out.push(key, copy);
  }
  return out;
}

function copyValue(v: unknown, live = false): Plain | typeof SKIP {
  if (v === null || v === undefined) return v;
  switch (typeof v) {
    case 'number':
    case 'boolean':
    case 'string':
      return v;
    case 'object':
      if (ArrayBuffer.isView(v)) return v instanceof DataView ? SKIP : live ? (v as TypedArray) : (v as TypedArray).slice();
      if (Array.isArray(v)) return copyArray(v, live);
      return SKIP; // a reference to another component or a cache: not this object's data
    default:
      return SKIP; // functions (jsnes binds some methods as instance fields), symbols, bigints
  }
}

function copyArray(a: unknown[], live = false): Plain[] | typeof SKIP {
  const out: Plain[] | undefined = live ? undefined : new Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const c = copyValue(a[i], live);
    if (c === SKIP) return SKIP; // arrays of objects (tiles, nametables) are handled by their owner
    if (out) out[i] = c;
  }
  return out ?? (a as Plain[]);
}

function restoreFields(obj: object, fields: Fields): void {
  const rec = obj as Record<string, unknown>;
  for (let i = 0; i < fields.length; i += 2) {
    const key = fields[i] as string;
    rec[key] = restoreValue(rec[key], fields[i + 1] as Plain);
  }
}

/** Copies into the live array when shapes match, so anything else holding that array sees the restored data. */
function restoreValue(current: unknown, saved: Plain): unknown {
  if (saved === null || typeof saved !== 'object') return saved;
  if (ArrayBuffer.isView(saved)) {
    if (ArrayBuffer.isView(current) && current.constructor === saved.constructor && (current as TypedArray).length === saved.length) {
      (current as TypedArray).set(saved as never);
      return current;
    }
    return saved.slice();
  }
  if (Array.isArray(current) && current.length === saved.length) {
    for (let i = 0; i < saved.length; i++) current[i] = restoreValue(current[i], saved[i]);
    return current;
  }
  return copyArray(saved);
}

/**
 * ptTile entries are shared Tile objects (a mapper's CHR-ROM tiles or CHR-RAM tiles); restore which objects sit in each
 * slot, then re-derive their pixels from the restored pattern tables, which jsnes keeps identical to the tiles.
 */
function restorePatternTiles(live: JsnesTile[], saved: JsnesTile[], vram: Uint8Array): void {
  for (let t = 0; t < saved.length; t++) {
    const tile = saved[t];
    live[t] = tile;
    const base = t << 4;
    for (let row = 0; row < 8; row++) tile.setScanline(row, vram[base + row], vram[base + row + 8]);
  }
}
