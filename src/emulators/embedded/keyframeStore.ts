// The session history's keyframes for jsnes, kept in the worker: machine snapshots flattened, XOR-delta coded and deflated.
//
// A MachineSnapshot is ~450 KB of typed arrays (64 KB CPU address space, PPU VRAM and mirror table, the picture) and
// ~600 scalars. Keyframes are taken every few dozen frames for a whole session, so each is flattened into one byte
// block (every typed array and numeric plain array at a fixed offset) plus a small skeleton for the rest. The block is
// XORed with the session's first keyframe (an episode start: ROM banks, lookup tables and most of VRAM never change,
// so they become zeros) and deflated at level 1 on the thread pool, off the frame path.
import { deserialize, serialize } from 'node:v8';
import { deflateRaw, inflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';
import type { MachineSnapshot } from './machineSnapshot';

const deflateRawAsync = promisify(deflateRaw);

type TypedArray = Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
type TypedArrayCtor = { new (buffer: ArrayBuffer, offset: number, length: number): TypedArray; BYTES_PER_ELEMENT: number; name: string };

/** A typed array moved into the block: where, what type, how long; `plain` marks a numeric JS array stored as Float64. */
interface Slot {
  readonly $slot: number;
  readonly type: string;
  readonly length: number;
  readonly plain?: true;
}

interface StoredKeyframe {
  /**
   * One deflated buffer: the skeleton (v8-serialized snapshot with slots in place of the big arrays, `skeletonLength`
   * bytes) then the block, XORed with the reference block when `delta`. One deflate, not one each: every deflate sets
   * up a zlib stream on this thread (its window and hash tables), which cost about as much as the rest of the encode.
   */
  packed: Buffer;
  skeletonLength: number;
  blockLength: number;
  delta: boolean;
  /** References, not data: tiles are re-derived from VRAM on restore (see machineSnapshot). Shared with the previous keyframe when the same. */
  ptTile: MachineSnapshot['ptTile'];
  ptTileShared: boolean;
  owner: object;
  frameCount: number;
  lag: boolean;
  withScreen: boolean;
}

const CTORS: Record<string, TypedArrayCtor> = {
  Uint8Array, Uint16Array, Uint32Array, Int8Array, Int16Array, Int32Array, Float32Array, Float64Array,
} as unknown as Record<string, TypedArrayCtor>;

/** Plain numeric arrays shorter than this stay in the skeleton (moving them costs more than it saves). */
const PLAIN_MIN = 16;
const SECTIONS = ['nes', 'cpu', 'ppu', 'nameTables', 'palTable', 'papu', 'channels', 'mmap', 'controllers'] as const;

export class KeyframeStore {
  private readonly frames = new Map<number, Promise<StoredKeyframe>>();
  /** Raw block of the first keyframe of each layout (with and without the picture): what later blocks are XORed with. */
  private readonly references = new Map<boolean, Uint8Array>();
  private storedBytes = 0;
  /** The last keyframe's tile slots: CHR banks rarely switch, so most keyframes share one array of them. */
  private lastPtTile: MachineSnapshot['ptTile'] | undefined;

  /** Encodes a snapshot as keyframe `id` (replacing one of that id); compression finishes in the background. */
  save(id: number, snap: MachineSnapshot, withScreen: boolean): void {
    this.drop(id);
    const pending = this.encode(snap, withScreen);
    pending.then((k) => {
      if (this.frames.get(id) === pending) this.storedBytes += sizeOf(k);
    }, () => undefined);
    this.frames.set(id, pending);
  }

  drop(id: number): void {
    const pending = this.frames.get(id);
    if (!pending) return;
    this.frames.delete(id);
    pending.then((k) => (this.storedBytes -= sizeOf(k)), () => undefined);
  }

  has(id: number): boolean {
    return this.frames.has(id);
  }

  /** Decodes keyframe `id` into a snapshot restorable by the machine that made it. */
  async load(id: number): Promise<{ snapshot: MachineSnapshot; withScreen: boolean }> {
    const pending = this.frames.get(id);
    if (!pending) throw new Error(`keyframe ${id} is not kept (thinned, or made before the last start)`);
    const k = await pending;
    const raw = inflateRawSync(k.packed);
    const blockAt = alignedBlockStart(k.skeletonLength);
    if (raw.length !== blockAt + k.blockLength) throw new Error(`keyframe ${id} is damaged: ${raw.length} bytes inflated, ${blockAt + k.blockLength} expected`);
    // The block is copied out to a fresh, 8-byte aligned buffer: restore views it as typed arrays in place.
    const block = raw.subarray(blockAt).slice();
    if (k.delta) xorInto(block, this.references.get(k.withScreen)!);
    const skeleton = deserialize(raw.subarray(0, k.skeletonLength)) as Record<string, unknown>;
    const rebuilt: Record<string, unknown> = {};
    for (const s of SECTIONS) rebuilt[s] = fill(skeleton[s], block);
    const snapshot = { ...rebuilt, owner: k.owner, frameCount: k.frameCount, lag: k.lag, ptTile: k.ptTile } as unknown as MachineSnapshot;
    return { snapshot, withScreen: k.withScreen };
  }

  /** Bytes held by finished keyframes, plus the reference block. */
  get bytes(): number {
    let refs = 0;
    for (const r of this.references.values()) refs += r.byteLength;
    return this.storedBytes + refs;
  }

  get count(): number {
    return this.frames.size;
  }

  clear(): void {
    this.frames.clear();
    this.references.clear();
    this.lastPtTile = undefined;
    this.storedBytes = 0;
  }

  private async encode(snap: MachineSnapshot, withScreen: boolean): Promise<StoredKeyframe> {
    const arrays: TypedArray[] = [];
    let offset = 0;
    const slotFor = (a: TypedArray, plain: boolean): Slot => {
      // 8-byte alignment so the block can be viewed as any typed array in place on restore.
      offset = (offset + 7) & ~7;
      const slot: Slot = plain ? { $slot: offset, type: 'Float64Array', length: a.length, plain: true } : { $slot: offset, type: a.constructor.name, length: a.length };
      offset += a.byteLength;
      arrays.push(a);
      return slot;
    };
    const skeleton: Record<string, unknown> = {};
    // A snapshot taken without the picture has none to leave out; one taken with it drops it here when not wanted.
    for (const s of SECTIONS) skeleton[s] = strip(s === 'ppu' && !withScreen ? withoutField(snap.ppu, 'buffer') : snap[s], slotFor);
    const skel = serialize(skeleton);
    // The skeleton and the block in one buffer (one deflate); the block starts 8-byte aligned for the word-wise XOR.
    const blockAt = alignedBlockStart(skel.length);
    const both = new Uint8Array(blockAt + offset);
    both.set(skel);
    const block = both.subarray(blockAt);
    let at = 0;
    for (const a of arrays) {
      at = (at + 7) & ~7;
      block.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
      at += a.byteLength;
    }
    // The first keyframe of a layout is its reference; a block of another length (a mapper resized something) is kept whole.
    let reference = this.references.get(withScreen);
    if (!reference) this.references.set(withScreen, (reference = block.slice()));
    const delta = block.length === reference.length;
    if (delta) xorInto(block, reference);
    const last = this.lastPtTile;
    const shared = !!last && last.length === snap.ptTile.length && last.every((t, i) => t === snap.ptTile[i]);
    const ptTile = shared ? last! : (this.lastPtTile = snap.ptTile);
    const packed = await deflateRawAsync(both, { level: 1 });
    return { packed, skeletonLength: skel.length, blockLength: block.length, delta, ptTile, ptTileShared: shared, owner: snap.owner, frameCount: snap.frameCount, lag: snap.lag, withScreen };
  }
}

/** Copies a snapshot section with its big arrays replaced by slots. */
function strip(v: unknown, slotFor: (a: TypedArray, plain: boolean) => Slot): unknown {
  if (ArrayBuffer.isView(v)) return slotFor(v as TypedArray, false);
  if (!Array.isArray(v)) return v;
  if (v.length >= PLAIN_MIN && v.every((x) => typeof x === 'number')) return slotFor(Float64Array.from(v as number[]), true);
  return v.map((x) => strip(x, slotFor));
}

/** A Fields list (alternating key, value) without one key: restore then leaves that field of the live machine alone. */
function withoutField(fields: readonly unknown[], key: string): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < fields.length; i += 2) if (fields[i] !== key) out.push(fields[i], fields[i + 1]);
  return out;
}

/** The inverse of strip: slots become fresh arrays copied out of the block. */
function fill(v: unknown, block: Uint8Array): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (isSlot(v)) {
    const Ctor = CTORS[v.type];
    if (!Ctor) throw new Error(`keyframe holds an array of unknown type ${v.type}`);
    const view = new Ctor(block.buffer as ArrayBuffer, block.byteOffset + v.$slot, v.length);
    return v.plain ? Array.from(view) : view.slice();
  }
  if (Array.isArray(v)) return v.map((x) => fill(x, block));
  return v;
}

function isSlot(v: object): v is Slot {
  return typeof (v as Slot).$slot === 'number';
}

function xorInto(block: Uint8Array, reference: Uint8Array): void {
  const n = Math.min(block.length, reference.length);
  // Word-wise where both are aligned (they always are: fresh buffers), bytes for the tail.
  const words = n >> 2;
  const a = new Uint32Array(block.buffer, block.byteOffset, words);
  const b = new Uint32Array(reference.buffer, reference.byteOffset, words);
  for (let i = 0; i < words; i++) a[i] ^= b[i];
  for (let i = words << 2; i < n; i++) block[i] ^= reference[i];
}

/** Where the block starts after a skeleton of `skeletonLength` bytes: 8-byte aligned. */
function alignedBlockStart(skeletonLength: number): number {
  return (skeletonLength + 7) & ~7;
}

function sizeOf(k: StoredKeyframe): number {
  return k.packed.byteLength + (k.ptTileShared ? 0 : k.ptTile.length * 8) + 128;
}
