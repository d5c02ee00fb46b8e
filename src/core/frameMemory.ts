// The memory one frame carries: the 2 KB work RAM always, the cartridge's PRG-RAM $6000-$7FFF when the session watches it.
import { PRG_RAM_SIZE, PRG_RAM_START, WORK_RAM_SIZE } from './nes';

export interface FrameMemory {
  /** $0000-$07FF. */
  ram: Uint8Array;
  /** $6000-$7FFF (8 KB), present only when the emulator was asked to carry it (a RAM map names a variable there). */
  prgRam?: Uint8Array;
}

/** Which part of the CPU's memory an address is in, for the addresses Lockstep can read per frame. */
export function memoryArea(address: number, size = 1): 'ram' | 'prgRam' | undefined {
  if (!Number.isInteger(address) || address < 0) return undefined;
  if (address + size <= WORK_RAM_SIZE) return 'ram';
  if (address >= PRG_RAM_START && address + size <= PRG_RAM_START + PRG_RAM_SIZE) return 'prgRam';
  return undefined;
}

/** The memory as a plain work-RAM array was given (older callers hand over just the 2 KB). */
export function asFrameMemory(m: Uint8Array | FrameMemory): FrameMemory {
  return m instanceof Uint8Array ? { ram: m } : m;
}

/** One byte, or undefined when the frame does not carry that part of memory. */
export function byteAt(m: FrameMemory, address: number): number | undefined {
  if (address >= 0 && address < WORK_RAM_SIZE) return m.ram[address];
  if (address >= PRG_RAM_START && address < PRG_RAM_START + PRG_RAM_SIZE) return m.prgRam?.[address - PRG_RAM_START];
  return undefined;
}
