// Buffer panel host logic: the sync buffer's states as table rows (throttled, flow-controlled) and one state in full on request.
import { NES_HEIGHT, NES_WIDTH } from '../../core/nes';
import type { BufferedState } from '../../core/sync/syncBuffer';
import type { LockstepRuntime, RuntimeStateBuffered } from '../../core/runtime/runtime';
import type { BufferDetail, BufferRow, HostMessage, WebviewMessage } from '../../webview/panelMessages';
import { PanelController, ownBytes, type PanelChannel, type PanelServices, type StreamSettings } from './panelController';
import type { PanelSession, RuntimeSource } from './runtimeSource';

/** Newest rows sent at most; a sync buffer may hold up to a million states, a table of that helps nobody. */
export const MAX_BUFFER_ROWS = 2000;
/** Row tables are small and sent at poll rate at most: one in flight is enough. */
export const BUFFER_STREAM: StreamSettings = { highWatermark: 2, lowWatermark: 0, stallTimeoutMs: 3000 };

export class BufferController extends PanelController<true> {
  private dirty = true;
  private lastCurrent: unknown;

  constructor(channel: PanelChannel, source: RuntimeSource, services: PanelServices, stream: StreamSettings = BUFFER_STREAM) {
    super('buffer', channel, source, services, stream);
    this.start();
  }

  protected onSession(session: PanelSession): void {
    this.dirty = true;
    const mark = () => { this.dirty = true; };
    this.listen(session.runtime.events.on('frame', mark));
    this.listen(session.runtime.events.on('desync', mark));
  }

  protected onReady(): void {
    this.dirty = true;
    this.onPoll();
  }

  protected onPoll(): void {
    const rt = this.runtime;
    if (!rt) return;
    // Step back rewinds the buffer without a frame event; `current` changes identity when it does.
    if (rt.current !== this.lastCurrent) {
      this.lastCurrent = rt.current;
      this.dirty = true;
    }
    if (!this.dirty) return;
    this.dirty = false;
    this.flow.offer(true);
  }

  protected build(_item: true, seq: number): HostMessage {
    const rt = this.runtime;
    if (!rt) return { type: 'bufferRows', seq, rows: [], total: 0, capacity: 0 };
    return { type: 'bufferRows', seq, rows: bufferRows(rt, MAX_BUFFER_ROWS), total: rt.buffer.size, capacity: rt.buffer.capacity };
  }

  protected override onSelectRow(m: Extract<WebviewMessage, { type: 'selectRow' }>): void {
    const rt = this.runtime;
    this.post({ type: 'bufferDetail', detail: rt ? bufferDetail(rt, m.frame) : missingDetail(m.frame) });
  }
}

/** The newest `max` buffered states as rows, oldest first. */
export function bufferRows(rt: LockstepRuntime, max: number): BufferRow[] {
  const states = rt.buffer.states();
  const screenTimes = new Map<number, number>();
  for (const sc of rt.buffer.screens()) if (sc.frame !== null) screenTimes.set(sc.frame, sc.timestamp);
  return states.slice(Math.max(0, states.length - max)).map((s) => row(rt, s, screenTimes));
}

function row(rt: LockstepRuntime, s: BufferedState<RuntimeStateBuffered>, screenTimes: Map<number, number>): BufferRow {
  const pair = rt.buffer.pair(s.frame);
  const screenFrame = pair?.screen ? pair.screenFrame : null;
  return {
    frame: s.frame,
    episode: s.episode ?? null,
    timestamp: s.timestamp,
    screenFrame,
    // An untagged screen (paired by nearest time) has no frame id to look its time up by.
    screenTimestamp: screenFrame !== null ? (screenTimes.get(screenFrame) ?? null) : null,
    syncQualityMs: pair?.syncQualityMs ?? null,
    speculative: s.speculative ?? false,
    lag: s.state.lag,
    desync: s.desync ? [...s.desync] : [],
  };
}

export function bufferDetail(rt: LockstepRuntime, frame: number): BufferDetail {
  const s = rt.buffer.getState(frame);
  if (!s) return missingDetail(frame);
  const pair = rt.buffer.pair(frame);
  return {
    frame,
    found: true,
    episode: s.episode ?? null,
    timestamp: s.timestamp,
    vars: { ...s.state.vars },
    ram: ownBytes(s.state.ram),
    screen: pair?.screen ? ownBytes(pair.screen) : null,
    screenFrame: pair?.screen ? pair.screenFrame : null,
    width: NES_WIDTH,
    height: NES_HEIGHT,
    syncQualityMs: pair?.syncQualityMs ?? null,
    speculative: s.speculative ?? false,
    lag: s.state.lag,
    desync: s.desync ? [...s.desync] : [],
  };
}

function missingDetail(frame: number): BufferDetail {
  return {
    frame, found: false, episode: null, timestamp: 0, vars: {}, ram: null, screen: null, screenFrame: null,
    width: NES_WIDTH, height: NES_HEIGHT, syncQualityMs: null, speculative: false, lag: false, desync: [],
  };
}
