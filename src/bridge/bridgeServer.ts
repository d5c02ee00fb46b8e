// The bridge's WebSocket server: loopback only, per-session token, Origin check, capped messages; hands authenticated links to their role's handler.
import { createServer, type Server, type IncomingMessage } from 'node:http';
import { unlinkSync } from 'node:fs';
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { CLOSE, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, type Role } from './protocol';
import { inertText, preview } from './protocolCodec';
import { receiveWholeFrames, sendWholeFrame } from './wholeFrame';

export interface BridgeServerOptions {
  /** 0 picks a free port. */
  port?: number;
  /** Per-session secret; generated when omitted. */
  token?: string;
  maxMessageBytes?: number;
  /** How long a new connection has to send its hello. */
  helloTimeoutMs?: number;
  /** Bytes queued for a peer that does not read before its link is closed (1008); bounds memory per link. */
  maxUnsentBytes?: number;
  /**
   * Also accept links on this Unix-domain socket path (same paths, token, Origin check and caps as the TCP port). A
   * trainer on the same machine skips loopback TCP's per-message cost; the caller picks a path in a directory only it
   * can enter. The file is removed on close().
   */
  socketPath?: string;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** An authenticated link: JSON text messages out, raw text/binary in. */
export interface BridgeLink {
  readonly role: Role;
  readonly remote: string;
  /** The hello message as received (already checked for role, token and version). */
  readonly hello: Record<string, unknown>;
  sendJson(msg: object): void;
  sendBinary(data: Uint8Array): void;
  onMessage(listener: (data: string | Uint8Array) => void): () => void;
  onClose(listener: (code: number, reason: string) => void): () => void;
  close(code?: number, reason?: string): void;
  readonly open: boolean;
  /** Bytes queued in the socket but not yet sent (for flow control). */
  readonly bufferedAmount: number;
}

export type LinkHandler = (link: BridgeLink) => void;

/** WebSocket close reasons are limited to 123 bytes of UTF-8; ws throws past that, so cut by bytes, not characters. */
export function fitCloseReason(text: string, maxBytes = 123): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n + 3 > maxBytes) break; // room for the ellipsis (3 bytes)
    out += ch;
    bytes += n;
  }
  return out + '…';
}

/** Constant-time token comparison (hash both sides so lengths match). */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/** Origin is allowed when absent (non-browser clients), a VS Code webview, or a loopback page. */
export function originAllowed(origin: string | undefined): boolean {
  if (origin === undefined || origin === '') return true;
  if (origin.startsWith('vscode-webview://')) return true;
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') &&
      (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]');
  } catch {
    return false;
  }
}

export class BridgeServer {
  readonly token: string;
  private readonly http: Server;
  /** The Unix-socket listener (socketPath), sharing the TCP listener's upgrade handling. */
  private readonly local?: Server;
  private readonly wss: WebSocketServer;
  private readonly handlers = new Map<Role, LinkHandler>();
  private readonly maxMessageBytes: number;
  private readonly helloTimeoutMs: number;
  private readonly maxUnsentBytes: number;
  private readonly log: NonNullable<BridgeServerOptions['log']>;
  private listening?: Promise<number>;

  constructor(private readonly options: BridgeServerOptions = {}) {
    // Hex, not base64url: a token starting with '-' is taken for an option by argument parsers (a trainer started with
    // `--token TOKEN` failed one time in 64), and hex needs no quoting in any shell.
    this.token = options.token ?? randomBytes(24).toString('hex');
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.helloTimeoutMs = options.helloTimeoutMs ?? 5000;
    this.maxUnsentBytes = options.maxUnsentBytes ?? 16 * 1024 * 1024;
    this.log = options.log ?? (() => undefined);
    this.http = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' });
      res.end('Lockstep bridge: WebSocket only (paths /emulator and /agent)\n');
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.maxMessageBytes, perMessageDeflate: false });
    if (options.socketPath !== undefined) {
      this.local = createServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' });
        res.end('Lockstep bridge: WebSocket only (paths /emulator and /agent)\n');
      });
      this.local.on('upgrade', (req, socket, head) => this.http.emit('upgrade', req, socket, head));
    }
    this.http.on('upgrade', (req, socket, head) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/emulator' && path !== '/agent') {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, path.slice(1) as Role));
    });
  }

  /** Register who receives authenticated links of a role (one handler per role). */
  setHandler(role: Role, handler: LinkHandler | undefined): void {
    if (handler) this.handlers.set(role, handler);
    else this.handlers.delete(role);
  }

  /** Starts listening on 127.0.0.1 (and on socketPath when given) and returns the chosen port. */
  listen(): Promise<number> {
    this.listening ??= (async () => {
      const port = await new Promise<number>((resolve, reject) => {
        this.http.once('error', reject);
        this.http.listen(this.options.port ?? 0, '127.0.0.1', () => {
          this.http.off('error', reject);
          resolve((this.http.address() as AddressInfo).port);
        });
      });
      const local = this.local;
      if (local) {
        await new Promise<void>((resolve, reject) => {
          local.once('error', (e: Error) => reject(new Error(`bridge cannot listen on socket ${this.options.socketPath}: ${e.message}`)));
          local.listen(this.options.socketPath, () => resolve());
        });
      }
      return port;
    })();
    return this.listening;
  }

  /** The Unix-domain socket path trainers may connect to instead of the port, when one was given. */
  get socketPath(): string | undefined {
    return this.local ? this.options.socketPath : undefined;
  }

  get port(): number {
    const a = this.http.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  url(role: Role): string {
    return `ws://127.0.0.1:${this.port}/${role}`;
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    if (this.http.listening) await new Promise<void>((resolve) => this.http.close(() => resolve()));
    const local = this.local;
    if (local?.listening) {
      await new Promise<void>((resolve) => local.close(() => resolve()));
      try {
        unlinkSync(this.options.socketPath!);
      } catch {
        // already gone
      }
    }
  }

  private accept(ws: WebSocket, req: IncomingMessage, role: Role): void {
    const remote = req.socket.remoteAddress ? `${req.socket.remoteAddress}:${req.socket.remotePort}` : 'local socket';
    const origin = req.headers.origin;
    ws.on('error', (err) => this.log('warn', `bridge ${role} link ${remote}: ${err.message}`));
    if (!originAllowed(origin)) {
      this.log('warn', `bridge refused ${role} link from ${remote}: origin ${origin} not allowed`);
      ws.close(CLOSE.badOrigin, fitCloseReason(`origin not allowed: ${String(origin)}`));
      return;
    }
    const queryToken = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
    const timer = setTimeout(() => ws.close(CLOSE.helloTimeout, 'no hello within ' + this.helloTimeoutMs + ' ms'), this.helloTimeoutMs);
    ws.once('close', () => clearTimeout(timer));
    ws.once('message', (data: RawData, isBinary: boolean) => {
      clearTimeout(timer);
      const refuse = (code: number, reason: string) => {
        this.log('warn', `bridge refused ${role} link from ${remote}: ${reason}`);
        ws.close(code, fitCloseReason(reason));
      };
      if (isBinary) return refuse(CLOSE.malformed, 'first message must be a JSON hello');
      let hello: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(rawToString(data));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        hello = parsed as Record<string, unknown>;
      } catch (e) {
        // JSON.parse quotes the input: escape its control characters before it reaches a log line.
        return refuse(CLOSE.malformed, `malformed hello: ${inertText((e as Error).message)}`);
      }
      // preview, never JSON.stringify: an unauthenticated peer can nest a value deeper than JSON.stringify's stack allows.
      if (hello.type !== 'hello') return refuse(CLOSE.malformed, `first message must be type "hello", got ${preview(hello.type)}`);
      if (!tokenMatches(this.token, hello.token ?? queryToken)) return refuse(CLOSE.badToken, 'invalid session token');
      if (hello.role !== role) return refuse(CLOSE.malformed, `hello role ${preview(hello.role)} does not match path /${role}`);
      if (hello.protocol !== PROTOCOL_VERSION) {
        return refuse(CLOSE.badVersion, `protocol version ${preview(hello.protocol)} not supported (bridge speaks ${PROTOCOL_VERSION})`);
      }
      const handler = this.handlers.get(role);
      if (!handler) return refuse(CLOSE.normal, `no ${role} expected in this session`);
      this.log('info', `bridge accepted ${role} link from ${remote}`);
      handler(makeLink(ws, role, remote, hello, this.maxUnsentBytes, this.log));
    });
  }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

function rawToBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function makeLink(
  ws: WebSocket, role: Role, remote: string, hello: Record<string, unknown>,
  maxUnsentBytes: number, log: NonNullable<BridgeServerOptions['log']>,
): BridgeLink {
  // TCP_NODELAY: one small message per frame each way; Nagle would add delay to every round trip.
  (ws as unknown as { _socket?: { setNoDelay?: (v: boolean) => void } })._socket?.setNoDelay?.(true);
  // Each small message in one read, parsed whole, off ws's stream machinery (authenticated links only; see wholeFrame).
  receiveWholeFrames(ws);
  // A peer that stops reading (e.g. floods pings and never reads the pongs) would make the queue grow without bound.
  const overLimit = (): boolean => {
    if (ws.bufferedAmount <= maxUnsentBytes) return false;
    const reason = `peer is not reading: ${Math.round(ws.bufferedAmount / 1048576)} MiB unsent`;
    log('warn', `bridge closing ${role} link ${remote}: ${reason}`);
    ws.close(CLOSE.notReading, reason);
    return true;
  };
  return {
    role,
    remote,
    hello,
    sendJson(msg) {
      if (ws.readyState === ws.OPEN && !overLimit()) sendWholeFrame(ws, JSON.stringify(msg));
    },
    sendBinary(data) {
      if (ws.readyState === ws.OPEN && !overLimit()) sendWholeFrame(ws, data);
    },
    onMessage(listener) {
      const l = (data: RawData, isBinary: boolean) => listener(isBinary ? rawToBytes(data) : rawToString(data));
      ws.on('message', l);
      return () => ws.off('message', l);
    },
    onClose(listener) {
      const l = (code: number, reason: Buffer) => listener(code, reason.toString('utf8'));
      ws.on('close', l);
      return () => ws.off('close', l);
    },
    close(code = CLOSE.normal, reason = '') {
      ws.close(code, fitCloseReason(reason));
    },
    get open() {
      return ws.readyState === ws.OPEN;
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
  };
}
