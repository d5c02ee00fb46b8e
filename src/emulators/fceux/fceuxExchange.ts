// The FCEUX link's requests and answers: what can answer a request, how a request judges it, and its deadline.
import type { EmulatorFrame } from '../../core/ports';
import type { ErrorMsg, InspectReplyMsg, SavestateAckMsg, WriteRamAckMsg } from '../../bridge/protocol';

/** What can answer a request: a state (with its screen), an acknowledgement or an error from the script. */
export type Incoming =
  /** fresh: the first state on a new link, which the script sends after every (re)connect. */
  | { kind: 'state'; frame: EmulatorFrame; fresh: boolean }
  | { kind: 'pong'; id: number }
  | { kind: 'ack'; msg: SavestateAckMsg | WriteRamAckMsg }
  | { kind: 'inspect'; msg: InspectReplyMsg }
  | { kind: 'error'; msg: ErrorMsg };

/** A request's view of incoming messages: finish with this one, send the request again, or keep waiting. */
export type Verdict = 'done' | 'resend' | 'wait';

/** When a request fails for want of an answer, and how. */
export interface Deadline {
  at: number;
  expire(): void;
}

export interface Exchange {
  send(): void;
  judge(ev: Incoming): Verdict;
  /** Called with the answer that finished the exchange, before the request's promise settles (see StepOptions.arrived). */
  arrived?(ev: Incoming): void;
  resolve(ev: Incoming): void;
  reject(err: Error): void;
}

export function isAck(msg: SavestateAckMsg | WriteRamAckMsg, op: SavestateAckMsg['op'], slot: number): boolean {
  return msg.type === 'savestate_ack' && msg.op === op && msg.slot === slot;
}

/** For requests answered by an acknowledgement: a reconnect's first state means the request was lost with the old link. */
export function resendAfterReconnect(e: Incoming): Verdict {
  return e.kind === 'state' && e.fresh ? 'resend' : 'wait';
}

export function frameOf(ev: Incoming): EmulatorFrame {
  if (ev.kind !== 'state') throw new Error(`expected a state from FCEUX, got ${ev.kind}`);
  return ev.frame;
}
