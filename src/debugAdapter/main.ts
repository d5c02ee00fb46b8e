// Standalone debug adapter (dist/debugAdapter.js): speaks DAP on stdin/stdout; used by tests and by editors other than VS Code.
import { format } from 'node:util';
import { LockstepDebugSession } from './lockstepDebugSession';
import { createDefaultSessionFactory } from './sessionFactory';

// stdout carries the protocol: anything printed there (a scripted agent's console.log) would corrupt it.
for (const method of ['log', 'info', 'debug', 'warn'] as const) {
  console[method] = (...args: unknown[]) => {
    process.stderr.write(format(...args) + '\n');
  };
}

const session = new LockstepDebugSession({ createSession: createDefaultSessionFactory() });

let exiting = false;
async function exit(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  // A deadline, so a hung emulator can never keep the adapter (and its FCEUX) alive.
  const deadline = setTimeout(() => process.exit(code), 5000);
  deadline.unref();
  await session.shutdownRun().catch(() => undefined);
  process.exit(code);
}

process.on('SIGTERM', () => void exit(0));
process.on('SIGINT', () => void exit(0));
process.on('SIGHUP', () => void exit(0));
process.stdin.on('close', () => void exit(0));

session.start(process.stdin, process.stdout);
