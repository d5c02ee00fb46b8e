// A small WebSocket message as one whole frame both ways. Sending: one socket write (ws writes a frame's header and payload
// as two buffers, cork and writev, which costs more than the message itself on the lockstep round trip). Receiving: a
// socket read that holds exactly one data frame is parsed here instead of through ws's Receiver, a Writable stream that
// consumes the header in pieces.
import { isUtf8 } from 'node:buffer';
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

/**
 * The message a client-to-server frame carries when `chunk` is exactly one such frame: FIN set, no RSV bits, text or
 * binary, masked (RFC 6455 §5.1), a 7- or 16-bit length of at most `maxPayload` bytes (0: no cap), and text valid UTF-8.
 * The payload is returned as a view of `chunk`, unmasked in place; the mask is then zeroed, so a text frame refused for
 * its UTF-8 still says the same to ws, which closes the link for it as usual (1007). Anything else gives undefined with
 * `chunk` untouched, and ws parses it (and refuses what is wrong with it).
 */
export function wholeClientFrame(chunk: Buffer, maxPayload: number): { data: Buffer; isBinary: boolean } | undefined {
  const b0 = chunk.length >= 6 ? chunk[0] : 0;
  if (b0 !== (FIN | OPCODE_BINARY) && b0 !== (FIN | OPCODE_TEXT)) return undefined;
  const b1 = chunk[1];
  if ((b1 & 0x80) === 0) return undefined;
  let length = b1 & 0x7f;
  let at = 2;
  if (length === 127) return undefined;
  if (length === 126) {
    length = (chunk[2] << 8) | chunk[3];
    at = 4;
  }
  const start = at + 4;
  if (chunk.length !== start + length || (maxPayload > 0 && length > maxPayload)) return undefined;
  if ((chunk[at] | chunk[at + 1] | chunk[at + 2] | chunk[at + 3]) !== 0) {
    for (let i = start; i < chunk.length; i++) chunk[i] ^= chunk[at + ((i - start) & 3)];
    chunk.fill(0, at, start);
  }
  const data = chunk.subarray(start);
  const isBinary = b0 === (FIN | OPCODE_BINARY);
  return isBinary || isUtf8(data) ? { data, isBinary } : undefined;
}

/** What the receiving side reads of ws's Receiver, the Writable that ws's socket listener writes each read into. */
interface ReceiverInternals {
  write(chunk: Buffer): boolean;
  emit(event: 'message', data: Buffer, isBinary: boolean): boolean;
  writable: boolean;
  _state?: unknown;
  _bufferedBytes?: unknown;
  _fragmented?: unknown;
  _opcode?: unknown;
  _errored?: unknown;
  _isServer?: unknown;
  _maxPayload?: unknown;
  _binaryType?: unknown;
  _allowSynchronousEvents?: unknown;
}

/**
 * From now on, a socket read on `ws` (a server's link, without permessage-deflate) that holds exactly one whole data
 * frame (wholeClientFrame) is emitted as ws's 'message' at once, while ws's Receiver is between messages (nothing
 * buffered, no fragmented message open, no close frame seen, events emitted synchronously); every other read goes to the
 * Receiver as before. The listeners see what ws would have given them: a Buffer and whether it is binary. Returns
 * whether the fast path was installed; relies on ws's WebSocket._receiver and the Receiver fields above, checked here and
 * on every read (test/unit/bridge/wholeFrame.test.ts fails if a ws upgrade changes them).
 */
export function receiveWholeFrames(ws: WebSocket): boolean {
  const receiver = (ws as unknown as { _receiver?: ReceiverInternals })._receiver;
  if (receiver === undefined || receiver === null || typeof receiver.write !== 'function' || receiver._isServer !== true
    || receiver._binaryType !== 'nodebuffer' || typeof receiver._state !== 'number' || typeof receiver._maxPayload !== 'number') {
    return false;
  }
  const write = receiver.write;
  const maxPayload = receiver._maxPayload;
  receiver.write = function writeWholeFrame(chunk: Buffer): boolean {
    const between = receiver._state === 0 && receiver._bufferedBytes === 0 && receiver._fragmented === 0
      && receiver._opcode !== 0x08 && receiver._errored === false && receiver._allowSynchronousEvents === true && receiver.writable;
    const message = between ? wholeClientFrame(chunk, maxPayload) : undefined;
    if (message === undefined) return write.call(receiver, chunk);
    receiver.emit('message', message.data, message.isBinary);
    return true;
  };
  return true;
}
