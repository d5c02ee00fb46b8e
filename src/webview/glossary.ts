// One-line explanations of the panels' own words (sync quality, no screen paired, dropped, on timeout), shown as hover text where the words appear.

export const GLOSSARY = {
  syncQuality: 'Sync quality: the time between a frame\'s state and the screen paired with it (same frame id). Near 0 ms means the agent saw a screen and a RAM state of the same moment; above syncQualityThresholdMs the pair counts as poorly synced.',
  noScreenPaired: 'No screen paired: no screen was captured for these frames (no agent asked for screens and captureScreens is off), so sync quality cannot be measured.',
  dropped: 'Dropped: screens this panel skipped because it was still drawing earlier ones (newest wins). Only the display skips them; the run and its recordings lose no frame.',
  onTimeout: 'On timeout (onTimeout in lockstep.yaml, "gate hold|skip" in the Debug Console): hold = the emulator holds the frame and waits for a late action; skip = the frame runs with the late controller\'s previous buttons.',
} as const;
