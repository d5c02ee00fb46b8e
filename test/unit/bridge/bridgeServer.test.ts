// The bridge server over real loopback sockets: bind address, token, Origin, protocol version, hello rules, size cap, byte-safe close reasons.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeServer, originAllowed, tokenMatches, fitCloseReason, type BridgeLink } from '../../../src/bridge/bridgeServer';
import { CLOSE, PROTOCOL_VERSION } from '../../../src/bridge/protocol';

interface Closed { code: number; reason: string }

function connect(url: string, first: unknown, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; closed: Promise<Closed> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const closed = new Promise<Closed>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
    ws.on('open', () => {
      if (first !== undefined) ws.send(typeof first === 'string' ? first : JSON.stringify(first));
      resolve({ ws, closed });
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

describe('bridge server', async () => {
  const links: BridgeLink[] = [];
  const server = new BridgeServer({ token: 'secret-token', helloTimeoutMs: 200, maxMessageBytes: 4096 });
  server.setHandler('agent', (l) => links.push(l));
  const port = await server.listen();
  after(() => server.close());
  const hello = (extra: Record<string, unknown> = {}) => ({ type: 'hello', role: 'agent', protocol: PROTOCOL_VERSION, token: 'secret-token', ...extra });

  test('listens on 127.0.0.1 only', () => {
    assert.equal((server as unknown as { http: { address(): { address: string } } }).http.address().address, '127.0.0.1');
    assert.equal(server.url('agent'), `ws://127.0.0.1:${port}/agent`);
  });

  test('a good hello is handed to the role handler; messages flow both ways', async () => {
    const { ws } = await connect(server.url('agent'), hello());
    const link = await waitFor(() => links.at(-1));
    const got = new Promise<string | Uint8Array>((r) => link.onMessage(r));
    ws.send(JSON.stringify({ type: 'heartbeat', seq: 1, timestamp: 0 }));
    assert.match(String(await got), /heartbeat/);
    const back = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
    link.sendJson({ type: 'heartbeat_ack', seq: 1, timestamp: 0 });
    assert.match(await back, /heartbeat_ack/);
    ws.close();
  });

  test('a wrong or missing token is refused with 4001 and a clear reason', async () => {
    assert.deepEqual(await (await connect(server.url('agent'), hello({ token: 'guess' }))).closed, { code: CLOSE.badToken, reason: 'invalid session token' });
    assert.equal((await (await connect(server.url('agent'), hello({ token: undefined }))).closed).code, CLOSE.badToken);
  });

  test('generated tokens are 48 hex digits (192 bits): never taken for a command-line option, never quoted in a shell', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const t = new BridgeServer().token;
      assert.match(t, /^[0-9a-f]{48}$/);
      seen.add(t);
    }
    assert.equal(seen.size, 500);
  });

  test('the token may come in the URL instead of the hello', async () => {
    const n = links.length;
    const { ws } = await connect(`${server.url('agent')}?token=secret-token`, hello({ token: undefined }));
    await waitFor(() => (links.length > n ? true : undefined));
    ws.close();
  });

  test('a browser page from another origin is refused with 4003 (cross-site WebSocket hijacking)', async () => {
    const r = await (await connect(server.url('agent'), hello(), { Origin: 'https://evil.example' })).closed;
    assert.equal(r.code, CLOSE.badOrigin);
    assert.match(r.reason, /origin not allowed/);
  });

  test('wrong protocol version, wrong role for the path, non-JSON and binary hellos are refused naming the problem', async () => {
    const v = await (await connect(server.url('agent'), hello({ protocol: 99 }))).closed;
    assert.equal(v.code, CLOSE.badVersion);
    assert.match(v.reason, /protocol version 99 not supported/);
    const r = await (await connect(server.url('agent'), hello({ role: 'emulator' }))).closed;
    assert.match(r.reason, /does not match path \/agent/);
    const j = await (await connect(server.url('agent'), '{not json')).closed;
    assert.equal(j.code, CLOSE.malformed);
    assert.match(j.reason, /malformed hello/);
  });

  test('a long non-ASCII reason is cut to 123 bytes instead of crashing the server (regression)', async () => {
    const r = await (await connect(server.url('agent'), hello({ role: 'ä'.repeat(80) }))).closed;
    assert.equal(r.code, CLOSE.malformed);
    assert.ok(Buffer.byteLength(r.reason) <= 123);
    // still serving
    const ok = await connect(server.url('agent'), hello());
    ok.ws.close();
  });

  test('no hello in time closes with 4008; an unknown path gets 404; no handler for a role is a clear refusal', async () => {
    assert.equal((await (await connect(server.url('agent'), undefined)).closed).code, CLOSE.helloTimeout);
    await assert.rejects(connect(`ws://127.0.0.1:${port}/other`, hello()), /HTTP 404/);
    const e = await (await connect(server.url('emulator'), { ...hello(), role: 'emulator' })).closed;
    assert.match(e.reason, /no emulator expected/);
  });

  test('a message over the size cap closes that link with 1009; the server keeps serving', async () => {
    const { ws, closed } = await connect(server.url('agent'), hello());
    await waitFor(() => links.at(-1));
    ws.send('x'.repeat(5000));
    assert.equal((await closed).code, 1009);
    const again = await connect(server.url('agent'), hello());
    again.ws.close();
  });
});

describe('bridge server: a Unix-domain socket beside the port (lockstep serve --socket)', () => {
  test('takes links with the same token, Origin and hello checks as the port, and removes its socket file on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-test-'));
    const path = join(dir, 'bridge.sock');
    const server = new BridgeServer({ token: 'secret-token', socketPath: path });
    const links: BridgeLink[] = [];
    server.setHandler('agent', (l) => links.push(l));
    try {
      await server.listen();
      assert.equal(server.socketPath, path);
      assert.ok(existsSync(path));
      const hello = { type: 'hello', role: 'agent', protocol: PROTOCOL_VERSION, token: 'secret-token' };
      const { ws } = await connect(`ws+unix://${path}:/agent`, hello);
      const link = await waitFor(() => links.at(-1));
      assert.equal(link.remote, 'local socket');
      const back = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
      link.sendJson({ type: 'heartbeat', seq: 7, timestamp: 0 });
      assert.match(await back, /"seq":7/);
      ws.close();
      assert.equal((await (await connect(`ws+unix://${path}:/agent`, { ...hello, token: 'guess' })).closed).code, CLOSE.badToken);
      const foreign = await connect(`ws+unix://${path}:/agent`, hello, { origin: 'https://evil.example' });
      assert.equal((await foreign.closed).code, CLOSE.badOrigin);
    } finally {
      await server.close();
    }
    assert.equal(existsSync(path), false);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a socket path it cannot listen on fails listen() naming the path', async () => {
    const path = join(tmpdir(), 'no-such-dir-for-lockstep', 'bridge.sock');
    const server = new BridgeServer({ socketPath: path });
    await assert.rejects(server.listen(), (e: Error) => e.message.includes(path));
    await server.close();
  });
});

describe('bridge server: a peer that stops reading', () => {
  test('is closed with 1008 once more than maxUnsentBytes is queued for it, instead of growing memory without bound', async () => {
    const server = new BridgeServer({ token: 't', maxUnsentBytes: 256 * 1024 });
    const links: BridgeLink[] = [];
    server.setHandler('agent', (l) => links.push(l));
    await server.listen();
    try {
      const { ws, closed } = await connect(server.url('agent'), { type: 'hello', role: 'agent', protocol: PROTOCOL_VERSION, token: 't' });
      const link = await waitFor(() => links[0]);
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const chunk = new Uint8Array(64 * 1024);
      for (let i = 0; i < 2000 && link.open; i++) {
        link.sendBinary(chunk);
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      assert.equal(link.open, false, 'the link was closed');
      (ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const c = await closed;
      assert.equal(c.code, CLOSE.notReading);
      assert.match(c.reason, /not reading/);
    } finally {
      await server.close();
    }
  });
});

describe('bridge server helpers', () => {
  test('origin rule: absent, vscode-webview and loopback pages pass; other sites do not', () => {
    for (const o of [undefined, '', 'vscode-webview://abc', 'http://127.0.0.1:3000', 'http://localhost', 'http://[::1]:8080']) assert.equal(originAllowed(o), true, String(o));
    for (const o of ['https://evil.example', 'http://127.0.0.1.evil.example', 'null', 'file://']) assert.equal(originAllowed(o), false, o);
  });

  test('token comparison is exact', () => {
    assert.equal(tokenMatches('abc', 'abc'), true);
    assert.equal(tokenMatches('abc', 'abd'), false);
    assert.equal(tokenMatches('abc', 'abcd'), false);
    assert.equal(tokenMatches('abc', 42), false);
  });

  test('fitCloseReason cuts by UTF-8 bytes', () => {
    assert.equal(fitCloseReason('short'), 'short');
    assert.ok(Buffer.byteLength(fitCloseReason('ä'.repeat(100))) <= 123);
  });
});

async function waitFor<T>(probe: () => T | undefined, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('timed out');
}
