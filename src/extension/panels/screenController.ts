// Screen panel host logic: streams the runtime's current frame (screen, frame id, buttons, paired sync quality) under flow control.
import type { EmulatorFrame } from '../../core/ports';
import { NES_HEIGHT, NES_WIDTH } from '../../core/nes';
import type { LockstepRuntime } from '../../core/runtime/runtime';
import type { HostMessage, ScreenUpdate, WebviewMessage } from '../../webview/panelMessages';
import { PanelController, ownBytes, type PanelChannel, type PanelServices, type StreamSettings } from './panelController';
import type { PanelSession, RuntimeSource } from './runtimeSource';

/** What is known of a frame at the moment it was shown; the runtime moves on before a throttled frame gets sent. */
interface FrameCapture {
  current: EmulatorFrame;
  buttons: [number, number];
  episode: number;
  step: number;
  syncQualityMs: number | null;
  speculative: boolean;
  desync: readonly string[] | undefined;
}

/** A few frames in flight hide the webview's drawing latency; more would only show stale frames. */
export const SCREEN_STREAM: StreamSettings = { highWatermark: 3, lowWatermark: 1, stallTimeoutMs: 2000 };

export class ScreenController extends PanelController<FrameCapture> {
  private lastShown: EmulatorFrame | undefined;
  /** Whether the shown session captured screens when the webview was last told (capture follows the panels). */
  private toldScreens: boolean | undefined;
  /** The flow controller's dropped count when this session began: the panel counts per session. */
  private droppedBefore = 0;

  constructor(channel: PanelChannel, source: RuntimeSource, services: PanelServices, stream: StreamSettings = SCREEN_STREAM) {
    super('screen', channel, source, services, stream);
    this.start();
  }

  protected onSession(session: PanelSession): void {
    const rt = session.runtime;
    this.lastShown = undefined;
    this.toldScreens = rt.wantsScreens;
    this.droppedBefore = this.flow.stats.dropped;
    this.listen(rt.events.on('frame', ({ current }) => this.show(rt, current)));
  }

  protected onReady(): void {
    const rt = this.runtime;
    const cur = rt?.current;
    if (rt && cur) this.show(rt, cur, true);
  }

  protected onPoll(): void {
    // Step back and RAM writes replace `current` without a frame event.
    const rt = this.runtime;
    const cur = rt?.current;
    if (rt && this.live && this.session && rt.wantsScreens !== this.toldScreens) {
      this.toldScreens = rt.wantsScreens;
      if (this.isReady) this.post({ type: 'session', session: this.services.sessions.info(this.session, true) });
    }
    if (rt && cur && cur !== this.lastShown) this.show(rt, cur);
  }

  protected build(c: FrameCapture, seq: number): HostMessage {
    const cur = c.current;
    const update: ScreenUpdate = {
      frame: cur.frame,
      episode: c.episode,
      step: c.step,
      timestamp: cur.timestamp,
      width: NES_WIDTH,
      height: NES_HEIGHT,
      pixels: cur.screen ? ownBytes(cur.screen) : null,
      buttons: c.buttons,
      syncQualityMs: c.syncQualityMs,
      speculative: c.speculative,
      desync: c.desync ? [...c.desync] : [],
      lag: cur.lag,
      dropped: this.flow.stats.dropped - this.droppedBefore,
    };
    return { type: 'screen', seq, update };
  }

  /** The held frame again, e.g. with the screen it got when capture switched on: not a frame skipped. */
  protected override sameItem(older: FrameCapture, newer: FrameCapture): boolean {
    return older.current.frame === newer.current.frame && older.episode === newer.episode && older.step === newer.step;
  }

  protected override onSavePng(m: Extract<WebviewMessage, { type: 'savePng' }>): void {
    void this.save('png', { title: `Save frame ${m.frame} as PNG`, defaultName: `frame-${m.frame}.png`, filters: { 'PNG image': ['png'] }, data: m.png });
  }

  private show(rt: LockstepRuntime, cur: EmulatorFrame, force = false): void {
    if (!force && cur === this.lastShown) return;
    this.lastShown = cur;
    const pair = rt.buffer.pair(cur.frame);
    const state = rt.buffer.getState(cur.frame);
    const [b1, b2] = rt.lastAppliedButtons;
    this.flow.offer({
      current: cur,
      buttons: [b1, b2],
      episode: rt.episodeIndex,
      step: rt.stepIndex,
      syncQualityMs: pair?.syncQualityMs ?? null,
      speculative: state?.speculative ?? false,
      desync: state?.desync,
    });
  }
}
