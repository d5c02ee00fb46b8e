// Builds a ready LockstepRuntime from a SessionSpec: picks the emulator and agents, loads the RAM map and sync settings, owns the bridge.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve, basename } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AgentPort, EmulatorKind } from '../core/ports';
import type { EmulatorPort } from '../core/ports';
import { LockstepRuntime } from '../core/runtime/runtime';
import type { RowSink } from '../core/runtime/rows';
import { defaultSyncConfig, mergeSyncConfig, type SyncConfig } from '../core/config/config';
import { emptyRamMap, parseRamMap, variableRange, type RamMap } from '../core/config/ramMap';
import { BridgeServer } from '../bridge/bridgeServer';
import { demoRomPath, findPackageRoot } from '../core/packageRoot';
import { EmbeddedEmulator, InProcessEmulator } from '../emulators/embedded/embeddedEmulator';
import { FceuxEmulator } from '../emulators/fceux/fceuxEmulator';
import { RandomAgent } from '../agents/randomAgent';
import { ScriptedAgent } from '../agents/scriptedAgent';
import { RecordingReplayAgent } from '../agents/recordingReplayAgent';
import { Fm2ReplayAgent } from '../agents/fm2ReplayAgent';
import { OnnxAgent } from '../agents/onnxAgent';
import { WebSocketAgent } from '../agents/websocketAgent';
import { AgentLinkRouter } from '../agents/agentLinkRouter';
import { PortableStateEmulator } from '../emulators/embedded/portableStateEmulator';
import { loadReferenceTrack } from '../core/divergence/referenceTrack';
import type { AgentSpec, SessionSpec } from './sessionSpec';

export type LogFn = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface BuiltSession {
  runtime: LockstepRuntime;
  emulator: EmulatorPort;
  agents: [AgentPort | undefined, AgentPort | undefined];
  sync: SyncConfig;
  ramMap: RamMap;
  romPath: string;
  ramMapPath: string | undefined;
  /** Present when FCEUX or a trainer connects over WebSocket. */
  bridge: BridgeServer | undefined;
  session: string;
  /** Closes runtime, agents, emulator and bridge; idempotent. */
  close(): Promise<void>;
}

export interface BuildOptions {
  log?: LogFn;
  recorder?: RowSink;
  /** Extra sync settings from a workspace lockstep.yaml, applied before the spec's own. */
  workspaceSync?: Partial<SyncConfig>;
  /** The bridge also listens on this Unix-domain socket (lockstep serve --socket). */
  bridgeSocket?: string;
}

/** The RAM map for a ROM: the given file, else `<rom>.rammap.json` or `<rom without .nes>.rammap.json` beside it. */
export function ramMapPathFor(romPath: string, explicit?: string): string | undefined {
  if (explicit) return explicit;
  const candidates = [`${romPath}.rammap.json`, romPath.replace(/\.nes$/i, '') + '.rammap.json'];
  return candidates.find((p) => existsSync(p));
}

export async function loadRamMap(path: string | undefined): Promise<RamMap> {
  if (!path) return emptyRamMap();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`RAM map not readable: ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseRamMap(text, path);
}

export async function buildSession(spec: SessionSpec, options: BuildOptions = {}): Promise<BuiltSession> {
  const log: LogFn = options.log ?? (() => undefined);
  const cwd = spec.cwd ?? process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const romPath = spec.rom ? abs(spec.rom) : demoRomPath(findPackageRoot());
  const sync = mergeSyncConfig(defaultSyncConfig(), options.workspaceSync ?? {}, spec.sync ?? {});
  const ramMapPath = ramMapPathFor(romPath, spec.ramMap ? abs(spec.ramMap) : undefined);
  const ramMap = await loadRamMap(ramMapPath);
  const session = randomUUID();
  const emulatorKind = spec.emulator ?? 'embedded';
  const needsBridge = emulatorKind === 'fceux' || spec.agents.some((a) => a?.type === 'websocket');

  let bridge: BridgeServer | undefined;
  const closers: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch((e: Error) => log('warn', `while closing: ${e.message}`));
    closers.length = 0;
  };

  try {
    if (needsBridge) {
      bridge = new BridgeServer({ port: spec.port ?? 0, token: spec.token, log, ...(options.bridgeSocket !== undefined ? { socketPath: options.bridgeSocket } : {}) });
      const port = await bridge.listen();
      const b = bridge;
      closers.push(() => b.close());
      log('info', `bridge listening on ws://127.0.0.1:${port} (paths /emulator, /agent)`);
    }

    const snapshotEvery = spec.snapshotEvery ?? 0;
    if (snapshotEvery > 0 && emulatorKind === 'fceux') log('warn', 'snapshots are taken on the embedded emulator only: this FCEUX recording gets no snapshot sidecar');
    const reference = spec.reference ? await loadReferenceTrack(abs(spec.reference), emulatorKind) : undefined;
    if (reference) log('info', `comparing every frame with reference ${spec.reference} (${reference.compare === 'ram' ? 'RAM fingerprints' : 'RAM-map variables: recorded on another emulator'})`);
    // A RAM map with a variable in PRG-RAM needs $6000-$7FFF in every frame (rewards, done flags, conditions read it).
    const prgRam = ramMap.needsPrgRam;
    const emulator: EmulatorPort = emulatorKind === 'fceux'
      ? new FceuxEmulator({ fceuxPath: spec.fceuxPath, bridge, mode: spec.fceuxMode ?? 'launch', headless: spec.headless ?? true, log, prgRam })
      // Snapshot recordings need the machine state as bytes, which only the in-process emulator can hand out.
      : snapshotEvery > 0 ? new PortableStateEmulator({ prgRam })
      : spec.embeddedThread === 'main' ? new InProcessEmulator({ prgRam }) : new EmbeddedEmulator({ prgRam });
    closers.push(() => emulator.close());

    const router = spec.agents.some((a) => a?.type === 'websocket') && bridge ? new AgentLinkRouter(bridge, log) : undefined;
    const agents: [AgentPort | undefined, AgentPort | undefined] = [undefined, undefined];
    // Trainers may end an episode from their side; the runtime exists only after the agents, so forward late.
    let terminated: (frame: number) => void = () => undefined;
    for (const player of [0, 1] as const) {
      const a = spec.agents[player];
      if (!a || a.type === 'none') continue;
      agents[player] = await createAgent(a, { player, seed: spec.seed !== undefined ? spec.seed + player : undefined, abs, ramMap, router, bridge, session, romName: basename(romPath), maxSteps: spec.maxSteps ?? null, log, onTerminate: (f) => terminated(f), emulator: emulatorKind });
      const agent = agents[player]!;
      closers.push(() => agent.close());
    }

    const runtime = new LockstepRuntime(
      { emulator, agents, ramMap, sync },
      {
        romPath, maxSteps: spec.maxSteps ?? null, captureScreens: spec.captureScreens, stepBackDepth: spec.stepBackDepth ?? 0, recorder: options.recorder,
        ...(snapshotEvery > 0 && emulatorKind === 'embedded' ? { snapshotEvery } : {}),
        ...(reference ? { reference } : {}),
        ...(spec.timeTravel !== false && (spec.stepBackDepth ?? 0) > 0 ? { history: {} } : {}),
      },
    );
    terminated = (frame) => runtime.agentTerminated(frame);
    let closed = false;
    return {
      runtime, emulator, agents, sync, ramMap, romPath, ramMapPath, bridge, session,
      async close() {
        if (closed) return;
        closed = true;
        // The runtime closes its agents and emulator; the bridge goes last so FCEUX can still be told to quit.
        await runtime.close().catch((e: Error) => log('warn', `while closing runtime: ${e.message}`));
        await bridge?.close().catch((e: Error) => log('warn', `while closing bridge: ${e.message}`));
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

interface AgentContext {
  player: 0 | 1;
  /** Undefined when the user gave no seed: a policy's own sidecar seed then applies. */
  seed: number | undefined;
  abs: (p: string) => string;
  ramMap: RamMap;
  router: AgentLinkRouter | undefined;
  bridge: BridgeServer | undefined;
  session: string;
  romName: string;
  maxSteps: number | null;
  log: LogFn;
  onTerminate: (frame: number) => void;
  emulator: EmulatorKind;
}

async function createAgent(spec: AgentSpec, ctx: AgentContext): Promise<AgentPort> {
  switch (spec.type) {
    case 'random':
      return new RandomAgent({ seed: spec.seed ?? ctx.seed ?? 0 });
    case 'scripted':
      return ScriptedAgent.load(ctx.abs(spec.path));
    case 'fm2':
      return Fm2ReplayAgent.load(ctx.abs(spec.path), ctx.player, ctx.emulator);
    case 'recording':
      return RecordingReplayAgent.load(ctx.abs(spec.path), ctx.player, ctx.onTerminate);
    case 'onnx':
      return OnnxAgent.load(ctx.abs(spec.path), { player: ctx.player, ramMap: ctx.ramMap, seed: ctx.seed });
    case 'websocket':
      if (!ctx.router || !ctx.bridge) throw new Error('internal: a websocket agent needs the bridge');
      return new WebSocketAgent({
        bridge: ctx.bridge, router: ctx.router, player: ctx.player, session: ctx.session, rom: ctx.romName,
        vars: ctx.ramMap.variables.map((v) => v.name),
        varRanges: ctx.ramMap.variables.map((v) => variableRange(v)), maxSteps: ctx.maxSteps, log: ctx.log, onTerminate: ctx.onTerminate,
      });
    case 'none':
      throw new Error('internal: no agent to create for "none"');
    default: {
      const _never: never = spec;
      throw new Error(`unknown agent ${JSON.stringify(_never)}`);
    }
  }
}
