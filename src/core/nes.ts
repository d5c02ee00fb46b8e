// NES machine constants, defined once: the screen every emulator hands out and the work RAM every frame carries.

/** Screen width and height in pixels (RGBA screens are NES_WIDTH * NES_HEIGHT * 4 bytes). */
export const NES_WIDTH = 256;
export const NES_HEIGHT = 240;
/** Size of the 2 KB work RAM $0000-$07FF. */
export const WORK_RAM_SIZE = 0x800;
