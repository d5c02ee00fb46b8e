// The one interface every emulator backend (embedded jsnes worker, real FCEUX) implements.
import type { ButtonPair } from '../core/buttons';

export const NES_WIDTH = 256;
export const NES_HEIGHT = 240;
export const RAM_SIZE = 0x800;

export interface RomInfo {
  /** File name (no folder) the ROM was loaded from, or a label. */
  name: string;
  /** Hex MD5 of the whole file, and of the ROM without its 16-byte iNES header (what FM2 romChecksum uses). */
  md5: string;
  md5NoHeader: string;
  mapper: number;
  prgBanks: number;
  chrBanks: number;
}

/**
 * What the emulator shows at the start of a frame: the machine after frame-1 ran, before `frame` runs.
 * An agent acting on this observation supplies the buttons for `frame`.
 */
export interface EmulatorFrame {
  /** Frame id (FCEUX: emu.framecount(); embedded: frames run since power-on or the last snapshot's id). */
  frame: number;
  /** Wall clock in ms (epoch-based, fractional) when the emulator produced this state. */
  timestamp: number;
  /** Copy of the 2 KB work RAM ($0000-$07FF). */
  ram: Uint8Array;
  /** Copy of the screen as RGBA, 256x240x4 bytes, when screens were asked for. */
  screen?: Uint8Array;
  /** True when the previous frame did not poll the controllers (FCEUX lag flag). */
  lag: boolean;
}

/**
 * Whether the frame carries a screen, without reading it: an emulator may hand out a screen that is converted only
 * when first read (FceuxEmulator does), and a caller that only stores the frame should not pay for that.
 */
export function hasScreen(f: EmulatorFrame): boolean {
  const d = Object.getOwnPropertyDescriptor(f, 'screen');
  if (!d) return false;
  return d.get !== undefined || d.value !== undefined;
}

export interface StepOptions {
  /** Capture the screen for the returned frame. */
  screen?: boolean;
}

/** Opaque handle to a saved machine state; only valid for the port that made it. */
export interface SnapshotHandle {
  readonly id: number;
  readonly frame: number;
}

export type EmulatorEvent =
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'exit'; code: number | null; reason: string };

export interface EmulatorPort {
  readonly kind: 'embedded' | 'fceux';
  /** Starts the emulator with a ROM file and returns the first observable frame. Rejects with a clear error for a bad ROM. */
  start(romPath: string, options?: StepOptions): Promise<{ rom: RomInfo; first: EmulatorFrame }>;
  /** Runs the current frame with these buttons held on both controllers and returns the next frame's state. */
  step(buttons: ButtonPair, options?: StepOptions): Promise<EmulatorFrame>;
  /** The current frame's state again (resync), without advancing. */
  current(options?: StepOptions): Promise<EmulatorFrame>;
  writeRam(address: number, bytes: Uint8Array): Promise<void>;
  saveSnapshot(): Promise<SnapshotHandle>;
  /** Restores a snapshot: RAM, screen, frame id all return to it. Returns the restored frame's state. */
  loadSnapshot(handle: SnapshotHandle, options?: StepOptions): Promise<EmulatorFrame>;
  /** Forgets a snapshot so its memory can be reclaimed. */
  dropSnapshot(handle: SnapshotHandle): void;
  /** Power-cycle the console (new episode from a clean machine). */
  reset(options?: StepOptions): Promise<EmulatorFrame>;
  onEvent(listener: (e: EmulatorEvent) => void): () => void;
  /** Ends the emulator for good (kills processes, stops workers). Idempotent. */
  close(): Promise<void>;
}
