// Timeline panel host logic: the session history as a strip (episodes, markers, cursor), hover peeks (row + thumbnail), click-to-travel.
import type { EmulatorFrame } from '../../core/ports';
import type { HistoryMarker, SessionHistory } from '../../core/history/sessionHistory';
import {
  MAX_TIMELINE_MARKERS,
  type HostMessage, type TimelineMarker, type TimelinePeek, type TimelineUpdate, type WebviewMessage,
} from '../../webview/panelMessages';
import { PanelController, type PanelChannel, type PanelServices, type StreamSettings } from './panelController';
import type { PanelSession, RuntimeSource } from './runtimeSource';
import { ThumbnailKeeper } from './thumbnailKeeper';
import { THUMB_HEIGHT, THUMB_WIDTH } from './thumbnailStore';

/** One strip in flight is plenty: a newer strip replaces an unsent one (it says everything the older said). */
export const TIMELINE_STREAM: StreamSettings = { highWatermark: 1, lowWatermark: 0, stallTimeoutMs: 2000 };

export class TimelineController extends PanelController<TimelineUpdate> {
  private readonly thumbs: ThumbnailKeeper;
  /** Ours when the host gave no session-wide keeper (then only frames seen while this panel is open have thumbnails). */
  private readonly ownKeeper: ThumbnailKeeper | undefined;
  /** What the last strip offered said, to offer a new one only when something moved. */
  private lastKey = '';
  private lastThumbed: EmulatorFrame | undefined;

  constructor(channel: PanelChannel, source: RuntimeSource, services: PanelServices & { thumbnails?: ThumbnailKeeper }, stream: StreamSettings = TIMELINE_STREAM) {
    super('timeline', channel, source, services, stream);
    this.ownKeeper = services.thumbnails ? undefined : new ThumbnailKeeper(source);
    this.thumbs = services.thumbnails ?? this.ownKeeper!;
    this.start();
  }

  override dispose(): void {
    this.ownKeeper?.dispose();
    super.dispose();
  }

  protected onSession(_session: PanelSession): void {
    this.lastKey = '';
    this.lastThumbed = undefined;
  }

  protected onReady(): void {
    this.lastKey = '';
    this.onPoll();
  }

  protected onPoll(): void {
    const rt = this.runtime;
    const cur = rt?.current;
    // A travel or a step back holds another state without a frame event: its screen is worth keeping too.
    if (cur && cur !== this.lastThumbed) this.keepThumb(cur);
    const update = this.snapshot();
    const key = JSON.stringify([update.available, update.oldestTick, update.headTick, update.currentTick, update.canTravel, update.episodes.length, update.episodes.at(-1)?.end, update.markers.length + update.markersDropped, this.live]);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.flow.offer(update);
  }

  protected build(update: TimelineUpdate, seq: number): HostMessage {
    return { type: 'timeline', seq, update };
  }

  protected override sameItem(): boolean {
    return true;
  }

  protected override onPeek(m: Extract<WebviewMessage, { type: 'peek' }>): void {
    const h = this.history;
    if (!h) return;
    this.post({ type: 'timelinePeek', peek: this.peek(h, m.tick) });
  }

  protected override onTravel(m: Extract<WebviewMessage, { type: 'travel' }>): void {
    const travel = this.services.travel?.bind(this.services);
    if (!travel || !this.live) {
      this.post({ type: 'travelled', tick: m.tick, error: 'No Lockstep debug session is running: start one (F5) to travel.' });
      return;
    }
    travel(m.tick).then(
      () => {
        this.post({ type: 'travelled', tick: m.tick, error: null });
        this.onPoll();
      },
      (e: Error) => {
        this.services.log.warn(`timeline: travel to tick ${m.tick} failed: ${e.message}`);
        this.post({ type: 'travelled', tick: m.tick, error: e.message });
      },
    );
  }

  private get history(): SessionHistory | undefined {
    return this.runtime?.sessionHistory;
  }

  private keepThumb(cur: EmulatorFrame): void {
    const rt = this.runtime;
    if (!rt) return;
    this.lastThumbed = cur;
    this.thumbs.keep(rt, cur);
  }

  private snapshot(): TimelineUpdate {
    const h = this.history;
    const rt = this.runtime;
    if (!h || !rt) {
      return {
        available: false,
        reason: rt ? 'This session keeps no history: time travel needs "timeTravel": true (the default) and the lockstep sync mode.' : null,
        oldestTick: 0, headTick: -1, currentTick: -1, canTravel: false, episodes: [], markers: [], markersDropped: 0,
      };
    }
    const head = h.headTick;
    const all = h.markers.filter((m) => m.tick <= head && m.tick >= h.oldestTick);
    const kept = all.slice(-MAX_TIMELINE_MARKERS).map(toMarker).sort((a, b) => a.tick - b.tick);
    return {
      available: true,
      reason: null,
      oldestTick: h.oldestTick,
      headTick: head,
      currentTick: rt.currentTick,
      canTravel: this.live && this.services.travel !== undefined,
      episodes: h.episodes.filter((e) => e.lastTick >= h.oldestTick).map((e) => ({ episode: e.episode, firstTick: Math.max(e.firstTick, h.oldestTick), lastTick: e.lastTick, end: e.end ?? null })),
      markers: kept,
      markersDropped: all.length - kept.length,
    };
  }

  private peek(h: SessionHistory, tick: number): TimelinePeek {
    const empty: TimelinePeek = {
      tick, found: false, episode: 0, step: 0, frame: 0, lastButtons: [0, 0], nextButtons: null, returns: [0, 0], vars: {},
      markers: [], thumb: null, thumbWidth: THUMB_WIDTH, thumbHeight: THUMB_HEIGHT, thumbTick: null,
    };
    if (tick < h.oldestTick || tick > h.headTick) return empty;
    const s = h.stateAt(tick);
    const firstTick = h.episodes.find((e) => e.firstTick <= tick && tick <= e.lastTick)?.firstTick ?? tick;
    const thumb = this.runtime ? this.thumbs.storeFor(this.runtime).nearest(tick, firstTick) : undefined;
    const ramMap = this.session?.ramMap;
    return {
      ...empty,
      found: true,
      episode: s.episode,
      step: s.step,
      frame: s.frame,
      lastButtons: s.lastButtons,
      nextButtons: tick < h.headTick ? h.buttonsAt(tick) : null,
      returns: s.returns,
      vars: ramMap ? ramMap.read(h.ramAt(tick)) : {},
      markers: h.markers.filter((m) => m.tick === tick).map(toMarker),
      thumb: thumb?.rgba ?? null,
      thumbTick: thumb?.tick ?? null,
    };
  }
}

function toMarker(m: HistoryMarker): TimelineMarker {
  return { tick: m.tick, kind: m.kind, text: m.text };
}
