// NES machine constants, defined once: the screen every emulator hands out and the work RAM every frame carries.

/** Screen width and height in pixels (RGBA screens are NES_WIDTH * NES_HEIGHT * 4 bytes). */
export const NES_WIDTH = 256;
export const NES_HEIGHT = 240;
/** Size of the 2 KB work RAM $0000-$07FF. */
export const WORK_RAM_SIZE = 0x800;
/** Cartridge PRG-RAM $6000-$7FFF (battery saves, and where many MMC1/MMC3 games keep their state). */
export const PRG_RAM_START = 0x6000;
export const PRG_RAM_SIZE = 0x2000;
/** PPU nametables $2000-$2FFF as the PPU reads them (through the cartridge's mirroring). */
export const NAMETABLES_START = 0x2000;
export const NAMETABLES_SIZE = 0x1000;
/** PPU palette RAM $3F00-$3F1F (6-bit colour indices). */
export const PALETTE_START = 0x3f00;
export const PALETTE_SIZE = 0x20;
/** PPU object attribute memory (sprite RAM): 64 sprites of 4 bytes (y, tile, attributes, x), its own address space. */
export const OAM_SIZE = 0x100;
