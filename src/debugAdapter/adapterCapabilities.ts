// What the Lockstep adapter tells a DAP client it supports (the initialize response).
import type { DebugProtocol } from '@vscode/debugprotocol';
import { exceptionBreakpointFilters } from './breakpoints';

export function adapterCapabilities(): DebugProtocol.Capabilities {
  return {
    supportsConfigurationDoneRequest: true,
    supportsCompletionsRequest: true,
    supportsFunctionBreakpoints: true,
    supportsConditionalBreakpoints: true,
    supportsHitConditionalBreakpoints: true,
    supportsEvaluateForHovers: false,
    exceptionBreakpointFilters: exceptionBreakpointFilters(),
    supportsExceptionFilterOptions: true,
    supportsExceptionInfoRequest: true,
    supportsStepBack: true,
    supportsSetVariable: true,
    supportsDataBreakpoints: true,
    supportsDataBreakpointBytes: true,
    supportsReadMemoryRequest: true,
    supportsWriteMemoryRequest: true,
    supportsTerminateRequest: true,
    supportsCancelRequest: true,
    supportsRestartRequest: false,
    supportsSingleThreadExecutionRequests: false,
  };
}
