// A fixed-capacity circular buffer: pushing into a full buffer evicts the oldest item, with no allocation per push.

export class RingBuffer<T> {
  private readonly items: Array<T | undefined>;
  private head = 0; // index of the oldest item
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`RingBuffer capacity must be a positive integer, got ${String(capacity)}`);
    }
    this.items = new Array<T | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Appends an item; returns the evicted oldest item when the buffer was full. */
  push(item: T): T | undefined {
    const cap = this.capacity;
    if (this.count < cap) {
      this.items[(this.head + this.count) % cap] = item;
      this.count++;
      return undefined;
    }
    const evicted = this.items[this.head];
    this.items[this.head] = item;
    this.head = (this.head + 1) % cap;
    return evicted;
  }

  /** The i-th item from the oldest (0) to the newest (size - 1); negative i counts from the newest (-1). */
  get(i: number): T | undefined {
    if (i < 0) i += this.count;
    if (i < 0 || i >= this.count || !Number.isInteger(i)) return undefined;
    return this.items[(this.head + i) % this.capacity];
  }

  /** Replaces the i-th item (same indexing as get); returns false when i is out of range. */
  set(i: number, item: T): boolean {
    if (i < 0) i += this.count;
    if (i < 0 || i >= this.count || !Number.isInteger(i)) return false;
    this.items[(this.head + i) % this.capacity] = item;
    return true;
  }

  newest(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.head + this.count - 1) % this.capacity];
  }

  oldest(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  /** Index (from the oldest) of the newest item matching pred, or -1; scans newest first because recent items are asked for most. */
  findLastIndex(pred: (item: T) => boolean): number {
    for (let i = this.count - 1; i >= 0; i--) {
      if (pred(this.items[(this.head + i) % this.capacity] as T)) return i;
    }
    return -1;
  }

  /** Drops every item (and the references to them, so they can be collected). */
  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  /** A copy of the items, oldest first. */
  toArray(): T[] {
    const out = new Array<T>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.items[(this.head + i) % this.capacity] as T;
    return out;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) % this.capacity] as T;
  }
}
