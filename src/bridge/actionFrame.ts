// The binary action ("LSAC") the bridge sends an emulator whose hello offered binaryActions: the action message's content in 12 bytes.
import type { EmulatorActionMsg } from './protocol';
import { isButtonMask } from '../core/buttons';
import { checkMagic, u32le } from './screenFrame';

export const ACTION_MAGIC = 'LSAC';
export const ACTION_FRAME_VERSION = 1;
/** magic(4) version(1) flags(1) buttons p1(1) p2(1) frame(4, little-endian). */
export const ACTION_FRAME_BYTES = 12;
/** flags: bit 0 the state after this frame carries its screen. */
const ACTION_FLAG_SCREEN = 1;
const ACTION_MAGIC_BYTES = [0x4c, 0x53, 0x41, 0x43];

/** The action for `frame` as the 12-byte binary message; throws on a frame id or buttons the wire cannot carry. */
export function encodeActionFrame(frame: number, p1: number, p2: number, screen: boolean): Uint8Array {
  if (!Number.isInteger(frame) || frame < 0 || frame > 0xffffffff) {
    throw new Error(`action frame id must be an integer in 0..4294967295, got ${frame}`);
  }
  if (!isButtonMask(p1) || !isButtonMask(p2)) throw new Error(`action buttons must be two masks 0..255, got [${p1}, ${p2}]`);
  const out = new Uint8Array(ACTION_FRAME_BYTES);
  out[0] = ACTION_MAGIC_BYTES[0];
  out[1] = ACTION_MAGIC_BYTES[1];
  out[2] = ACTION_MAGIC_BYTES[2];
  out[3] = ACTION_MAGIC_BYTES[3];
  out[4] = ACTION_FRAME_VERSION;
  out[5] = screen ? ACTION_FLAG_SCREEN : 0;
  out[6] = p1;
  out[7] = p2;
  out[8] = frame & 0xff;
  out[9] = (frame >>> 8) & 0xff;
  out[10] = (frame >>> 16) & 0xff;
  out[11] = frame >>> 24;
  return out;
}

/** Parses a binary action into the JSON action it stands for; throws a clear error for anything malformed. */
export function decodeActionFrame(bytes: Uint8Array): EmulatorActionMsg {
  if (bytes.length !== ACTION_FRAME_BYTES) throw new Error(`action frame must be ${ACTION_FRAME_BYTES} bytes, got ${bytes.length}`);
  checkMagic(bytes, ACTION_MAGIC_BYTES, 'an action frame', ACTION_MAGIC);
  if (bytes[4] !== ACTION_FRAME_VERSION) throw new Error(`action frame version ${bytes[4]} not supported (expected ${ACTION_FRAME_VERSION})`);
  if ((bytes[5] & ~ACTION_FLAG_SCREEN) !== 0) throw new Error(`action frame has unknown flags ${bytes[5].toString(2)}`);
  return { type: 'action', frame: u32le(bytes, 8), buttons: [bytes[6], bytes[7]], screen: (bytes[5] & ACTION_FLAG_SCREEN) !== 0 };
}
