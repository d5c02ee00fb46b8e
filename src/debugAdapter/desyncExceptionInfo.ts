// The exception details shown when a run stops on a desync: the event's fields as a readable block.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DesyncEvent } from '../core/sync/desyncDetector';

export function desyncExceptionInfo(e: DesyncEvent, conditionError?: string): DebugProtocol.ExceptionInfoResponse['body'] {
  const na = (v: number | null, unit = '') => (v === null ? 'n/a' : `${Math.round(v * 10) / 10}${unit}`);
  const lines = [
    `type:           ${e.type}`,
    `expected frame: ${e.expectedFrame}`,
    `received frame: ${e.receivedFrame ?? 'none'}`,
    `gap:            ${na(e.gap, e.gap === null ? '' : ' frame(s)')}`,
    `delay:          ${na(e.delayMs, ' ms')}`,
    `clock offset:   ${na(e.clockOffsetMs, ' ms')}`,
    `clock drift:    ${na(e.clockDriftMs ?? null, ' ms')}${e.peer ? ` (${e.peer})` : ''}`,
    `controller:     ${e.player === null ? 'n/a' : e.player + 1}`,
    `recovery:       ${e.recovery ?? 'none'}`,
  ];
  if (conditionError) lines.push(`note:           ${conditionError}`);
  return {
    exceptionId: e.type,
    description: `${e.message}${e.recovery ? ` Recovery: ${e.recovery}.` : ''}`,
    breakMode: 'always',
    details: { message: e.message, typeName: `desync ${e.type}`, fullTypeName: `Lockstep desync: ${e.type}`, stackTrace: lines.join('\n') },
  };
}
