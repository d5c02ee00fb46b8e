// The one typed definition of the messages between EmbeddedEmulator (main thread) and its jsnes worker.

import type { CpuRegisters } from '../../core/ports';

/** Bumped on any incompatible change; the worker refuses requests of another version. */
export const WORKER_PROTOCOL_VERSION = 3;

/** A RAM write the session history replays at the state with this index (0 = the keyframe's own state). */
export interface ReplayWrite {
  at: number;
  address: number;
  bytes: Uint8Array;
}

/** A request without its correlation id: what the emulator front-ends build. */
export type MachineRequestBody =
  /** prgRam: every frame reply from now on carries $6000-$7FFF too. */
  | { type: 'start'; rom: Uint8Array; screen: boolean; prgRam?: boolean }
  | { type: 'step'; buttons: [number, number]; screen: boolean }
  | { type: 'current'; screen: boolean }
  | { type: 'writeRam'; address: number; bytes: Uint8Array }
  | { type: 'inspect' }
  | { type: 'save' }
  | { type: 'load'; snapshot: number; screen: boolean }
  | { type: 'drop'; snapshot: number }
  | { type: 'reset'; screen: boolean }
  | { type: 'keyframe'; keyframe: number; withScreen: boolean }
  | { type: 'dropKeyframe'; keyframe: number }
  /** Restores a keyframe and runs `buttons` (2 bytes a frame) applying `writes`; the reply carries every state's RAM. */
  | { type: 'replay'; keyframe: number; buttons: Uint8Array; writes: ReplayWrite[]; screen: boolean }
  | { type: 'keyframeStats' };

export type MachineRequest = MachineRequestBody & { id: number; version: number };

/** State of the machine at the start of a frame; ram/screen are fresh buffers (transferred, not copied). */
export interface FrameReply {
  type: 'frame';
  frame: number;
  lag: boolean;
  ram: Uint8Array;
  prgRam?: Uint8Array;
  screen?: Uint8Array;
  /** Replay only: the RAM of every state the replay went through, 2 KB each, the keyframe's first. */
  rams?: Uint8Array;
}

/** Registers and PRG-RAM of the held frame (MachineDetail); prgRam is a fresh buffer. */
export interface DetailReply {
  type: 'detail';
  frame: number;
  registers: CpuRegisters;
  prgRam: Uint8Array;
  nametables: Uint8Array;
  palette: Uint8Array;
  oam: Uint8Array;
}

export type MachineReplyBody =
  | FrameReply
  | DetailReply
  | { type: 'saved'; snapshot: number; frame: number }
  | { type: 'done' }
  | { type: 'keyframeStats'; bytes: number; count: number }
  | { type: 'error'; message: string };

export type MachineReply = MachineReplyBody & { id: number };

/** Buffers in a reply that can be moved to the other thread instead of copied. */
export function replyTransferList(reply: MachineReplyBody): ArrayBuffer[] {
  if (reply.type === 'detail') return [reply.prgRam.buffer as ArrayBuffer, reply.nametables.buffer as ArrayBuffer, reply.palette.buffer as ArrayBuffer, reply.oam.buffer as ArrayBuffer];
  if (reply.type !== 'frame') return [];
  const list = [reply.ram.buffer as ArrayBuffer];
  if (reply.prgRam) list.push(reply.prgRam.buffer as ArrayBuffer);
  if (reply.screen) list.push(reply.screen.buffer as ArrayBuffer);
  if (reply.rams) list.push(reply.rams.buffer as ArrayBuffer);
  return list;
}
