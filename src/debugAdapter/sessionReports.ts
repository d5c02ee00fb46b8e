// What the debug session tells the user about the run, built from the runtime and run control: status, summary, session info, console lines.
import { basename } from 'node:path';
import type { DesyncEvent, DesyncType } from '../core/sync/desyncDetector';
import type { LockstepRuntime } from '../core/runtime/runtime';
import type { BuiltSession } from '../session/sessionBuilder';
import { describeAgentSpec, type SessionSpec } from '../session/sessionSpec';
import type { RunControl, RunState } from '../session/runControl';
import type { WaitInfo } from '../session/statusTicker';
import { onTimeoutOf } from './consoleCommand';
import { LOCKSTEP_DAP_PROTOCOL_VERSION, type DesyncNotice, type LockstepStatus, type RunSummaryNotice, type SendActionResult, type SessionInfo } from './customProtocol';

/** The `lockstep.status` body (also the answer to `lockstep.getStatus` and the console's "status"). */
export function statusReport(rt: LockstepRuntime | undefined, rc: RunControl): LockstepStatus {
  const st = rt?.gateStatus;
  const counts = rt?.detector.counts();
  return {
    state: rc.state === 'idle' || rc.state === 'starting' ? 'starting' : rc.state,
    frame: rt?.current?.frame ?? null,
    episode: rt?.episodeIndex ?? 0,
    step: rt?.stepIndex ?? 0,
    framesRun: rc.framesRun,
    fps: rt?.metrics.runRate().fps ?? 0,
    desyncTotal: rt?.detector.total() ?? 0,
    desyncs: counts ? Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0)) : {},
    gateMode: rt?.gateMode ?? 'strict',
    pauseUntilAction: rc.pauseUntilAction,
    waiting: st ? { frame: st.frame, waitingFor: st.waitingFor, sinceMs: Math.round(st.sinceMs), mode: st.mode } : undefined,
    stepBackAvailable: rt?.historyDepth ?? 0,
  };
}

/** The status as one console line. */
export function statusLine(s: LockstepStatus): string {
  return `${s.state} at frame ${s.frame} (episode ${s.episode}, step ${s.step}); ${s.framesRun} frames run, ${s.fps.toFixed(0)} fps; ` +
    `${s.desyncTotal} desync(s); on timeout ${onTimeoutOf(s.gateMode)}${s.waiting ? `, waiting for controller ${s.waiting.waitingFor.map((p) => p + 1).join(' and ')}` : ''}; ` +
    `pause-until-action ${s.pauseUntilAction ? 'on' : 'off'}; ${s.stepBackAvailable} frame(s) to step back`;
}

/** The end-of-session summary: a console line and the `lockstep.summary` body. */
export function summaryReport(rt: LockstepRuntime, rc: RunControl, episodesEnded: number): { line: string; body: RunSummaryNotice } {
  const { framesRun, runningMs, fault } = rc;
  const seconds = runningMs / 1000;
  const fps = seconds > 0 ? framesRun / seconds : 0;
  const counts = rt.detector.counts();
  const nonZero = Object.entries(counts).filter(([, n]) => n > 0);
  const desyncs = nonZero.length ? ` (${nonZero.map(([t, n]) => `${t} ${n}`).join(', ')})` : '';
  return {
    line: `Lockstep summary: ${framesRun} frames in ${seconds.toFixed(1)} s of running (${fps.toFixed(0)} fps), ` +
      `${rt.detector.total()} desync(s)${desyncs}, ${episodesEnded} episode(s) ended${fault ? `; stopped by: ${fault}` : ''}.`,
    body: {
      frames: framesRun,
      wallMs: Math.round(runningMs),
      fps,
      desyncTotal: rt.detector.total(),
      desyncs: Object.fromEntries(nonZero) as Partial<Record<DesyncType, number>>,
      episodesEnded,
      fault: fault ?? null,
    },
  };
}

/** The `lockstep.sessionInfo` body sent once the runtime started. */
export function sessionInfo(built: BuiltSession, spec: SessionSpec, stepBackDepth: number): SessionInfo {
  return {
    protocolVersion: LOCKSTEP_DAP_PROTOCOL_VERSION,
    session: built.session,
    rom: { name: built.runtime.romInfo?.name ?? basename(built.romPath), path: built.romPath, md5: built.runtime.romInfo?.md5 ?? '' },
    emulator: built.emulator.kind,
    agents: [describeAgentSpec(spec.agents[0]), describeAgentSpec(spec.agents[1])],
    ramMap: { name: built.ramMap.name, variables: built.ramMap.variables.map((v) => ({ name: v.name, address: v.address, size: v.size })) },
    bridgePort: built.bridge?.port ?? null,
    stepBackDepth,
  };
}

/** The console's first line once the runtime holds its first frame. */
export function startedLine(built: BuiltSession, spec: SessionSpec, first: number): string {
  return `Lockstep: ${basename(built.romPath)} on ${built.emulator.kind}; controller 1: ${describeAgentSpec(spec.agents[0])}, ` +
    `controller 2: ${describeAgentSpec(spec.agents[1])}; holding frame ${first} (episode 0). Type "help" in the Debug Console.`;
}

export function desyncNotice(ev: DesyncEvent, stops: boolean): DesyncNotice {
  return {
    type: ev.type, frame: ev.frame, expectedFrame: ev.expectedFrame, receivedFrame: ev.receivedFrame, gap: ev.gap,
    delayMs: ev.delayMs, clockOffsetMs: ev.clockOffsetMs, clockDriftMs: ev.clockDriftMs ?? null, player: ev.player, message: ev.message,
    recovery: ev.recovery ?? null, stops,
  };
}

/** The console line when a wait is first shown, naming who is awaited. */
export function waitingLine(info: WaitInfo, agentNames: ReadonlyArray<string | undefined>): string {
  const who = info.waitingFor.map((p) => `controller ${p + 1} (${agentNames[p] ?? 'no agent'})`).join(' and ');
  return `frame ${info.frame}: waiting for ${who} for ${info.sinceMs} ms. Type "press A RIGHT" (or "press p2 LEFT") to answer by hand, or pause.`;
}

export function describeSendAction(r: SendActionResult, state: RunState): string {
  const names = r.buttonNames.length ? r.buttonNames.join(' ') : 'no buttons';
  const who = r.players.map((p) => `controller ${p + 1}`).join(' and ');
  if (r.applied === 'now') return `frame ${r.frame}: ${who} <- ${names} (released the waiting frame)`;
  return `frame ${r.frame}: ${who} <- ${names} (applies when frame ${r.frame} runs${state === 'stopped' ? ': step or continue' : ''})`;
}
