// The 2 KB work RAM as DAP memory: which bytes a read returns and which a write may change.
import { hexAddress } from './breakpoints';
import { WORK_RAM_SIZE as RAM_BYTES } from '../core/nes';

/** A readMemory answer: the hex view asks around an address, possibly before $0000 or past $07FF; what exists comes from its real address. */
export function readRamWindow(ram: Uint8Array, start: number, count: number): { address: string; data: string; unreadableBytes: number } {
  return readMemoryWindow(ram.subarray(0, RAM_BYTES), 0, start, count);
}

/** The same for any region (`bytes` from address `base` on: PRG-RAM, nametables, palette). */
export function readMemoryWindow(bytes: Uint8Array, base: number, start: number, count: number): { address: string; data: string; unreadableBytes: number } {
  const end = start + Math.max(0, count);
  const hi = base + bytes.length;
  const from = Math.min(hi, Math.max(base, start));
  const to = Math.min(hi, Math.max(from, end));
  return {
    address: `0x${from.toString(16).padStart(4, '0')}`,
    data: Buffer.from(bytes.subarray(from - base, to - base)).toString('base64'),
    unreadableBytes: Math.max(0, end - Math.max(to, start)),
  };
}

/** The bytes of a writeMemory that land in work RAM; throws when the write starts outside it or runs past it without allowPartial. */
export function ramWriteBytes(start: number, data: Uint8Array, allowPartial: boolean): Uint8Array {
  let bytes = data;
  if (start < 0 || start >= RAM_BYTES) throw new Error(`address 0x${start.toString(16)} is outside work RAM $0000-$07FF`);
  if (start + bytes.length > RAM_BYTES) {
    if (!allowPartial) throw new Error(`${bytes.length} bytes at ${hexAddress(start)} run past the end of work RAM ($07FF)`);
    bytes = bytes.subarray(0, RAM_BYTES - start);
  }
  return new Uint8Array(bytes);
}
