// Keeps screen thumbnails for each session from its first frame, whether or not a timeline panel is open yet.
import { hasScreen, type EmulatorFrame } from '../../core/ports';
import type { LockstepRuntime } from '../../core/runtime/runtime';
import type { DisposableLike, RuntimeSource } from './runtimeSource';
import { ThumbnailStore } from './thumbnailStore';

/**
 * A timeline opened late would otherwise know no screen of the past. Thumbnails exist only for frames that had a screen
 * (screens are captured while a screen-showing panel is open, as they are by default after F5).
 */
export class ThumbnailKeeper implements DisposableLike {
  private readonly stores = new WeakMap<LockstepRuntime, ThumbnailStore>();
  private watched: LockstepRuntime | undefined;
  private off: (() => void) | undefined;
  private readonly sub: DisposableLike;

  constructor(private readonly source: RuntimeSource) {
    this.sub = source.onDidChange(() => this.follow());
    this.follow();
  }

  /** The thumbnails of a session (created on first use). */
  storeFor(rt: LockstepRuntime): ThumbnailStore {
    let s = this.stores.get(rt);
    if (!s) {
      s = new ThumbnailStore();
      this.stores.set(rt, s);
    }
    return s;
  }

  /** Keeps the held frame's thumbnail under its session tick; a cut history drops the thumbnails of the future it lost. */
  keep(rt: LockstepRuntime, cur: EmulatorFrame): void {
    const h = rt.sessionHistory;
    if (!h || rt.currentTick < 0) return;
    const store = this.storeFor(rt);
    store.truncateAfter(h.headTick);
    if (hasScreen(cur) && cur.screen) store.add(rt.currentTick, cur.screen);
  }

  dispose(): void {
    this.off?.();
    this.sub.dispose();
  }

  private follow(): void {
    const rt = this.source.current()?.runtime;
    if (rt === this.watched) return;
    this.off?.();
    this.off = undefined;
    this.watched = rt;
    if (!rt) return;
    if (rt.current) this.keep(rt, rt.current);
    this.off = rt.events.on('frame', ({ current }) => this.keep(rt, current));
  }
}
