// The session history's keyframes for jsnes, kept in the worker: machine snapshots flattened, XOR-delta coded and deflated.
//
// A MachineSnapshot is ~450 KB of typed arrays (64 KB CPU address space, PPU VRAM and mirror table, the picture) and
// ~600 scalars. Keyframes are taken every few dozen frames for a whole session, so each is flattened into one byte
// block (every typed array and numeric plain array at a fixed offset) plus a small skeleton for the rest. The block is
// XORed with the session's first keyframe (an episode start: ROM banks, lookup tables and most of VRAM never change,
// so they become zeros) and deflated at level 1.
//
// All of it happens at once, on this thread, from the machine's own arrays (a live capture) into one scratch buffer
// reused by every keyframe, with a synchronous deflate whose zlib state is freed when it returns: the asynchronous
// deflate it replaces cost about as much in callbacks, and each keyframe then left ~600 KB of snapshot copies, input
// block and zlib state for the garbage collector, whose mark-compacts (every second or so, some 20 ms long) landed on
// frames and restores alike. A keyframe now leaves only its packed bytes, copied out at their exact size.
import { deserialize, serialize } from 'node:v8';
import { constants as zlibConstants, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { MachineSnapshot } from './machineSnapshot';

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
   * bytes), then the block (XORed with the reference block when `delta`) as its non-zero pages only: a bitmap of which
   * PAGE-byte pages follow, then those pages. One deflate, not one each: every deflate sets up a zlib stream (its
   * window and hash tables), which cost about as much as the rest of the encode; and zero pages left out before it,
   * because deflating the ~170 KB block, nearly all zeros, was the largest part of a keyframe.
   */
  packed: Uint8Array;
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

/**
 * Ticks between keyframes the embedded emulator suggests to the session history. Replayed frames are nearly all of a
 * restore's time (which must stay within 50 ms): every 24 ticks a restore replays at most 23 frames after one keyframe
 * decode. A keyframe costs about half a frame of emulation on the worker's thread (profiled amid frames: 3.3 % of the
 * worker's time every 16 ticks), within the 5 % the history may add to a frame together with its bookkeeping on the
 * main thread. On a quiet machine (2026-12-06, one-hour bench) every 24 gave restore p99 40 ms and every 20 gave 55 ms
 * with more per-frame cost, both within the rounds' noise: 24, with fewer keyframes, is kept.
 */
export const EMBEDDED_KEYFRAME_EVERY = 24;

/** Deflate settings: level 1, and a smaller hash table than the default (what is left of a block is a few KB). */
const DEFLATE = { level: 1, memLevel: 7, windowBits: 13, strategy: zlibConstants.Z_DEFAULT_STRATEGY };
/** Bytes of a block page, the unit zero runs are left out in (a multiple of 8, for the word-wise checks). */
const PAGE = 128;

export class KeyframeStore {
  private readonly frames = new Map<number, StoredKeyframe>();
  /** Where each keyframe's skeleton and block are assembled (grown as needed, never shrunk). */
  private scratch = new Uint8Array(0);
  /** Where the skeleton, page bitmap and non-zero pages are gathered for the deflate. */
  private gathered = new Uint8Array(0);
  /** Raw block of the first keyframe of each layout (with and without the picture): what later blocks are XORed with. */
  private readonly references = new Map<boolean, Uint8Array>();
  private storedBytes = 0;
  /** The last keyframe's tile slots: CHR banks rarely switch, so most keyframes share one array of them. */
  private lastPtTile: MachineSnapshot['ptTile'] | undefined;

  /**
   * Encodes a snapshot as keyframe `id` (replacing one of that id) before returning: the snapshot may be a live
   * capture (the machine's own arrays), which the next frame would change.
   */
  save(id: number, snap: MachineSnapshot, withScreen: boolean): void {
    this.drop(id);
    const k = this.encode(snap, withScreen);
    this.frames.set(id, k);
    this.storedBytes += sizeOf(k);
  }

  drop(id: number): void {
    const k = this.frames.get(id);
    if (!k) return;
    this.frames.delete(id);
    this.storedBytes -= sizeOf(k);
  }

  has(id: number): boolean {
    return this.frames.has(id);
  }

  /**
   * Decodes keyframe `id` into a snapshot restorable by the machine that made it. `once`: the snapshot is restored
   * at once and never kept, so its arrays may be views into the inflated block rather than copies of it.
   */
  async load(id: number, once = false): Promise<{ snapshot: MachineSnapshot; withScreen: boolean }> {
    const k = this.frames.get(id);
    if (!k) throw new Error(`keyframe ${id} is not kept (thinned, or made before the last start)`);
    const raw = inflateRawSync(k.packed);
    // A fresh, zeroed block (8-byte aligned: restore views it as typed arrays in place) with the kept pages put back.
    const block = new Uint8Array(k.blockLength);
    if (!scatterPages(raw, k.skeletonLength, block)) throw new Error(`keyframe ${id} is damaged: ${raw.length} bytes inflated do not hold its pages`);
    if (k.delta) xorInto(block, this.references.get(k.withScreen)!);
    const skeleton = deserialize(raw.subarray(0, k.skeletonLength)) as Record<string, unknown>;
    const rebuilt: Record<string, unknown> = {};
    for (const s of SECTIONS) rebuilt[s] = fill(skeleton[s], block, once);
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

  /**
   * The skeleton, then the page bitmap, then the non-zero pages of `block` XOR `reference` (of `block` itself without
   * one), in the gathering buffer (a view of it). The XOR and the zero check are one pass, page by page.
   */
  private gather(skel: Uint8Array, block: Uint8Array, reference: Uint8Array | undefined): Uint8Array {
    const pages = Math.ceil(block.length / PAGE);
    const bitmapAt = skel.length;
    const pagesAt = bitmapAt + Math.ceil(pages / 8);
    const most = pagesAt + block.length;
    if (this.gathered.length < most) this.gathered = new Uint8Array(Math.ceil(most * 1.25));
    const out = this.gathered;
    out.set(skel);
    out.fill(0, bitmapAt, pagesAt);
    const ref = reference ?? new Uint8Array(block.length);
    const fullWords = block.length >> 2;
    const words = new Uint32Array(block.buffer, block.byteOffset, fullWords);
    const refWords = new Uint32Array(ref.buffer, ref.byteOffset, fullWords);
    let at = pagesAt;
    for (let p = 0; p < pages; p++) {
      const start = p * PAGE;
      const end = Math.min(block.length, start + PAGE);
      let differs = false;
      for (let w = start >> 2, wEnd = Math.min(fullWords, end >> 2); w < wEnd; w++) {
        if (words[w] !== refWords[w]) {
          differs = true;
          break;
        }
      }
      for (let b = Math.max(start, fullWords << 2); !differs && b < end; b++) differs = block[b] !== ref[b];
      if (!differs) continue;
      out[bitmapAt + (p >> 3)] |= 1 << (p & 7);
      for (let b = start; b < end; b++) out[at++] = block[b] ^ ref[b];
    }
    return out.subarray(0, at);
  }

  /** The scratch buffer, at least `n` bytes long, as a view of exactly `n` (8-byte aligned: offset 0 of its own buffer). */
  private scratchOf(n: number): Uint8Array {
    if (this.scratch.length < n) this.scratch = new Uint8Array(Math.ceil(n * 1.25));
    return this.scratch.subarray(0, n);
  }

  private encode(snap: MachineSnapshot, withScreen: boolean): StoredKeyframe {
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
    const both = this.scratchOf(blockAt + offset);
    both.set(skel);
    both.fill(0, skel.length, blockAt);
    const block = both.subarray(blockAt);
    let at = 0;
    for (const a of arrays) {
      const start = (at + 7) & ~7;
      if (start > at) block.fill(0, at, start);
      block.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), start);
      at = start + a.byteLength;
    }
    // The first keyframe of a layout is its reference; a block of another length (a mapper resized something) is kept whole.
    let reference = this.references.get(withScreen);
    if (!reference) this.references.set(withScreen, (reference = block.slice()));
    const delta = block.length === reference.length;
    const last = this.lastPtTile;
    const shared = !!last && last.length === snap.ptTile.length && last.every((t, i) => t === snap.ptTile[i]);
    const ptTile = shared ? last! : (this.lastPtTile = snap.ptTile);
    // Copied out to a buffer of its own at its exact size: zlib's result views a 16 KB chunk, which would otherwise be
    // kept with it (and a small Buffer.from would share an 8 KB pool slab).
    const deflated = deflateRawSync(this.gather(skel, block, delta ? reference : undefined), DEFLATE);
    const packed = new Uint8Array(deflated.length);
    packed.set(deflated);
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

/** The inverse of strip: slots become arrays copied out of the block (views into it when `views`). */
function fill(v: unknown, block: Uint8Array, views: boolean): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (isSlot(v)) {
    const Ctor = CTORS[v.type];
    if (!Ctor) throw new Error(`keyframe holds an array of unknown type ${v.type}`);
    const view = new Ctor(block.buffer as ArrayBuffer, block.byteOffset + v.$slot, v.length);
    return v.plain ? Array.from(view) : views ? view : view.slice();
  }
  if (Array.isArray(v)) return v.map((x) => fill(x, block, views));
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

/** The inverse of gather: the pages after the skeleton and bitmap in `raw` copied to their places in `block`; false when they do not add up. */
function scatterPages(raw: Uint8Array, skeletonLength: number, block: Uint8Array): boolean {
  const pages = Math.ceil(block.length / PAGE);
  const bitmapAt = skeletonLength;
  let at = bitmapAt + Math.ceil(pages / 8);
  for (let p = 0; p < pages; p++) {
    if ((raw[bitmapAt + (p >> 3)] & (1 << (p & 7))) === 0) continue;
    const start = p * PAGE;
    const n = Math.min(block.length, start + PAGE) - start;
    if (at + n > raw.length) return false;
    block.set(raw.subarray(at, at + n), start);
    at += n;
  }
  return at === raw.length;
}

/** Where the block starts after a skeleton of `skeletonLength` bytes: 8-byte aligned. */
function alignedBlockStart(skeletonLength: number): number {
  return (skeletonLength + 7) & ~7;
}

function sizeOf(k: StoredKeyframe): number {
  return k.packed.byteLength + (k.ptTileShared ? 0 : k.ptTile.length * 8) + 128;
}
