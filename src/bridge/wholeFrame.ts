// Sends a small WebSocket message as one socket write: ws writes a frame's header and payload as two buffers (cork, writev), which costs more than the message itself on the lockstep round trip.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** Messages up to this many payload bytes go out in one write (a 2- or 4-byte header); longer ones through ws. */
export const WHOLE_FRAME_MAX_BYTES = 0xffff;

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const FIN = 0x80;

/**
 * A server-to-client WebSocket frame (RFC 6455 §5.2: FIN set, unmasked) holding `payload` whole, header and payload in
 * one buffer; undefined when the payload is over WHOLE_FRAME_MAX_BYTES.
 */
export function wholeFrame(payload: string | Uint8Array): Buffer | undefined {
  const text = typeof payload === 'string';
  const length = text ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
  if (length > WHOLE_FRAME_MAX_BYTES) return undefined;
  const head = length < 126 ? 2 : 4;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = FIN | (text ? OPCODE_TEXT : OPCODE_BINARY);
  if (head === 2) {
    frame[1] = length;
  } else {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  }
  if (text) frame.write(payload, head, 'utf8');
  else frame.set(payload, head);
  return frame;
}

/** What this writer reads of ws's WebSocket: its socket, and whether its sender has anything of its own still queued. */
interface WsInternals {
  _socket?: Socket;
  _sender?: { _state?: unknown; _queue?: unknown[] };
}

/**
 * Sends `payload` on `ws` (open, without permessage-deflate) as one frame in one socket write when ws's sender is idle
 * (nothing of its own queued, so the order of messages is kept), and through `ws.send` otherwise. Returns whether the
 * one write was used. Relies on ws's WebSocket._socket and its Sender's _state and _queue (checked on every call, with
 * ws.send when they are not there; test/unit/bridge/wholeFrame.test.ts fails if a ws upgrade changes them).
 */
export function sendWholeFrame(ws: WebSocket, payload: string | Uint8Array): boolean {
  const { _socket: socket, _sender: sender } = ws as unknown as WsInternals;
  // ws's Sender is in its default state (0) unless it is compressing or reading a Blob; its queue holds what waits for that.
  const idle = sender !== undefined && sender._state === 0 && Array.isArray(sender._queue) && sender._queue.length === 0;
  const frame = idle && socket !== undefined && !socket.destroyed ? wholeFrame(payload) : undefined;
  if (!frame) {
    ws.send(payload, { binary: typeof payload !== 'string' });
    return false;
  }
  socket!.write(frame);
  return true;
}
