// The parts of jsnes 3.0.0's internals Lockstep touches (its .d.ts omits cpu, ppu, papu and the mapper), read from its source.

export interface JsnesTile {
  setScanline(line: number, low: number, high: number): void;
}

export interface JsnesCpu {
  /** Whole CPU address space; $0000-$07FF is work RAM, $6000-$FFFF cartridge RAM/PRG copied in by the mapper. */
  mem: Uint8Array;
  REG_ACC: number;
  REG_X: number;
  REG_Y: number;
  /** 8-bit; the stack is at $0100 | REG_SP. */
  REG_SP: number;
  /** The real program counter (jsnes 3 keeps no off-by-one). */
  REG_PC: number;
  /** The status byte NV-BDIZC from jsnes's unpacked flags (its F_ZERO holds the last result, not a boolean). */
  getStatus(): number;
}

export interface JsnesPpu {
  /** PPU address space; $0000-$1FFF pattern tables (CHR), $2000-$2FFF nametables, $3F00 palette. */
  vramMem: Uint8Array;
  /** OAM, the 256-byte sprite RAM ($2003/$2004 and $4014 DMA write it). */
  spriteMem: Uint8Array;
  /** Where each PPU address is stored in vramMem (nametable and palette mirroring). */
  vramMirrorTable: Uint16Array;
  /** The picture, 256x240 pixels as 0x00BBGGRR, overwritten while the next frame renders. */
  buffer: Uint32Array;
  /** Decoded pattern tiles, shared with the mapper's CHR banks; derived from vramMem[0..0x1FFF]. */
  ptTile: JsnesTile[];
  /** Per-nametable decoded tiles/attributes, used by MMC5. */
  nameTable: object[];
  palTable: object;
  /** When true jsnes blanks the 8-pixel border a TV would hide; Lockstep shows the whole picture. */
  clipToTvSize: boolean;
  /** When true the next vblank sets no flag and raises no NMI (jsnes clears it at that vblank). */
  nmiSuppressed: boolean;
}

export interface JsnesPapu {
  square1: object;
  square2: object;
  triangle: object;
  noise: object;
  dmc: object;
}

export interface JsnesMapper {
  joy1Read(): number;
  joy2Read(): number;
}

export interface JsnesController {
  /** One entry per button in jsnes order (A, B, SELECT, START, UP, DOWN, LEFT, RIGHT): 0x41 held, 0x40 released. */
  state: number[];
}

export interface JsnesNes {
  cpu: JsnesCpu;
  ppu: JsnesPpu;
  papu: JsnesPapu;
  mmap: JsnesMapper | null;
  controllers: { 1: JsnesController; 2: JsnesController };
  crashed?: boolean;
  loadROM(data: Uint8Array): void;
  frame(): void;
  buttonDown(controller: 1 | 2, button: number): void;
  buttonUp(controller: 1 | 2, button: number): void;
}

export interface JsnesOptions {
  onFrame?: (buffer: Uint32Array) => void;
  onAudioSample?: ((left: number, right: number) => void) | null;
  emulateSound?: boolean;
}

export type JsnesConstructor = new (options: JsnesOptions) => JsnesNes;
