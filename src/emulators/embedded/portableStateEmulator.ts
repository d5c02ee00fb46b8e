// The embedded emulator in process with portable machine states: snapshot sidecars of recordings and the divergence finder's replays use it.
//
// Why another embedded port: the worker-backed emulator keeps its states inside the worker (EmulatorPort hands out
// handles only), so a recorder cannot save them. Here jsnes runs on the caller's thread and a state can be turned into
// bytes (every data field of the machine, deflated) and restored into another instance of the same ROM.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { InProcessEmulator } from './inProcessEmulator';
import type { NesMachine, MachineSnapshot } from './nesMachine';
import type { JsnesTile } from './jsnesInternals';
import type { EmulatorFrame, StateExporter, StepOptions } from '../../core/ports';
import { WORK_RAM_SIZE } from '../../core/nes';

/** Names the byte layout below (jsnes 3 machine fields, deflated); a change of layout changes it. */
export const EMBEDDED_STATE_FORMAT = 'jsnes3-fields-deflate-v1';
const MAGIC = 0x4c534e31; // "LSN1"

export class PortableStateEmulator extends InProcessEmulator implements StateExporter {
  readonly stateFormat = EMBEDDED_STATE_FORMAT;

  async exportState(): Promise<Uint8Array> {
    return encodeMachineState(this.session.running().snapshot());
  }

  async importState(bytes: Uint8Array, options?: StepOptions): Promise<EmulatorFrame> {
    const m = this.session.running();
    m.restore(decodeMachineState(bytes, m));
    return this.current(options);
  }
}

// ---- the byte layout: a JSON tree of the machine's fields with typed arrays moved into one binary blob, deflated ----

type TypedArray = Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
const TYPED: Record<string, new (b: ArrayBuffer) => TypedArray> = {
  Uint8Array, Uint16Array, Uint32Array, Int8Array, Int16Array, Int32Array, Float32Array, Float64Array,
};
const PARTS = ['nes', 'cpu', 'ppu', 'nameTables', 'palTable', 'papu', 'channels', 'mmap', 'controllers'] as const;

/** A machine snapshot as bytes; the tile cache and the owner identity stay behind (they are rebuilt on decode). */
export function encodeMachineState(s: MachineSnapshot): Uint8Array {
  const blobs: Buffer[] = [];
  let offset = 0;
  const enc = (v: unknown): unknown => {
    if (v === undefined) return { $u: 1 };
    if (typeof v === 'number') {
      if (Number.isFinite(v) && !Object.is(v, -0)) return v;
      return { $n: Object.is(v, -0) ? '-0' : String(v) };
    }
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (ArrayBuffer.isView(v)) {
      const name = v.constructor.name;
      if (!(name in TYPED)) throw new Error(`machine state: cannot store a ${name}`);
      const bytes = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      blobs.push(bytes);
      const ref = { $t: name, o: offset, n: bytes.length };
      offset += bytes.length;
      return ref;
    }
    if (Array.isArray(v)) return v.map(enc);
    throw new Error(`machine state: unexpected ${typeof v} field`);
  };
  const tree: Record<string, unknown> = { frameCount: s.frameCount, lag: s.lag, tiles: s.ptTile.length };
  for (const p of PARTS) tree[p] = enc(s[p]);
  const json = Buffer.from(JSON.stringify(tree), 'utf8');
  const head = Buffer.alloc(8);
  head.writeUInt32BE(MAGIC, 0);
  head.writeUInt32BE(json.length, 4);
  return new Uint8Array(deflateRawSync(Buffer.concat([head, json, ...blobs]), { level: 1 }));
}

/** Decodes bytes from encodeMachineState into a snapshot `machine` accepts (its owner, fresh pattern tiles). */
export function decodeMachineState(bytes: Uint8Array, machine: NesMachine): MachineSnapshot {
  const { tree, blob } = unpack(bytes);
  const live = machine.snapshot();
  const dec = decoder(blob);
  const tiles = tree.tiles;
  if (!Number.isSafeInteger(tiles) || tiles !== live.ptTile.length) {
    throw new Error(`machine state has ${String(tiles)} pattern tiles, this machine ${live.ptTile.length} (another ROM or emulator version)`);
  }
  // Fresh tiles, re-derived from the restored pattern tables on restore: the live slots may point at another CHR bank's tiles.
  const TileCtor = (live.ptTile[0] as object).constructor as new () => JsnesTile;
  const ptTile = live.ptTile.map(() => new TileCtor());
  const part = (p: (typeof PARTS)[number]) => dec(tree[p]);
  return {
    owner: live.owner,
    frameCount: tree.frameCount as number,
    lag: tree.lag as boolean,
    nes: part('nes') as MachineSnapshot['nes'],
    cpu: part('cpu') as MachineSnapshot['cpu'],
    ppu: part('ppu') as MachineSnapshot['ppu'],
    nameTables: part('nameTables') as MachineSnapshot['nameTables'],
    palTable: part('palTable') as MachineSnapshot['palTable'],
    ptTile,
    papu: part('papu') as MachineSnapshot['papu'],
    channels: part('channels') as MachineSnapshot['channels'],
    mmap: part('mmap') as MachineSnapshot['mmap'],
    controllers: part('controllers') as MachineSnapshot['controllers'],
  };
}

/** The 2 KB work RAM inside an encoded state, without restoring it anywhere (bisect probes compare these). */
export function ramOfMachineState(bytes: Uint8Array): Uint8Array {
  const { tree, blob } = unpack(bytes);
  const cpu = tree.cpu;
  if (Array.isArray(cpu)) {
    for (let i = 0; i + 1 < cpu.length; i += 2) {
      if (cpu[i] === 'mem') {
        const mem = decoder(blob)(cpu[i + 1]);
        if (mem instanceof Uint8Array && mem.length >= WORK_RAM_SIZE) return mem.slice(0, WORK_RAM_SIZE);
      }
    }
  }
  throw new Error('machine state holds no CPU memory');
}

function unpack(bytes: Uint8Array): { tree: Record<string, unknown>; blob: Buffer } {
  let raw: Buffer;
  try {
    raw = inflateRawSync(bytes);
  } catch (e) {
    throw new Error(`machine state is not readable (${(e as Error).message})`);
  }
  if (raw.length < 8 || raw.readUInt32BE(0) !== MAGIC) throw new Error(`machine state is not in the ${EMBEDDED_STATE_FORMAT} layout`);
  const len = raw.readUInt32BE(4);
  if (8 + len > raw.length) throw new Error('machine state is truncated');
  const tree = JSON.parse(raw.toString('utf8', 8, 8 + len)) as Record<string, unknown>;
  return { tree, blob: raw.subarray(8 + len) };
}

function decoder(blob: Buffer): (v: unknown) => unknown {
  const dec = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(dec);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.$u === 1) return undefined;
      if (typeof o.$n === 'string') return o.$n === '-0' ? -0 : Number(o.$n);
      if (typeof o.$t === 'string') {
        const Ctor = TYPED[o.$t];
        const at = o.o as number;
        const n = o.n as number;
        if (!Ctor || !Number.isSafeInteger(at) || !Number.isSafeInteger(n) || at < 0 || at + n > blob.length) throw new Error('machine state: bad array reference');
        // A fresh, aligned buffer: a Uint16Array cannot start at an odd offset of the blob.
        const copy = new Uint8Array(n);
        copy.set(blob.subarray(at, at + n));
        return new Ctor(copy.buffer);
      }
      throw new Error('machine state: unexpected object');
    }
    return v;
  };
  return dec;
}
