// The error that stops a run when recovery gives up.
import type { DesyncEvent } from '../sync/desyncDetector';

/** Raised when recovery gives up; the run stops, rows recorded so far are kept. */
export class RuntimeFault extends Error {
  constructor(message: string, readonly event?: DesyncEvent) {
    super(message);
    this.name = 'RuntimeFault';
  }
}
