// Decides whether a Lockstep launch may run: never in Restricted Mode, and agent files from outside the workspace only with the user's consent (pure, no vscode).
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseAgentSpec } from '../session/sessionSpec';

/** What the guard needs from VS Code; the extension passes the real one, tests a fake. */
export interface LaunchGuardHost {
  /** vscode.workspace.isTrusted */
  isTrusted(): boolean;
  /** The open workspace folders (absolute paths); their files run without asking. */
  workspaceFolders(): readonly string[];
  /** Lockstep's own install folder: its shipped files (demo policy, examples) run without asking too. */
  extensionRoot: string;
  /** fs.promises.realpath: symbolic links are followed, so a link inside the workspace to a file outside counts as outside. */
  realpath(path: string): Promise<string>;
  /** Asks with a modal dialog; true means "Allow once". */
  confirm(message: string, detail: string): Promise<boolean>;
  /** Tells the user why a launch was refused. */
  refuse(message: string): void;
  /** Folder relative paths are resolved against when the configuration has no `cwd` (the adapter does the same). */
  processCwd(): string;
  /** Paths compare case-insensitively on win32 and darwin. */
  platform: NodeJS.Platform;
}

export type AgentAttribute = 'agent' | 'agent2';

/** An agent file a launch would load, resolved to where it really is. */
export interface AgentFile {
  attribute: AgentAttribute;
  kind: 'scripted' | 'onnx' | 'fm2' | 'recording';
  /** As written in the configuration. */
  given: string;
  /** Absolute, symbolic links followed (as far as the path exists). */
  resolved: string;
}

export const RESTRICTED_MODE_MESSAGE =
  'Lockstep does not start debug sessions in Restricted Mode: a session launches an emulator and runs agent code ' +
  '(scripted agents, ONNX models, FCEUX). Trust this folder (Manage Workspace Trust) to debug here.';

export const ALLOW_ONCE = 'Allow once';

const KIND_WORDS: Record<AgentFile['kind'], string> = { scripted: 'scripted agent (JavaScript, runs in the extension host)', onnx: 'ONNX model', fm2: 'FM2 movie', recording: 'recording folder (its episodes are replayed)' };

/** The scripted, ONNX and FM2 files a configuration names; agents that fail to parse are left to the adapter, which names the problem. */
export async function agentFiles(config: Record<string, unknown>, host: Pick<LaunchGuardHost, 'realpath' | 'processCwd'>): Promise<AgentFile[]> {
  const base = resolve(host.processCwd(), typeof config.cwd === 'string' && config.cwd !== '' ? config.cwd : '.');
  const out: AgentFile[] = [];
  for (const attribute of ['agent', 'agent2'] as const) {
    const raw = config[attribute];
    if (raw === undefined || raw === null) continue;
    let spec: ReturnType<typeof parseAgentSpec>;
    try {
      spec = parseAgentSpec(raw, attribute);
    } catch {
      continue;
    }
    if (spec.type !== 'scripted' && spec.type !== 'onnx' && spec.type !== 'fm2' && spec.type !== 'recording') continue;
    const lexical = isAbsolute(spec.path) ? spec.path : resolve(base, spec.path);
    out.push({ attribute, kind: spec.type, given: spec.path, resolved: await realpathOrNearest(lexical, host.realpath) });
  }
  return out;
}

/** The real path; for a path that does not exist (yet), its nearest existing ancestor's real path plus the rest. */
export async function realpathOrNearest(path: string, realpath: (p: string) => Promise<string>): Promise<string> {
  const tail: string[] = [];
  let p = resolve(path);
  for (;;) {
    try {
      const real = await realpath(p);
      return tail.length ? join(real, ...tail.reverse()) : real;
    } catch {
      const parent = dirname(p);
      if (parent === p) return resolve(path);
      tail.push(p.slice(parent.length).replace(/^[\\/]+/, ''));
      p = parent;
    }
  }
}

/** Whether `path` is `root` or inside it (both absolute and already resolved). */
export function isInside(root: string, path: string, platform: NodeJS.Platform): boolean {
  const fold = platform === 'win32' || platform === 'darwin' ? (s: string) => s.toLowerCase() : (s: string) => s;
  const rel = relative(fold(root), fold(path));
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel));
}

/** The agent files outside every trusted root. */
export async function filesOutside(config: Record<string, unknown>, host: LaunchGuardHost): Promise<AgentFile[]> {
  const files = await agentFiles(config, host);
  if (files.length === 0) return [];
  const roots = await Promise.all([...host.workspaceFolders(), host.extensionRoot].map((r) => realpathOrNearest(r, host.realpath)));
  return files.filter((f) => !roots.some((r) => isInside(r, f.resolved, host.platform)));
}

/** The modal question for files from outside the workspace. */
export function outsidePrompt(configName: unknown, files: readonly AgentFile[], hasWorkspace: boolean): { message: string; detail: string } {
  const name = typeof configName === 'string' && configName !== '' ? `"${configName}"` : 'This launch';
  const lines = files.map((f) => `${f.attribute} (controller ${f.attribute === 'agent' ? 1 : 2}): ${KIND_WORDS[f.kind]}\n  ${f.resolved}`);
  return {
    message: `Lockstep: ${name} runs code from outside the workspace.`,
    detail: [
      ...lines,
      '',
      hasWorkspace
        ? 'These files are not in an open workspace folder. Allow only if you trust them; nothing is remembered.'
        : 'No folder is open, so no file counts as part of a workspace. Allow only if you trust them; nothing is remembered.',
    ].join('\n'),
  };
}

/** The checks the debug configuration provider runs before every Lockstep launch or attach. */
export class LaunchGuard {
  constructor(private readonly host: LaunchGuardHost) {}

  /** False (and the user is told why) in Restricted Mode. */
  allowsStart(): boolean {
    if (this.host.isTrusted()) return true;
    this.host.refuse(RESTRICTED_MODE_MESSAGE);
    return false;
  }

  /** True when every agent file is inside the workspace (or Lockstep's folder), or the user allowed this launch once. */
  async allowsFiles(config: Record<string, unknown>): Promise<boolean> {
    if (!this.allowsStart()) return false;
    const outside = await filesOutside(config, this.host);
    if (outside.length === 0) return true;
    const { message, detail } = outsidePrompt(config.name, outside, this.host.workspaceFolders().length > 0);
    return this.host.confirm(message, detail);
  }
}
