// The status bar's text and tooltip for a Lockstep session, from its lockstep.status / lockstep.waiting events (pure, no vscode).
import type { LockstepStatus, WaitingInfo } from '../debugAdapter/customProtocol';
import { onTimeoutOf } from '../debugAdapter/consoleCommand';

export interface StatusView {
  text: string;
  tooltip: string;
  /** Draw attention (warning colours) while the emulator waits for an agent or desyncs happened. */
  warning: boolean;
}

export function statusView(s: LockstepStatus, waiting?: WaitingInfo): StatusView {
  const w = waiting ?? s.waiting;
  const frame = s.frame === null ? '—' : String(s.frame);
  const icon = s.state === 'running' ? '$(play)' : s.state === 'stopped' ? '$(debug-pause)' : s.state === 'terminated' ? '$(debug-stop)' : '$(sync~spin)';
  const parts = [`${icon} frame ${frame}`];
  if (s.state === 'running') parts.push(`${Math.round(s.fps)} fps`);
  parts.push(`${s.desyncTotal} desync${s.desyncTotal === 1 ? '' : 's'}`);
  if (w && s.state === 'running') parts.push(`$(watch) c${w.waitingFor.map((p) => p + 1).join('+')} ${formatWait(w.sinceMs)}`);
  if (s.pauseUntilAction) parts.push('$(debug-breakpoint-conditional) wait');
  const desyncs = Object.entries(s.desyncs).map(([t, n]) => `${t} ${n}`).join(', ');
  const tooltip = [
    `Lockstep: ${s.state}, frame ${frame} (episode ${s.episode}, step ${s.step})`,
    `${s.framesRun} frames run${s.state === 'running' ? `, ${s.fps.toFixed(0)} fps` : ''}`,
    `desyncs: ${s.desyncTotal}${desyncs ? ` (${desyncs})` : ''}`,
    `on timeout: ${onTimeoutOf(s.gateMode)}${w ? `, waiting for controller ${w.waitingFor.map((p) => p + 1).join(' and ')} on frame ${w.frame} for ${formatWait(w.sinceMs)}` : ''}`,
    `pause-until-action: ${s.pauseUntilAction ? 'on' : 'off'} (click to toggle)`,
    `step back: ${s.stepBackAvailable} frame(s)`,
  ].join('\n');
  return { text: parts.join(' · '), tooltip, warning: !!w || s.desyncTotal > 0 };
}

export function formatWait(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
