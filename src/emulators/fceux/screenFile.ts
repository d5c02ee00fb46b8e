// The private file lockstep.lua writes each frame's screen to instead of sending it over the socket (welcome.screenFile).
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GD_HEADER_BYTES, SCREEN_HEADER_BYTES, decodeScreenFrame, type ScreenFrame } from '../../bridge/screenFrame';
import { NES_HEIGHT, NES_WIDTH } from '../../core/nes';

/** Linux's RAM-backed folder: a file rewritten every frame there never waits for disk writeback. */
const SHM = '/dev/shm';

function makePrivateDir(parent: string | undefined): string {
  if (parent === undefined && process.platform === 'linux') {
    try {
      return mkdtempSync(join(SHM, 'lockstep-screens-'));
    } catch {
      // No /dev/shm (some containers): the temp folder works too.
    }
  }
  return mkdtempSync(join(parent ?? tmpdir(), 'lockstep-screens-'));
}

/** An "LSSC" frame holding a 256x240 gd screenshot: the most the file ever holds. */
const CAPACITY = SCREEN_HEADER_BYTES + GD_HEADER_BYTES + NES_WIDTH * NES_HEIGHT * 4;

/**
 * Why a file: LuaSocket writes in 8 KB steps, so a 246 KB screen costs FCEUX ~30 socket writes per frame and the bridge
 * a quarter megabyte of fresh buffers; the file costs one write in Lua and one read into a reused buffer here. The
 * script writes it only for states answering an action, and the bridge sends the next action only after it has read
 * the file for the previous state, so a read never meets a half-written screen.
 */
export class ScreenFile {
  readonly path: string;
  private readonly dir: string;
  private fd?: number;
  private buf: Buffer;
  /** Where reads start inside `buf`, chosen so the GD pixels land 4-byte aligned (gdToRgba's fastest path). */
  private at: number;
  /** A Node process that exits without dispose() still removes the folder. */
  private readonly exitHook = () => rmSync(this.dir, { recursive: true, force: true });
  private readonly hooked: boolean;

  /**
   * Creates an empty file in a new private folder: in memory (/dev/shm) on Linux, else under `parent` or the OS temp
   * folder. removeOnExit false: the owner calls dispose() from its own process-exit handling.
   */
  constructor(session: string, options: { parent?: string; removeOnExit?: boolean } = {}) {
    const parent = options.parent;
    if (!/^[A-Za-z0-9]+$/.test(session)) throw new Error(`screen file session id must be letters and digits, got ${JSON.stringify(session)}`);
    this.dir = makePrivateDir(parent);
    // lockstep.lua only writes to files named like this, and only to ones that already exist.
    this.path = join(this.dir, `lockstep-screen-${session}.gd`);
    try {
      writeFileSync(this.path, '', { mode: 0o600 });
      this.fd = openSync(this.path, 'r');
    } catch (e) {
      rmSync(this.dir, { recursive: true, force: true });
      throw e;
    }
    this.buf = Buffer.allocUnsafeSlow(CAPACITY + 3);
    this.at = alignedStart(this.buf);
    this.hooked = options.removeOnExit ?? true;
    if (this.hooked) process.on('exit', this.exitHook);
  }

  /** Leaves the last read's bytes to whoever still holds them: the next read goes into a new buffer. */
  detach(): void {
    this.buf = Buffer.allocUnsafeSlow(CAPACITY + 3);
    this.at = alignedStart(this.buf);
  }

  /** The screen frame the script wrote last. Its pixels are a view into a buffer the next read overwrites unless detach() is called first. */
  read(): ScreenFrame {
    if (this.fd === undefined) throw new Error('screen file already closed');
    // Synchronous on purpose: a page-cache read of a quarter megabyte takes tens of microseconds, less than a round of the event loop.
    const n = readSync(this.fd, this.buf, this.at, CAPACITY, 0);
    if (n < SCREEN_HEADER_BYTES) throw new Error(`screen file ${this.path} holds ${n} bytes, not a screen frame`);
    const bytes = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.at, n);
    // The file is rewritten in place, never truncated: only the length the header announces belongs to this screen.
    const width = bytes[6] | (bytes[7] << 8);
    const height = bytes[8] | (bytes[9] << 8);
    const length = SCREEN_HEADER_BYTES + GD_HEADER_BYTES + width * height * 4;
    if (length > CAPACITY) throw new Error(`screen file ${this.path} announces a ${width}x${height} screen, larger than the NES's`);
    if (n < length) throw new Error(`screen file ${this.path} holds ${n} bytes, its ${width}x${height} screen needs ${length}`);
    return decodeScreenFrame(bytes.subarray(0, length));
  }

  /** Closes and deletes the file and its folder. Idempotent. */
  dispose(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    if (this.hooked) process.off('exit', this.exitHook);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Offset in `buf` that puts the GD pixels of a screen frame read there on a 4-byte boundary. */
function alignedStart(buf: Buffer): number {
  return (4 - ((buf.byteOffset + SCREEN_HEADER_BYTES + GD_HEADER_BYTES) % 4)) % 4;
}
