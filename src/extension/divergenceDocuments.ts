// "Find Divergence" without VS Code: reading the CLI's JSON, the two state documents the diff view compares, the debug launch stopped at the diverging frame.
import { basename, dirname, join } from 'node:path';
import { DIVERGENCE_REPORT_FORMAT, type DivergenceReportJson } from '../core/divergence/divergenceReport';
import type { LockstepDebugConfiguration } from './romConfiguration';

export type DivergenceSide = 'a' | 'b';

/** The report from `lockstep diverge --json` output (its last line); the CLI's error line becomes an Error. */
export function parseDivergenceOutput(stdout: string, stderr = ''): DivergenceReportJson & { out?: string } {
  const last = stdout.trim().split('\n').filter((l) => l.trim() !== '').pop();
  if (!last) throw new Error(stderr.trim() || 'lockstep diverge printed nothing');
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`lockstep diverge printed something that is not JSON: ${last.slice(0, 200)}`);
  }
  if (typeof o.error === 'string') throw new Error(o.error);
  if (o.format !== DIVERGENCE_REPORT_FORMAT) throw new Error(`lockstep diverge answered with format ${JSON.stringify(o.format)}, expected ${DIVERGENCE_REPORT_FORMAT}`);
  return o as unknown as DivergenceReportJson & { out?: string };
}

/**
 * One side's state after the diverging frame as JSON text: where it came from, the inputs, every RAM-map variable, the
 * bytes that differ and the RAM as 16-byte rows. The two sides' documents line up row for row, so a diff view marks
 * exactly what differs.
 */
export function stateDocument(report: DivergenceReportJson, side: DivergenceSide): string {
  const s = report[side];
  const ramHex = report.ram[side];
  const rows: string[] = [];
  if (ramHex) {
    for (let at = 0; at < ramHex.length / 2; at += 16) {
      const bytes = ramHex.slice(at * 2, (at + 16) * 2).match(/../g) ?? [];
      rows.push(`${at.toString(16).toUpperCase().padStart(4, '0')}: ${bytes.join(' ').toUpperCase()}`);
    }
  }
  const differing: Record<string, string> = {};
  for (const d of report.bytes) differing[`${d.address}${d.name ? ` ${d.name}` : ''}`] = `$${d[side].toString(16).toUpperCase().padStart(2, '0')}`;
  const doc = {
    side: side.toUpperCase(),
    source: s.label,
    kind: s.source,
    emulator: s.emulator,
    step: report.step,
    frame: report.frames ? report.frames[side] : null,
    cause: report.cause,
    inputs: report.inputs ? report.inputs[side] : null,
    state: report.cause === 'start' ? 'the state the episode starts from' : 'RAM after the diverging frame ran',
    ramFrom: report.ramSource[side],
    vars: report.varsAfter[side],
    differingBytes: differing,
    ram: ramHex ? rows : null,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/**
 * A debug launch that replays one side's inputs and stops at the diverging frame (the function breakpoint), with the
 * other side as `reference` when it is a recording (so continuing stops on the first frame whose state differs).
 */
export function divergenceDebugConfiguration(
  report: DivergenceReportJson,
  side: DivergenceSide,
  opts: { romPath: string; ramMap?: string; cwd?: string },
): { config: LockstepDebugConfiguration; breakpoint: string } {
  const s = report[side];
  const other = report[side === 'a' ? 'b' : 'a'];
  if (!report.diverged || report.step === null || !report.frames) throw new Error('the runs do not diverge: there is no frame to stop at');
  if (!s.movie) throw new Error(`side ${side.toUpperCase()} (${s.label}) has no inputs to replay`);
  const frame = report.frames[side];
  const config: LockstepDebugConfiguration = {
    type: 'lockstep',
    request: 'launch',
    name: `Divergence: ${side.toUpperCase()} ${s.label} at frame ${frame}`,
    rom: opts.romPath,
    emulator: s.emulator,
    agent: `fm2:${s.movie}`,
    agent2: `fm2:${s.movie}`,
    ...(other.source === 'recording' && other.path ? { reference: other.path } : {}),
    ...(opts.ramMap ? { ramMap: opts.ramMap } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  };
  return { config, breakpoint: `frame == ${frame}` };
}

/** ROM files worth trying for a recording made with `romName`: beside the recording, above it, in the workspace, the bundled demo. */
export function divergenceRomCandidates(recordingPath: string, romName: string, workspaceFolders: readonly string[], demoRom?: string): string[] {
  const dir = dirname(recordingPath);
  const dirs = [dir, dirname(dir), dirname(dirname(dir)), ...workspaceFolders, ...workspaceFolders.map((f) => join(f, 'roms')), ...workspaceFolders.map((f) => join(f, 'roms', 'demo'))];
  const name = basename(romName);
  return [...new Set([...dirs.map((d) => join(d, name)), ...(demoRom ? [demoRom] : [])])];
}
