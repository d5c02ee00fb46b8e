// Whole frames both ways over a real ws server and client on 127.0.0.1: every size edge, text and binary, order kept with ws's own frames in between, and ws's own refusals kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { receiveWholeFrames, sendWholeFrame, wholeClientFrame, wholeFrame, WHOLE_FRAME_MAX_BYTES } from '../../../src/bridge/wholeFrame';

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

/** A client-to-server frame as RFC 6455 §5.2 lays it out (7-, 16- or 64-bit length), masked with `mask` unless null. */
function clientFrame(first: number, payload: Uint8Array, mask: number[] | null): Buffer {
  const n = payload.length;
  const len = n < 126 ? [n] : n <= 0xffff ? [126, n >> 8, n & 0xff] : [127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  if (mask) len[0] |= 0x80;
  const body = Buffer.from(payload.map((b, i) => (mask ? b ^ mask[i & 3] : b)));
  return Buffer.concat([Buffer.from([first, ...len, ...(mask ?? [])]), body]);
}

test('wholeClientFrame: one whole masked data frame gives its message, unmasked; anything else is left to ws untouched', () => {
  const text = Buffer.from('{"type":"state","frame":7} ✓');
  const mask = [0x12, 0x34, 0x56, 0x78];
  const parsed = wholeClientFrame(clientFrame(0x81, text, mask), 0);
  assert.equal(parsed?.isBinary, false);
  assert.equal(parsed?.data.toString('utf8'), text.toString('utf8'));
  const bytes = Uint8Array.from({ length: 2072 }, (_, i) => (i * 7) & 0xff);
  for (const m of [mask, [0, 0, 0, 0]]) {
    const frame = clientFrame(0x82, bytes, m);
    const got = wholeClientFrame(frame, 4096);
    assert.equal(got?.isBinary, true);
    assert.deepEqual(new Uint8Array(got!.data), bytes);
    assert.equal(got!.data.buffer, frame.buffer, 'a view of the read, not a copy');
  }
  assert.equal(wholeClientFrame(clientFrame(0x82, new Uint8Array(0), mask), 0)?.data.length, 0);
  assert.equal(wholeClientFrame(clientFrame(0x82, new Uint8Array(125), mask), 0)?.data.length, 125);
  assert.equal(wholeClientFrame(clientFrame(0x82, new Uint8Array(126), mask), 0)?.data.length, 126);
  assert.equal(wholeClientFrame(clientFrame(0x82, new Uint8Array(0xffff), mask), 0)?.data.length, 0xffff);
  const left = (frame: Buffer, maxPayload = 0): void => {
    const copy = Buffer.from(frame);
    assert.equal(wholeClientFrame(frame, maxPayload), undefined);
    assert.deepEqual(frame, copy, 'a frame left to ws is not touched');
  };
  left(clientFrame(0x02, bytes, mask)); // FIN clear: the first fragment of a message
  left(clientFrame(0x80, bytes, mask)); // a continuation frame
  left(clientFrame(0xc2, bytes, mask)); // RSV1 (permessage-deflate, not negotiated)
  left(clientFrame(0x89, Buffer.from('ping'), mask)); // control frames: ws answers them
  left(clientFrame(0x88, Buffer.from([3, 232]), mask));
  left(clientFrame(0x82, bytes, null)); // unmasked: ws refuses it (1002)
  left(clientFrame(0x82, new Uint8Array(0x10000), mask)); // a 64-bit length
  left(clientFrame(0x82, bytes, mask), 2071); // over the cap: ws closes with 1009
  const whole = clientFrame(0x82, bytes, mask);
  left(whole.subarray(0, whole.length - 1)); // not all there yet
  left(Buffer.concat([whole, clientFrame(0x81, text, mask)])); // two frames in one read
  left(Buffer.from([0x82, 0x80])); // shorter than any masked header
  // Invalid UTF-8 in a text frame: not taken, but handed on unmasked with a zero mask, which says the same to ws.
  const bad = clientFrame(0x81, Buffer.from([0x61, 0xff, 0x62]), mask);
  assert.equal(wholeClientFrame(bad, 0), undefined);
  assert.deepEqual([...bad], [0x81, 0x83, 0, 0, 0, 0, 0x61, 0xff, 0x62]);
});

test('receiveWholeFrames: a ws server gets every client message intact and in order, small ones off ws\'s parser; ws still refuses bad frames', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 200_000 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as AddressInfo).port;
  const open = async (fast = true): Promise<{ client: WebSocket; server: WebSocket; parsedByWs: () => number }> => {
    const serverSide = new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)));
    const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    client.on('error', () => undefined);
    await new Promise<void>((r, j) => {
      client.once('open', () => r());
      client.once('error', j);
    });
    const server = await serverSide;
    server.on('error', () => undefined);
    // Count the reads that reach ws's own parser: the fast path wraps the receiver's write, so spy below it.
    const receiver = (server as unknown as { _receiver: { write(chunk: Buffer): boolean } })._receiver;
    const own = receiver.write;
    let parsedByWs = 0;
    receiver.write = function (chunk: Buffer): boolean {
      parsedByWs++;
      return own.call(this, chunk);
    };
    if (fast) assert.equal(receiveWholeFrames(server), true, 'the fast path must install with this ws version');
    return { client, server, parsedByWs: () => parsedByWs };
  };
  try {
    const { client, server, parsedByWs } = await open();
    const received: Array<string | Uint8Array> = [];
    let arrived: (() => void) | undefined;
    server.on('message', (data, isBinary) => {
      received.push(isBinary ? new Uint8Array(data as Buffer) : (data as Buffer).toString('utf8'));
      arrived?.();
    });
    const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
    const shown = (m: string | Uint8Array): string => (typeof m === 'string' ? m : Buffer.from(m).toString('hex'));
    // One at a time, each waited for, so each comes in a read of its own.
    const small: Array<string | Uint8Array> = ['', 'hello ✓ 🎮', 'x'.repeat(126), bytes(0, 1), bytes(2072, 2), bytes(60_000, 3)];
    for (const m of small) {
      const got = new Promise<void>((r) => (arrived = r));
      client.send(m, { binary: typeof m !== 'string' });
      await got;
    }
    assert.deepEqual(received.map(shown), small.map(shown));
    assert.equal(parsedByWs(), 0, 'every one-read message was parsed whole, off ws\'s Receiver');
    // ws's own cases, mixed in: a 64-bit length, a frame longer than one socket read (Node reads 64 KiB at a time), a
    // fragmented message, a ping, and messages sent in one tick (reads of more than one frame); all arrive, in order,
    // and the small ones after them take the fast path again.
    const later: Array<string | Uint8Array> = [bytes(150_000, 4), bytes(0xffff, 6), 'in two fragments', 'a', bytes(3, 5), 'b', 'last'];
    const all = new Promise<void>((r) => (arrived = () => received.length === small.length + later.length && r()));
    client.send(later[0], { binary: true });
    client.send(later[1], { binary: true });
    client.send('in two ', { fin: false });
    client.send('fragments', { fin: true });
    client.ping();
    client.send(later[3]);
    client.send(later[4], { binary: true });
    client.send(later[5]);
    await new Promise((r) => setTimeout(r, 20));
    const before = parsedByWs();
    client.send(later[6]);
    await all;
    assert.deepEqual(received.slice(small.length).map(shown), later.map(shown));
    assert.ok(before > 0, 'the big, fragmented and coalesced frames went to ws');
    assert.equal(parsedByWs(), before, 'the last small message took the fast path again');
    const closed = new Promise<number>((r) => server.once('close', (code) => r(code)));
    client.close(1000);
    assert.equal(await closed, 1000, 'a close frame is still ws\'s');

    // Refusals stay ws's, with and without the fast path: the client is closed with 1007 for invalid UTF-8 in a text
    // frame, 1002 for an unmasked frame, 1009 over maxPayload, and the server's link ends with the same code either way.
    const refused = async (fast: boolean, send: (c: WebSocket) => void): Promise<string> => {
      const { client: c, server: s } = await open(fast);
      const closed = new Promise<number>((r) => s.once('close', (code) => r(code)));
      const told = new Promise<number>((r) => c.once('close', (code) => r(code)));
      send(c);
      return `client ${await told}, server ${await closed}`;
    };
    const cases: Array<[number, (c: WebSocket) => void]> = [
      [1007, (c) => c.send(Buffer.from([0x61, 0xff]), { binary: false })],
      [1002, (c) => c.send(Buffer.from('plain'), { binary: true, mask: false })],
      [1009, (c) => c.send(new Uint8Array(200_001), { binary: true })],
    ];
    for (const [code, send] of cases) {
      const withFastPath = await refused(true, send);
      assert.match(withFastPath, new RegExp(`^client ${code},`));
      assert.equal(withFastPath, await refused(false, send));
    }
  } finally {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
});
