// Whole-frame sends over a real ws server and client on 127.0.0.1: every size edge, text and binary, order kept with ws's own sends in between.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { sendWholeFrame, wholeFrame, WHOLE_FRAME_MAX_BYTES } from '../../../src/bridge/wholeFrame';

test('wholeFrame: the RFC 6455 header for each length class, payload bytes after it', () => {
  const short = wholeFrame('hi')!;
  assert.deepEqual([...short], [0x81, 2, 0x68, 0x69]);
  const at125 = wholeFrame(new Uint8Array(125).fill(7))!;
  assert.deepEqual([...at125.subarray(0, 2)], [0x82, 125]);
  assert.equal(at125.length, 127);
  const at126 = wholeFrame('x'.repeat(126))!;
  assert.deepEqual([...at126.subarray(0, 4)], [0x81, 126, 0, 126]);
  const atMax = wholeFrame(new Uint8Array(WHOLE_FRAME_MAX_BYTES))!;
  assert.deepEqual([...atMax.subarray(0, 4)], [0x82, 126, 0xff, 0xff]);
  assert.equal(wholeFrame(new Uint8Array(WHOLE_FRAME_MAX_BYTES + 1)), undefined);
  // The length counts UTF-8 bytes, not characters.
  const utf8 = wholeFrame('é…🎮')!;
  assert.equal(utf8[1], Buffer.byteLength('é…🎮'));
  assert.equal(utf8.subarray(2).toString('utf8'), 'é…🎮');
});

test('sendWholeFrame: a ws client gets every message intact and in order, one write for the small ones', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as AddressInfo).port;
  const serverSide = new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)));
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  try {
    await new Promise<void>((r, j) => {
      client.once('open', () => r());
      client.once('error', j);
    });
    const ws = await serverSide;
    const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
    const sent: Array<string | Uint8Array> = [
      '', '{"type":"action","frame":7,"buttons":[1,0],"screen":false}', 'x'.repeat(125), 'y'.repeat(126), 'ünïcødé ✓ 🎮',
      bytes(0, 1), bytes(125, 2), bytes(126, 3), bytes(WHOLE_FRAME_MAX_BYTES, 4),
      // Over the whole-frame limit: these go through ws.send, between whole frames.
      'z'.repeat(WHOLE_FRAME_MAX_BYTES + 1), bytes(300_000, 5), 'after the big ones',
    ];
    const received: Array<string | Uint8Array> = [];
    const all = new Promise<void>((r) => client.on('message', (data, isBinary) => {
      received.push(isBinary ? new Uint8Array(data as Buffer) : (data as Buffer).toString('utf8'));
      if (received.length === sent.length) r();
    }));
    const oneWrite = sent.map((m) => sendWholeFrame(ws, m));
    await all;
    assert.deepEqual(received.map((m) => (typeof m === 'string' ? m : Buffer.from(m).toString('hex'))),
      sent.map((m) => (typeof m === 'string' ? m : Buffer.from(m).toString('hex'))));
    // The fast path must really be taken with this ws version (a ws upgrade that renames its fields fails here).
    assert.deepEqual(oneWrite, sent.map((m) => (typeof m === 'string' ? Buffer.byteLength(m) : m.byteLength) <= WHOLE_FRAME_MAX_BYTES));
  } finally {
    client.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
});
