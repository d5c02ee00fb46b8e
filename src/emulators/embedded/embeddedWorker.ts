// Worker-thread entry: hosts one jsnes machine and answers EmbeddedEmulator's requests over the worker port.
import { parentPort, type MessagePort } from 'node:worker_threads';
import { MachineSession } from './machineSession';
import {
  replyTransferList,
  WORKER_PROTOCOL_VERSION,
  type MachineReply,
  type MachineReplyBody,
  type MachineRequest,
} from './workerProtocol';

function serve(port: MessagePort): void {
  const session = new MachineSession();
  // One request at a time, in arrival order: 'start' awaits jsnes's import and must finish before the next step.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (req: MachineRequest) => {
    queue = queue.then(() => answer(port, session, req));
  });
}

async function answer(port: MessagePort, session: MachineSession, req: MachineRequest): Promise<void> {
  const body: MachineReplyBody =
    req.version === WORKER_PROTOCOL_VERSION
      ? await session.handle(req)
      : { type: 'error', message: `embedded worker speaks protocol ${WORKER_PROTOCOL_VERSION}, request has ${req.version}` };
  const reply: MachineReply = { ...body, id: req.id };
  try {
    port.postMessage(reply, replyTransferList(reply));
  } catch (err) {
    port.postMessage({ type: 'error', id: req.id, message: `cannot send reply: ${(err as Error).message}` } satisfies MachineReply);
  }
}

if (!parentPort) throw new Error('embeddedWorker must run inside a worker_threads Worker');
serve(parentPort);
