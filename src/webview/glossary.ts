// One-line explanations of the panels' own words (sync quality, no screen paired, dropped, on timeout, the metrics tiles), shown as hover text where the words appear.

export const GLOSSARY = {
  syncQuality: 'Sync quality: the time between a frame\'s state and the screen paired with it (same frame id). Near 0 ms means the agent saw a screen and a RAM state of the same moment; above syncQualityThresholdMs the pair counts as poorly synced.',
  noScreenPaired:
    'No screen paired: no screen was buffered for this frame, so sync quality cannot be measured. ' +
    'Screens are captured while a screen or buffer panel is open, or when an agent asks for them.',
  dropped:
    'Dropped: frames of this session the panel skipped. It always shows the newest frame and skips those that came ' +
    'while it was still drawing or hidden. The run loses nothing: every frame still runs and is recorded.',
  onTimeout: 'On timeout (onTimeout in lockstep.yaml, "gate hold|skip" in the Debug Console): hold = the emulator holds the frame and waits for a late action; skip = the frame runs with the late controller\'s previous buttons.',
  fps: 'Frames per second of the current run (since the last Continue or Step N Frames); while paused, of the last run.',
  frameDelay: 'Frame delay: time from one frame to the next, agent wait included.',
  agentLatency: 'Agent latency: time from sending an observation to the agent until its action arrived.',
  desyncRate: 'Desync rate: desyncs per frame processed (frame skips, timeouts, clock drift, state divergences).',
  framesProcessed: 'Frames processed: frames run in this session; the percentiles cover the newest "window" of them.',
} as const;
