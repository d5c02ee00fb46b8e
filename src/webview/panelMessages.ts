// The one typed message protocol between the extension's panel hosts and the panel webviews (both directions), with its validator.

// Imported by extension and browser code alike, so nothing here may use the DOM, vscode or node.

/** Bumped whenever a message changes shape; exchanged in `ready` (webview) and `hello` (host). */
export const PANEL_PROTOCOL_VERSION = 4;

export type PanelKind = 'screen' | 'buffer' | 'metrics' | 'timeline' | 'agentView';
export const PANEL_KINDS: readonly PanelKind[] = ['screen', 'buffer', 'metrics', 'timeline', 'agentView'];

/** What the panels know about the session they show. */
export interface SessionInfo {
  /** Changes for every new runtime, so a webview can tell a new session from the same one. */
  id: string;
  rom: string;
  /** Wall clock (ms since the epoch) when the panels first saw this runtime: the zero of chart time axes. */
  startedAt: number;
  /** False once the session has ended; the panels keep showing its last data. */
  live: boolean;
  /** Whether the runtime captures screens now (while a screen or buffer panel is open, or by its launch configuration). */
  screens: boolean;
  /** The launch configuration says `"captureScreens": false`: no screens even with panels open. */
  screensOff: boolean;
  bufferCapacity: number;
  ramVars: RamVarInfo[];
}

export interface RamVarInfo {
  name: string;
  address: number;
  size: number;
  signed: boolean;
  meaning?: string;
}

/** One emulator frame for the screen panel. */
export interface ScreenUpdate {
  frame: number;
  episode: number;
  step: number;
  timestamp: number;
  width: number;
  height: number;
  /** RGBA, width*height*4 bytes; null when the session captures no screens. */
  pixels: Uint8Array | null;
  /** Buttons applied on the frame that led here, [controller 1, controller 2]. */
  buttons: [number, number];
  /** |screen time - state time| of the buffered pair; 0 for a screen tagged with the same frame; null without a pair. */
  syncQualityMs: number | null;
  speculative: boolean;
  desync: string[];
  lag: boolean;
  /**
   * Frames of this session the panel skipped so far: it shows the newest frame, so frames that came while the webview
   * was still drawing (or hidden) are skipped, never queued. Counted per session; nothing is lost from the run.
   */
  dropped: number;
}

/** One buffered state as a table row (no RAM: that comes with bufferDetail). */
export interface BufferRow {
  frame: number;
  episode: number | null;
  timestamp: number;
  /** Frame of the screen paired with this state (same frame, else nearest by time), null when none is buffered. */
  screenFrame: number | null;
  screenTimestamp: number | null;
  syncQualityMs: number | null;
  speculative: boolean;
  lag: boolean;
  desync: string[];
}

export interface BufferDetail {
  frame: number;
  /** False when the state has left the ring since the row was shown. */
  found: boolean;
  episode: number | null;
  timestamp: number;
  vars: Record<string, number>;
  ram: Uint8Array | null;
  screen: Uint8Array | null;
  screenFrame: number | null;
  width: number;
  height: number;
  syncQualityMs: number | null;
  speculative: boolean;
  lag: boolean;
  desync: string[];
}

/** One sample of the rolling metrics, taken by the host whenever frames or desyncs moved on. */
export interface MetricsPoint {
  /** Seconds since SessionInfo.startedAt. */
  t: number;
  frame: number;
  framesProcessed: number;
  /** The run's frames per second when sampled. */
  fps: number;
  delayP50: number;
  delayP99: number;
  delayMax: number;
  latencyP50: number;
  latencyP99: number;
  /** null while no frame in the window had a paired screen. */
  syncAvg: number | null;
  syncP99: number | null;
  desyncRate: number;
}

export interface DesyncMark {
  /** Seconds since SessionInfo.startedAt. */
  t: number;
  frame: number;
  type: string;
  message: string;
}

/** The summary the seed's get_performance_stats gave, plus percentiles and per-type desync counts. */
export interface MetricsSummary {
  framesProcessed: number;
  /** Frames per second of the current run, or of the last run while paused (never an average over paused time). */
  fps: number;
  /** Whether the session is running frames now (fps is then this run's). */
  running: boolean;
  desyncRate: number;
  desyncs: Record<string, number>;
  frameDelay: { avg: number; p50: number; p99: number; max: number };
  agentLatency: { avg: number; p50: number; p99: number; max: number };
  syncQuality: { avg: number; p99: number; samples: number };
  windowFrames: number;
  /** Clock sync per peer: its clock minus the bridge's (offsetMs) and the round trip it was measured over; null before a round. */
  clocks: Array<{ peer: string; offsetMs: number | null; rttMs: number | null; rounds: number }>;
}

export interface MetricsUpdate {
  /** True: `points` is the whole series (webview reloaded or new session); false: points to append. */
  reset: boolean;
  points: MetricsPoint[];
  summary: MetricsSummary;
  /** Per-frame delays in the metrics window (for the histogram), oldest first. */
  delays: number[];
  /** The most recent desyncs (bounded), oldest first. */
  desyncs: DesyncMark[];
}

/** One episode on the timeline strip, by session tick (a tick is one held state of the session history). */
export interface TimelineEpisode {
  episode: number;
  firstTick: number;
  lastTick: number;
  /** Why it ended; null while open. */
  end: string | null;
}

export type TimelineMarkerKind = 'desync' | 'breakpoint' | 'stop';

export interface TimelineMarker {
  tick: number;
  kind: TimelineMarkerKind;
  text: string;
}

/** The session as a strip: what the timeline panel draws. */
export interface TimelineUpdate {
  /** False when the session keeps no history (timeTravel off, or run-ahead mode): nothing to travel to. */
  available: boolean;
  /** Why not, when unavailable. */
  reason: string | null;
  oldestTick: number;
  headTick: number;
  /** The held state's tick (the cursor). */
  currentTick: number;
  /** Whether travel requests are accepted now (a debug session is stopped on this runtime). */
  canTravel: boolean;
  episodes: TimelineEpisode[];
  /** The newest markers (at most MAX_TIMELINE_MARKERS), oldest first. */
  markers: TimelineMarker[];
  /** Markers left out because of the cap. */
  markersDropped: number;
}

/** What hovering a tick shows: its row and the nearest screen thumbnail kept at or before it. */
export interface TimelinePeek {
  tick: number;
  found: boolean;
  episode: number;
  step: number;
  frame: number;
  /** Buttons applied on the frame that led here, and the buttons that left it (null at the head). */
  lastButtons: [number, number];
  nextButtons: [number, number] | null;
  returns: [number, number];
  vars: Record<string, number>;
  markers: TimelineMarker[];
  /** Downsampled RGBA screen, width*height*4 bytes, or null when no screen of this episode was kept at or before it. */
  thumb: Uint8Array | null;
  thumbWidth: number;
  thumbHeight: number;
  /** The tick the thumbnail shows (the hovered one, or the nearest kept before it in its episode). */
  thumbTick: number | null;
}

/** A screen as an agent got it (see GivenScreen in the core's ports): 1, 3 or 4 bytes per pixel, stacked frames oldest first. */
export interface AgentViewScreen {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  stack: Uint8Array[];
  stackFrames: number[];
  encoding: string;
}

/** One agent's side of the held frame. */
export interface AgentViewAgent {
  player: number;
  name: string;
  /** How the observation reached it ("WebSocket state message + screen frame", "ONNX model input"), null without an input tap. */
  via: string | null;
  /** Variables by name as sent (the agent's own report), else as the runtime built them; in order. */
  vars: Array<{ name: string; value: number }>;
  varsSource: 'as sent' | 'runtime observation';
  /** A model's numeric input vector with its names, when the agent's input is one. */
  vector: { names: string[]; values: number[] } | null;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  /** The observation's info as JSON. */
  info: string;
  screen: AgentViewScreen | null;
  /** Why a screen or the agent's own report is missing, when one is. */
  note: string | null;
  /** Times the observation was given (more than 1: resync). */
  sends: number;
  /** What the agent answered for this observation (frame id as claimed), in arrival order. */
  answers: Array<{ frame: number; buttons: number; info: string | null; afterMs: number }>;
  /** What the frame ran with; null while it has not run. */
  applied: { buttons: number; held: boolean; manual: boolean; latencyMs: number | null; info: string | null } | null;
  /** Short words for what happened: answered, held, late, manual, resync, mismatch, repeat, waiting. */
  tags: string[];
  desyncs: Array<{ type: string; message: string; recovery: string | null }>;
}

/** The agent's-eye view of the held frame. */
export interface AgentViewUpdate {
  held: { episode: number; step: number; frame: number; tick: number } | null;
  /** False when what the agents got for the held frame is no longer kept (or was never: the frame ran before the window). */
  kept: boolean;
  /** Why nothing is shown, or what is missing. */
  reason: string | null;
  /** Frames the window keeps, and the oldest one still kept. */
  window: number;
  oldestKept: { episode: number; step: number; frame: number } | null;
  /** The held frame's raw screen (RGBA 256x240), null when the session captured none for it. */
  raw: { width: number; height: number; pixels: Uint8Array } | null;
  agents: AgentViewAgent[];
}

/** How many markers a timeline update carries at most (a flaky agent can make thousands of desyncs). */
export const MAX_TIMELINE_MARKERS = 2000;

/** Extension host -> webview. Streamed messages carry `seq`; the webview acknowledges them with `ack`. */
export type HostMessage =
  | { type: 'hello'; version: number; panel: PanelKind; session: SessionInfo | null }
  | { type: 'session'; session: SessionInfo | null }
  | { type: 'screen'; seq: number; update: ScreenUpdate }
  | { type: 'bufferRows'; seq: number; rows: BufferRow[]; total: number; capacity: number }
  | { type: 'bufferDetail'; detail: BufferDetail }
  | { type: 'metrics'; seq: number; update: MetricsUpdate }
  | { type: 'timeline'; seq: number; update: TimelineUpdate }
  | { type: 'timelinePeek'; peek: TimelinePeek }
  | { type: 'agentView'; seq: number; update: AgentViewUpdate }
  /** The answer to a travel request: where the session stopped, or why it could not. */
  | { type: 'travelled'; tick: number; error: string | null }
  | { type: 'saved'; what: 'png' | 'csv'; path: string | null; error: string | null };

/** Webview -> extension host. */
export type WebviewMessage =
  | { type: 'ready'; version: number; panel: PanelKind }
  /** Cumulative: every streamed message up to and including seq has been shown. */
  | { type: 'ack'; seq: number }
  | { type: 'savePng'; frame: number; png: Uint8Array }
  | { type: 'selectRow'; frame: number }
  | { type: 'exportCsv' }
  /** The timeline's pointer is over this tick: answer with a timelinePeek. */
  | { type: 'peek'; tick: number }
  /** The timeline was clicked: stop the debug session on this tick. */
  | { type: 'travel'; tick: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export type StreamedHostMessage = Extract<HostMessage, { seq: number }>;

/** The largest PNG a webview may hand over (a 256x240 frame is ~10-60 KB). */
export const MAX_PNG_BYTES = 4 * 1024 * 1024;
export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;
const MAX_LOG_CHARS = 2000;

/** Checks a message from a webview; throws an Error naming the bad field and value. */
export function parseWebviewMessage(raw: unknown): WebviewMessage {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`webview message must be an object, got ${describe(raw)}`);
  }
  const m = raw as Record<string, unknown>;
  const type = m.type;
  if (typeof type !== 'string') throw new Error(`webview message needs a string "type", got ${describe(type)}`);
  switch (type) {
    case 'ready': {
      const version = m.version;
      if (!Number.isInteger(version)) throw new Error(`ready.version must be an integer, got ${describe(version)}`);
      const panel = m.panel;
      if (typeof panel !== 'string' || !(PANEL_KINDS as readonly string[]).includes(panel)) {
        throw new Error(`ready.panel must be one of ${PANEL_KINDS.join(', ')}, got ${describe(panel)}`);
      }
      return { type, version: version as number, panel: panel as PanelKind };
    }
    case 'ack':
      return { type, seq: nonNegativeInt(m.seq, 'ack.seq') };
    case 'savePng': {
      const frame = nonNegativeInt(m.frame, 'savePng.frame');
      const png = toBytes(m.png, 'savePng.png');
      if (png.length > MAX_PNG_BYTES) throw new Error(`savePng.png is ${png.length} bytes, over the ${MAX_PNG_BYTES}-byte limit`);
      if (png.length < PNG_SIGNATURE.length || PNG_SIGNATURE.some((b, i) => png[i] !== b)) {
        throw new Error('savePng.png is not a PNG image (bad signature)');
      }
      return { type, frame, png };
    }
    case 'selectRow':
      return { type, frame: nonNegativeInt(m.frame, 'selectRow.frame') };
    case 'exportCsv':
      return { type };
    case 'peek':
      return { type, tick: nonNegativeInt(m.tick, 'peek.tick') };
    case 'travel':
      return { type, tick: nonNegativeInt(m.tick, 'travel.tick') };
    case 'log': {
      const level = m.level;
      if (level !== 'info' && level !== 'warn' && level !== 'error') throw new Error(`log.level must be info, warn or error, got ${describe(level)}`);
      if (typeof m.message !== 'string') throw new Error(`log.message must be a string, got ${describe(m.message)}`);
      return { type, level, message: m.message.slice(0, MAX_LOG_CHARS) };
    }
    default:
      throw new Error(`unknown webview message type ${JSON.stringify(type)}`);
  }
}

function nonNegativeInt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${field} must be a non-negative integer, got ${describe(v)}`);
  return v;
}

/** VS Code transfers typed arrays as typed arrays (engines >= 1.57); an ArrayBuffer is accepted too. */
function toBytes(v: unknown, field: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw new Error(`${field} must be a Uint8Array, got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}
