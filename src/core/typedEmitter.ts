// A small typed event emitter: listeners per event name, each returns its own unsubscribe function.

type Listener<T> = (payload: T) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners: { [K in keyof Events]?: Set<Listener<Events[K]>> } = {};

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    (this.listeners[event] ??= new Set()).add(listener);
    return () => this.listeners[event]?.delete(listener);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners[event];
    if (!set) return;
    for (const l of [...set]) l(payload);
  }

  hasListeners<K extends keyof Events>(event: K): boolean {
    return (this.listeners[event]?.size ?? 0) > 0;
  }
}
