// One jsnes console in the current thread: run a frame with buttons held, read RAM and screen, save and restore state.
import { isButtonMask, type ButtonPair } from '../../core/buttons';
import { NAMETABLES_SIZE, NAMETABLES_START, NES_HEIGHT, NES_WIDTH, OAM_SIZE, PALETTE_SIZE, PALETTE_START, PRG_RAM_SIZE, PRG_RAM_START, WORK_RAM_SIZE } from '../../core/nes';
import type { CpuRegisters } from '../../core/ports';
import type { JsnesConstructor, JsnesNes } from './jsnesInternals';
import { captureMachine, restoreMachine, type MachineSnapshot } from './machineSnapshot';

export type { MachineSnapshot } from './machineSnapshot';

const PRESSED = 0x41;

/**
 * FCEUX 2.6.5 runs two frames after power-on with the PPU "dead": the CPU runs a frame's worth of cycles each and no
 * vblank comes, so the first vblank (and NMI) starts frame 3. jsnes starts just after a vblank and its first frame()
 * ends at the next one. Both frames are a frame's worth of CPU cycles long; suppressing the vblank at the end of the
 * first one makes the game see its first vblank at the same frame on both, so frame ids and states line up from
 * power-on (measured: before this, FCEUX at frame k + 1 equalled jsnes at frame k).
 */
const FCEUX_DEAD_FRAME_WITH_VBLANK_IN_JSNES = 0;

/**
 * Work RAM at power-on as FCEUX 2.6.5 fills it by default (read from Lua before the game's first instruction on a
 * fresh configuration): four 0x00 bytes, four 0xFF bytes, repeated. jsnes fills 0xFF with a few other bytes; a game
 * that reads RAM before writing it would otherwise start differently on the two emulators.
 */
export function fillPowerOnRam(mem: Uint8Array): void {
  for (let a = 0; a < WORK_RAM_SIZE; a++) mem[a] = a & 4 ? 0xff : 0x00;
}

export class NesMachine {
  private nes: JsnesNes;
  private frames = 0;
  private lagged = false;
  private polled = false;
  /** Identity for this machine's snapshots (a snapshot from another machine has another ROM or layout). */
  private readonly owner = {};

  private constructor(
    private readonly NES: JsnesConstructor,
    private readonly romBytes: Uint8Array,
  ) {
    this.nes = this.powerOn();
  }

  /** Loads jsnes (ESM-only, so imported dynamically; esbuild bundles it) and powers on a console with this ROM. */
  static async create(romBytes: Uint8Array): Promise<NesMachine> {
    const jsnes = (await import('jsnes')) as unknown as { NES: JsnesConstructor };
    return new NesMachine(jsnes.NES, romBytes.slice());
  }

  /** Frames run since power-on (or the restored snapshot's count), numbered like FCEUX's emu.framecount(). */
  get frameCount(): number {
    return this.frames;
  }

  /** True when the last frame never read the controllers ($4016/$4017), like FCEUX's lag flag. */
  get lag(): boolean {
    return this.lagged;
  }

  /** Runs one frame with these buttons held on controllers 1 and 2 (masks of BUTTON bits). */
  frame(buttons: ButtonPair): void {
    for (let c = 0; c < 2; c++) {
      if (!isButtonMask(buttons[c])) {
        throw new Error(`buttons[${c}] must be an integer mask 0-255, got ${JSON.stringify(buttons[c])}`);
      }
    }
    const nes = this.nes;
    this.hold(1, buttons[0]);
    this.hold(2, buttons[1]);
    this.polled = false;
    if (this.frames === FCEUX_DEAD_FRAME_WITH_VBLANK_IN_JSNES) nes.ppu.nmiSuppressed = true;
    try {
      nes.frame();
    } catch (err) {
      throw new Error(`jsnes stopped at frame ${this.frames}: ${(err as Error).message} (reset or load a snapshot to go on)`);
    }
    this.lagged = !this.polled;
    this.frames++;
  }

  /** Copy of the 2 KB work RAM. */
  ram(): Uint8Array {
    return this.nes.cpu.mem.slice(0, WORK_RAM_SIZE);
  }

  /** The CPU's registers now (between frames). */
  registers(): CpuRegisters {
    const cpu = this.nes.cpu;
    return { a: cpu.REG_ACC & 0xff, x: cpu.REG_X & 0xff, y: cpu.REG_Y & 0xff, p: cpu.getStatus() & 0xff, sp: cpu.REG_SP & 0xff, pc: cpu.REG_PC & 0xffff };
  }

  /** Copy of $6000-$7FFF: jsnes's mappers keep PRG-RAM in the CPU address space itself. */
  prgRam(): Uint8Array {
    return this.nes.cpu.mem.slice(PRG_RAM_START, PRG_RAM_START + PRG_RAM_SIZE);
  }

  /** PPU $2000-$2FFF through the mirroring, as the PPU reads it. */
  nametables(): Uint8Array {
    const ppu = this.nes.ppu;
    const out = new Uint8Array(NAMETABLES_SIZE);
    for (let i = 0; i < NAMETABLES_SIZE; i++) out[i] = ppu.vramMem[ppu.vramMirrorTable[NAMETABLES_START + i]];
    return out;
  }

  /** PPU $3F00-$3F1F as $2007 reads it: the sprite backdrop entries mirror the background ones, 6 bits each. */
  palette(): Uint8Array {
    const out = new Uint8Array(PALETTE_SIZE);
    for (let i = 0; i < PALETTE_SIZE; i++) out[i] = this.nes.ppu.vramMem[PALETTE_START + ((i & 0x13) === 0x10 ? i & 0x0f : i)] & 0x3f;
    return out;
  }

  /** Copy of OAM (sprite RAM), 256 bytes. */
  oam(): Uint8Array {
    return this.nes.ppu.spriteMem.slice(0, OAM_SIZE);
  }

  writeRam(address: number, bytes: Uint8Array): void {
    if (!Number.isInteger(address) || address < 0 || address + bytes.length > WORK_RAM_SIZE) {
      throw new Error(
        `writeRam: ${bytes.length} byte(s) at address ${address} fall outside work RAM $0000-$07FF`,
      );
    }
    this.nes.cpu.mem.set(bytes, address);
  }

  /** The current picture as RGBA (256x240x4), converted from jsnes's 0x00BBGGRR pixels. */
  screenRgba(): Uint8Array {
    const src = this.nes.ppu.buffer;
    const out = new Uint8Array(NES_WIDTH * NES_HEIGHT * 4);
    const words = new Uint32Array(out.buffer);
    // On a little-endian host a word 0xAABBGGRR is laid out R,G,B,A in memory: just set alpha.
    if (LITTLE_ENDIAN) {
      for (let i = 0; i < src.length; i++) words[i] = src[i] | 0xff000000;
    } else {
      for (let i = 0, o = 0; i < src.length; i++, o += 4) {
        const p = src[i];
        out[o] = p & 0xff;
        out[o + 1] = (p >> 8) & 0xff;
        out[o + 2] = (p >> 16) & 0xff;
        out[o + 3] = 0xff;
      }
    }
    return out;
  }

  /** `withoutPicture`, `live`: see captureMachine (history keyframes taken between screens, encoded at once). */
  snapshot(withoutPicture = false, live = false): MachineSnapshot {
    return captureMachine(this.nes, { owner: this.owner, frameCount: this.frames, lag: this.lagged }, withoutPicture, live);
  }

  restore(s: MachineSnapshot): void {
    if (s.owner !== this.owner) throw new Error('this snapshot was made by another emulator instance');
    restoreMachine(this.nes, s);
    this.frames = s.frameCount;
    this.lagged = s.lag;
  }

  /** Power-cycles: a brand-new console with the same ROM, frame count 0. Snapshots stay valid. */
  reset(): void {
    this.nes = this.powerOn();
    this.frames = 0;
    this.lagged = false;
  }

  private powerOn(): JsnesNes {
    const nes = new this.NES({ emulateSound: false, onAudioSample: null });
    try {
      nes.loadROM(this.romBytes);
    } catch (err) {
      throw new Error(`jsnes cannot load this ROM: ${(err as Error).message}`);
    }
    nes.ppu.clipToTvSize = false;
    fillPowerOnRam(nes.cpu.mem);
    this.watchControllerReads(nes);
    return nes;
  }

  /** Wraps this mapper instance's controller reads to learn whether a frame polled input (lag detection). */
  private watchControllerReads(nes: JsnesNes): void {
    const mmap = nes.mmap;
    if (!mmap) return;
    const read1 = mmap.joy1Read;
    const read2 = mmap.joy2Read;
    mmap.joy1Read = () => {
      this.polled = true;
      return read1.call(mmap);
    };
    mmap.joy2Read = () => {
      this.polled = true;
      return read2.call(mmap);
    };
  }

  private hold(controller: 1 | 2, mask: number): void {
    const state = this.nes.controllers[controller].state;
    for (let b = 0; b < 8; b++) {
      const want = (mask >> b) & 1;
      if (want === (state[b] === PRESSED ? 1 : 0)) continue;
      // jsnes numbers buttons A,B,SELECT,START,UP,DOWN,LEFT,RIGHT = 0..7, the same order as our mask bits.
      if (want) this.nes.buttonDown(controller, b);
      else this.nes.buttonUp(controller, b);
    }
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
