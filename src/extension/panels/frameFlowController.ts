// Flow control for a stream to a webview: acknowledged high/low watermarks, one newest-wins pending slot, dropped counts.
// Pure (no vscode): the panel controllers own one each and give it a send function.

export interface FlowOptions<T> {
  /** At this many unacknowledged messages the stream stops sending and starts dropping. */
  highWatermark: number;
  /** Sending resumes once acknowledgements bring the unacknowledged count down to this. */
  lowWatermark: number;
  /** Unacknowledged messages older than this (ms) count as lost, so a webview that vanished cannot stall the stream forever. */
  stallTimeoutMs: number;
  /** Posts one item with its sequence number; called synchronously from offer(), ack(), tick() or reset(). */
  send: (item: T, seq: number) => void;
  now: () => number;
  /**
   * True when `newer` is a fresher copy of the same thing as `older` (the same frame, now with its screen): replacing
   * it in the pending slot skips nothing, so it is not counted as dropped.
   */
  sameItem?: (older: T, newer: T) => boolean;
}

export interface FlowStats {
  sent: number;
  acked: number;
  /** Items never sent: offered while throttled and replaced by a newer one (not a copy of the same, see sameItem), or discarded by clear(). */
  dropped: number;
  /** Sent items given up on (stall timeout, webview reload). */
  lost: number;
  outstanding: number;
  throttled: boolean;
  pending: boolean;
}

/**
 * While fewer than `highWatermark` items are unacknowledged, offer() sends at once. Past it, the stream is throttled
 * until acks bring the count down to `lowWatermark`; meanwhile only the newest offered item is kept (the state a
 * paused debugger must end up showing) and every item it displaces is dropped and counted. Memory is bounded by one item.
 */
export class FrameFlowController<T> {
  private readonly high: number;
  private readonly low: number;
  private readonly stallMs: number;
  private readonly sendItem: (item: T, seq: number) => void;
  private readonly now: () => number;
  private readonly sameItem: (older: T, newer: T) => boolean;
  private lastSent = 0;
  private lastAcked = 0;
  private isThrottled = false;
  private pendingItem: { item: T } | undefined;
  private counts = { sent: 0, acked: 0, dropped: 0, lost: 0 };
  /** When the oldest unacknowledged item was sent, or the last progress (ack) was made. */
  private progressAt = 0;
  private paused = false;

  constructor(options: FlowOptions<T>) {
    const { highWatermark: high, lowWatermark: low, stallTimeoutMs } = options;
    if (!Number.isInteger(high) || high < 1) throw new RangeError(`flow control: highWatermark must be a positive integer, got ${String(high)}`);
    if (!Number.isInteger(low) || low < 0 || low >= high) {
      throw new RangeError(`flow control: lowWatermark must be an integer in 0..${high - 1} (below highWatermark), got ${String(low)}`);
    }
    if (!(stallTimeoutMs > 0)) throw new RangeError(`flow control: stallTimeoutMs must be positive, got ${String(stallTimeoutMs)}`);
    this.high = high;
    this.low = low;
    this.stallMs = stallTimeoutMs;
    this.sendItem = options.send;
    this.now = options.now;
    this.sameItem = options.sameItem ?? (() => false);
  }

  get stats(): FlowStats {
    return { ...this.counts, outstanding: this.outstanding, throttled: this.isThrottled, pending: this.pendingItem !== undefined };
  }

  get outstanding(): number {
    return this.lastSent - this.lastAcked;
  }

  /** Sends the item now, or keeps it as the pending newest (dropping the one it replaces). */
  offer(item: T): 'sent' | 'pending' {
    if (!this.paused && !this.isThrottled && this.outstanding < this.high) {
      this.transmit(item);
      return 'sent';
    }
    if (this.pendingItem && !this.sameItem(this.pendingItem.item, item)) this.counts.dropped++;
    this.pendingItem = { item };
    return 'pending';
  }

  /** Cumulative acknowledgement. Stale or repeated acks are ignored; an ack for a never-sent seq is an error. */
  ack(seq: number): void {
    if (!Number.isInteger(seq) || seq < 0) throw new RangeError(`flow control: ack seq must be a non-negative integer, got ${String(seq)}`);
    if (seq > this.lastSent) throw new RangeError(`flow control: ack for seq ${seq}, but only ${this.lastSent} were sent`);
    if (seq <= this.lastAcked) return;
    this.counts.acked += seq - this.lastAcked;
    this.lastAcked = seq;
    this.progressAt = this.now();
    if (this.isThrottled && this.outstanding <= this.low) this.isThrottled = false;
    this.flush();
  }

  /** Call periodically: gives up on unacknowledged items after the stall timeout and sends what is pending. */
  tick(): void {
    if (this.outstanding > 0 && this.now() - this.progressAt >= this.stallMs) this.forgetOutstanding();
    this.flush();
  }

  /** The webview (re)started: whatever was in flight is gone. Sends the pending item if any. */
  reset(): void {
    this.forgetOutstanding();
    this.flush();
  }

  /** While paused (panel hidden), offers only update the pending slot. */
  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.flush();
  }

  /** Forgets the pending item (e.g. its session ended); it counts as dropped. */
  clear(): void {
    if (this.pendingItem) this.counts.dropped++;
    this.pendingItem = undefined;
  }

  private forgetOutstanding(): void {
    this.counts.lost += this.outstanding;
    this.lastAcked = this.lastSent;
    this.isThrottled = false;
    this.progressAt = this.now();
  }

  private flush(): void {
    if (this.paused || this.isThrottled || !this.pendingItem || this.outstanding >= this.high) return;
    const { item } = this.pendingItem;
    this.pendingItem = undefined;
    this.transmit(item);
  }

  private transmit(item: T): void {
    if (this.outstanding === 0) this.progressAt = this.now();
    const seq = ++this.lastSent;
    this.counts.sent++;
    if (this.outstanding >= this.high) this.isThrottled = true;
    this.sendItem(item, seq);
  }
}
