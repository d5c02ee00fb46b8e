// The embedded emulator: jsnes in a worker thread behind EmulatorPort, so emulation never blocks the caller's event loop.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { MachineClient } from './machineClient';
import {
  WORKER_PROTOCOL_VERSION,
  type MachineReply,
  type MachineReplyBody,
  type MachineRequest,
  type MachineRequestBody,
} from './workerProtocol';

export { InProcessEmulator } from './inProcessEmulator';

export interface EmbeddedEmulatorOptions {
  /** Worker script; defaults to dist/embeddedWorker.js beside the bundle, or the .ts source when run under tsx. */
  workerPath?: string;
  /** Wall clock (epoch ms) used to stamp frames; defaults to performance.timeOrigin + performance.now(). */
  now?: () => number;
  /** Every frame carries PRG-RAM $6000-$7FFF (a RAM map names a variable there). */
  prgRam?: boolean;
}

interface Pending {
  op: MachineRequestBody['type'];
  resolve(reply: MachineReplyBody): void;
  reject(err: Error): void;
}

export class EmbeddedEmulator extends MachineClient {
  private readonly workerPath: string;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the worker is gone, once it is. */
  private goneReason: string | undefined;
  private lastError: string | undefined;
  private exitAnnounced = false;

  constructor(options: EmbeddedEmulatorOptions = {}) {
    super(options.now, options.prgRam);
    this.workerPath = options.workerPath ?? defaultWorkerPath();
  }

  protected request(body: MachineRequestBody): Promise<MachineReplyBody> {
    if (this.goneReason !== undefined) {
      return Promise.reject(new Error(`embedded emulator is not running (${this.goneReason}); cannot ${body.type}`));
    }
    let worker: Worker;
    try {
      worker = this.worker ??= this.spawn();
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.nextId++;
    return new Promise<MachineReplyBody>((resolve, reject) => {
      this.pending.set(id, { op: body.type, resolve, reject });
      // Keep the process alive only while a reply is awaited: a forgotten close() must not hang the program.
      if (this.pending.size === 1) worker.ref();
      const msg: MachineRequest = { ...body, id, version: WORKER_PROTOCOL_VERSION };
      worker.postMessage(msg);
    });
  }

  protected async shutdown(): Promise<void> {
    const worker = this.worker;
    if (!worker) {
      this.markGone(this.goneReason ?? 'closed', null);
      return;
    }
    this.goneReason ??= 'closed';
    await worker.terminate(); // its 'exit' event rejects what is pending and announces the exit
  }

  private spawn(): Worker {
    if (!existsSync(this.workerPath)) {
      throw new Error(`embedded emulator worker not found: ${this.workerPath} (run "npm run build" to create dist/embeddedWorker.js)`);
    }
    const worker = startWorker(this.workerPath);
    worker.unref();
    worker.on('message', (reply: MachineReply) => this.onReply(reply));
    worker.on('error', (err) => {
      this.lastError = err.message;
      this.emit({ type: 'log', level: 'error', message: `embedded emulator worker failed: ${err.message}` });
    });
    worker.on('messageerror', (err) => {
      this.emit({ type: 'log', level: 'error', message: `embedded emulator worker sent an unreadable message: ${err.message}` });
    });
    worker.on('exit', (code) => {
      const reason = this.goneReason ?? `worker exited with code ${code}${this.lastError ? `: ${this.lastError}` : ''}`;
      this.markGone(reason, code);
    });
    return worker;
  }

  private onReply(reply: MachineReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    p.resolve(reply);
  }

  /** Fails every waiting call with the reason and announces the exit, once. */
  private markGone(reason: string, code: number | null): void {
    this.goneReason = reason;
    this.worker = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new Error(`embedded emulator stopped while waiting for ${p.op} (${reason})`));
    }
    if (this.exitAnnounced) return;
    this.exitAnnounced = true;
    this.emit({ type: 'exit', code, reason });
  }
}

/** dist/embeddedWorker.js next to the bundle; the TypeScript source when this file itself runs from source. */
function defaultWorkerPath(): string {
  const bundled = join(__dirname, 'embeddedWorker.js');
  if (__filename.endsWith('.js') && existsSync(bundled)) return bundled;
  const source = join(__dirname, 'embeddedWorker.ts');
  return existsSync(source) ? source : bundled;
}

/**
 * A .ts worker (tests run from source) needs tsx. Workers inherit the parent's `--import tsx`, but on Node 20 tsx
 * registers its hooks in the main thread only, so load the worker through tsx's require hook instead.
 */
function startWorker(path: string): Worker {
  if (!path.endsWith('.ts')) return new Worker(path);
  const tsxRequireHook = createRequire(__filename).resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(tsxRequireHook)}); require(${JSON.stringify(path)});`, { eval: true });
}
