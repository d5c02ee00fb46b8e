// The embedded emulator without a worker: jsnes runs on the caller's thread (raw-speed benchmarks, fallback).
import { MachineClient } from './machineClient';
import { MachineSession } from './machineSession';
import type { MachineReplyBody, MachineRequestBody } from './workerProtocol';

export class InProcessEmulator extends MachineClient {
  protected readonly session = new MachineSession();

  constructor(options: { now?: () => number; prgRam?: boolean } = {}) {
    super(options.now, options.prgRam);
  }

  protected async request(body: MachineRequestBody): Promise<MachineReplyBody> {
    if (this.closed) throw new Error(`embedded emulator is closed (${body.type} after close())`);
    return this.session.handle(body);
  }

  protected async shutdown(): Promise<void> {
    this.session.clear();
    this.emit({ type: 'exit', code: null, reason: 'closed' });
  }
}
