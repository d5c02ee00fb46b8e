// The demo workspace "Lockstep: Create Demo Workspace" writes: its files as a pure function of the shipped assets, plus reading those assets and writing the files (Node only, no vscode).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { SYNC_SETTINGS, type SyncSection } from '../core/config/config';

/** What the demo copies out of the installed extension (or a checkout). */
export interface DemoAssets {
  /** roms/demo/demo.nes */
  rom: Uint8Array;
  /** roms/demo/demo.rammap.json */
  ramMap: string;
  /** models/demo-policy.onnx and its sidecar models/demo-policy.lockstep.json */
  onnxModel: Uint8Array;
  onnxSidecar: string;
  /** The Python example and the client package it imports; absent when this build of the extension does not carry them. */
  python?: { example: string; client: Record<string, string> };
}

export interface DemoWorkspaceOptions {
  /** Bridge port for the trainer configuration (a fixed one, so the Python command line can be written down). */
  port: number;
  /** Session token for the trainer configuration; each workspace gets its own (see newDemoToken). */
  token: string;
}

/** Relative path (always with `/`) -> content. */
export type DemoFiles = Record<string, string | Uint8Array>;

export const DEMO_TRAINER_PORT = 8765;

/** Names of the launch configurations, in launch.json order (the first is what F5 runs). */
export const DEMO_CONFIG_NAMES = {
  random: 'Lockstep: demo ROM, random agent',
  onnx: 'Lockstep: ONNX demo policy',
  trainer: 'Lockstep: Python trainer (WebSocket)',
  misbehaving: 'Lockstep: misbehaving agent (frame skips)',
} as const;

export const DEMO_PATHS = {
  rom: 'demo.nes',
  ramMap: 'demo.rammap.json',
  onnxModel: 'models/demo-policy.onnx',
  onnxSidecar: 'models/demo-policy.lockstep.json',
  misbehavingAgent: 'agents/frame_skipper.js',
  pythonExample: 'python/random_agent.py',
  pythonClient: 'python/lockstep_client',
  launch: '.vscode/launch.json',
  settings: '.vscode/settings.json',
  extensions: '.vscode/extensions.json',
  config: 'lockstep.yaml',
  readme: 'README.md',
} as const;

/** The step at which the misbehaving agent answers for the wrong frame, and how far ahead (above maxFrameSkip 2). */
export const FRAME_SKIPPER_STEP = 90;
export const FRAME_SKIPPER_GAP = 3;

/** A token for one demo workspace: random, so a trainer from another folder cannot drive this one by accident. */
export function newDemoToken(): string {
  return `demo-${randomBytes(9).toString('base64url')}`;
}

/** Every file of the demo workspace; pure, so what the command writes is what the tests check. */
export function demoWorkspaceFiles(assets: DemoAssets, options: DemoWorkspaceOptions): DemoFiles {
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new Error(`demo workspace: port must be an integer from 1 to 65535, got ${String(options.port)}`);
  }
  if (!/^[A-Za-z0-9_.~-]{8,128}$/.test(options.token)) {
    throw new Error(`demo workspace: token must be 8-128 URL-safe characters (letters, digits, _ . ~ -), got ${JSON.stringify(options.token)}`);
  }
  const files: DemoFiles = {
    [DEMO_PATHS.rom]: assets.rom,
    [DEMO_PATHS.ramMap]: assets.ramMap,
    [DEMO_PATHS.onnxModel]: assets.onnxModel,
    [DEMO_PATHS.onnxSidecar]: assets.onnxSidecar,
    [DEMO_PATHS.launch]: launchJson(options),
    // The README says what to do next; VS Code shows it when the folder opens (the walkthrough stays in the old window).
    [DEMO_PATHS.settings]: JSON.stringify({ 'workbench.startupEditor': 'readme' }, null, 2) + '\n',
    // VS Code's hex view of memory references (RAM variables) is the Hex Editor extension: recommend it where it is used.
    [DEMO_PATHS.extensions]: JSON.stringify({ recommendations: ['ms-vscode.hexeditor'] }, null, 2) + '\n',
    [DEMO_PATHS.config]: lockstepYaml(),
    [DEMO_PATHS.misbehavingAgent]: frameSkipperAgent(),
    [DEMO_PATHS.readme]: readme(options, assets.python !== undefined),
  };
  if (assets.python) {
    files[DEMO_PATHS.pythonExample] = assets.python.example;
    for (const [name, text] of Object.entries(assets.python.client)) {
      if (!/^[A-Za-z0-9_]+\.py$/.test(name)) throw new Error(`demo workspace: Python client file name ${JSON.stringify(name)} is not a plain module name`);
      files[`${DEMO_PATHS.pythonClient}/${name}`] = text;
    }
  }
  return files;
}

function launchJson({ port, token }: DemoWorkspaceOptions): string {
  const rom = '${workspaceFolder}/' + DEMO_PATHS.rom;
  const configurations = [
    // No captureScreens: screens are captured while a screen or buffer panel shows them (lockstep.showScreens).
    { type: 'lockstep', request: 'launch', name: DEMO_CONFIG_NAMES.random, rom, agent: 'random', seed: 1, stopOnEntry: true },
    { type: 'lockstep', request: 'launch', name: DEMO_CONFIG_NAMES.onnx, rom, agent: 'onnx:${workspaceFolder}/' + DEMO_PATHS.onnxModel, stopOnEntry: true },
    { type: 'lockstep', request: 'launch', name: DEMO_CONFIG_NAMES.trainer, rom, agent: 'websocket', port, token },
    // No stopOnEntry: F5 runs straight into the frame_skip desync breakpoint (on by default).
    { type: 'lockstep', request: 'launch', name: DEMO_CONFIG_NAMES.misbehaving, rom, agent: 'scripted:${workspaceFolder}/' + DEMO_PATHS.misbehavingAgent },
  ];
  return JSON.stringify({ version: '0.2.0', configurations }, null, 2) + '\n';
}

const SECTION_TITLES: Record<SyncSection, string> = {
  synchronization: 'Frame synchronisation between the emulator and the agents',
  performance: 'What the metrics compare against',
  recovery: 'What happens after desyncs and lost links',
};

/** The design's nested layout with every default written out, so the settings are visible and easy to change. */
function lockstepYaml(): string {
  const lines = [
    '# Lockstep sync settings for this folder, read when a run starts. These are the defaults; change any of them.',
    '# A launch configuration can override single settings with "sync": { "frameTimeoutMs": 250 } (same names, camelCase).',
    '# Every key is checked: a misspelt one stops the run with the file, line and the key you probably meant.',
  ];
  for (const section of Object.keys(SECTION_TITLES) as SyncSection[]) {
    lines.push('', `# ${SECTION_TITLES[section]}`, `${section}:`);
    for (const s of SYNC_SETTINGS.filter((x) => x.section === section)) {
      const allowed = s.kind === 'enum' ? ` (${s.values?.join(' | ')})` : '';
      lines.push(`  # ${s.description}${allowed}`, `  ${s.yamlKey}: ${String(s.default)}`);
    }
  }
  return lines.join('\n') + '\n';
}

function frameSkipperAgent(): string {
  return `// A misbehaving agent for trying Lockstep's desync breakpoints (launch configuration "${DEMO_CONFIG_NAMES.misbehaving}").
//
// It plays like a simple catcher: paddle 1 moves under the falling item. But once per episode, at step ${FRAME_SKIPPER_STEP}, it
// answers for a frame ${FRAME_SKIPPER_GAP} ids ahead of the one it was shown, the way a trainer does that reads observations
// from a queue and falls behind. lockstep.yaml sets max_frame_skip: 2, so a gap of ${FRAME_SKIPPER_GAP} is a frame_skip, and the
// frame_skip desync breakpoint (on by default in the Breakpoints view) stops the run on that frame.
//
// act(observation) gets { frame, step, episode, player, vars, ram, reward, ... } and returns a button mask, a list of
// button names, or { buttons, frame } to say which frame the answer is for. reset(episode) is called as an episode starts.
const SKIP_AT_STEP = ${FRAME_SKIPPER_STEP};
const GAP = ${FRAME_SKIPPER_GAP};
const PADDLE_HALF = 12; // the paddle is 24 px wide, the item 8 px (see demo.rammap.json)
const ITEM_HALF = 4;

// After a frame skip Lockstep resends the held frame; answering it correctly is what lets the run go on.
let skippedThisEpisode = false;

module.exports = {
  reset() {
    skippedThisEpisode = false;
  },
  act(obs) {
    const paddle = (obs.vars.p1_x ?? 0) + PADDLE_HALF;
    const item = (obs.vars.item_x ?? 0) + ITEM_HALF;
    const buttons = item > paddle + 1 ? ['RIGHT'] : item < paddle - 1 ? ['LEFT'] : [];
    if (obs.step === SKIP_AT_STEP && !skippedThisEpisode) {
      skippedThisEpisode = true;
      return { buttons, frame: obs.frame + GAP };
    }
    return { buttons, frame: obs.frame };
  },
};
`;
}

function readme({ port, token }: DemoWorkspaceOptions, hasPython: boolean): string {
  const python = hasPython
    ? [
      'The Python example is in `python/`, next to the client package it imports (`python/lockstep_client/`, which needs',
      '`websockets`: `pip install websockets`). Start the trainer configuration first (it waits for the trainer), then:',
      '',
      '```bash',
      `python3 python/random_agent.py --port ${port} --token ${token} --episodes 3`,
      '```',
    ]
    : [
      'This build of the extension does not carry the Python example: take `examples/python/random_agent.py` and',
      '`clients/python/` from the Lockstep repository (the client needs `websockets`). Start the trainer configuration',
      'first (it waits for the trainer), then:',
      '',
      '```bash',
      `PYTHONPATH=clients/python python3 examples/python/random_agent.py --port ${port} --token ${token} --episodes 3`,
      '```',
    ];
  return [
    '# Lockstep demo workspace',
    '',
    'Everything here runs on the embedded emulator; nothing needs installing. Pick a configuration in **Run and Debug**',
    'and press **F5**.',
    '',
    '| configuration | what it shows |',
    '|---|---|',
    `| ${DEMO_CONFIG_NAMES.random} | the demo ROM (\`${DEMO_PATHS.rom}\`) driven by a seeded random agent, stopped on its first frame |`,
    `| ${DEMO_CONFIG_NAMES.onnx} | the shipped ONNX policy (\`${DEMO_PATHS.onnxModel}\`) running in process |`,
    `| ${DEMO_CONFIG_NAMES.trainer} | waits on port ${port} for a Python trainer (below) |`,
    `| ${DEMO_CONFIG_NAMES.misbehaving} | \`${DEMO_PATHS.misbehavingAgent}\` answers for the wrong frame once per episode: the \`frame_skip\` desync breakpoint stops there |`,
    '',
    'While stopped: **Step Frame** (`Ctrl+Alt+.`, `Cmd+Alt+.` on macOS) runs exactly one frame; **Lockstep: Open Screen,',
    'Buffer and Metrics Panels** shows the screen, the sync buffer and the timing metrics; the Variables view shows the',
    `RAM map (\`${DEMO_PATHS.ramMap}\`) and the sync state. Sync settings are in \`${DEMO_PATHS.config}\`.`,
    '',
    '## A Python trainer',
    '',
    ...python,
    '',
    `The token (\`${token}\`) was made for this folder; change it in \`.vscode/launch.json\` and on the command line together.`,
    '',
  ].join('\n');
}

/** Where the Python example and client may sit: a packaged copy under dist/, or the repository layout of a checkout. */
const PYTHON_LAYOUTS = [
  { example: 'dist/python/random_agent.py', client: 'dist/python/lockstep_client' },
  { example: 'examples/python/random_agent.py', client: 'clients/python/lockstep_client' },
];

/** Reads the demo's assets from the extension folder; a missing required file is named in the error. */
export async function readDemoAssets(extensionRoot: string): Promise<DemoAssets> {
  const read = async (rel: string) => {
    try {
      return await readFile(join(extensionRoot, rel));
    } catch (e) {
      throw new Error(`demo workspace: cannot read ${rel} from the extension folder ${extensionRoot} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  // All four read at once, but a failure is reported for the first missing file in this order, not whichever read
  // happened to fail first.
  const reads = await Promise.allSettled([
    read('roms/demo/demo.nes'), read('roms/demo/demo.rammap.json'), read('models/demo-policy.onnx'), read('models/demo-policy.lockstep.json'),
  ]);
  const failed = reads.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const [rom, ramMap, onnxModel, onnxSidecar] = reads.map((r) => (r as PromiseFulfilledResult<Buffer>).value);
  const layout = PYTHON_LAYOUTS.find((l) => existsSync(join(extensionRoot, l.example)) && existsSync(join(extensionRoot, l.client)));
  let python: DemoAssets['python'];
  if (layout) {
    const names = readdirSync(join(extensionRoot, layout.client)).filter((n) => /^[A-Za-z0-9_]+\.py$/.test(n)).sort();
    const client: Record<string, string> = {};
    for (const n of names) client[n] = (await read(`${layout.client}/${n}`)).toString('utf8');
    python = { example: (await read(layout.example)).toString('utf8'), client };
  }
  return { rom, ramMap: ramMap.toString('utf8'), onnxModel, onnxSidecar: onnxSidecar.toString('utf8'), python };
}

/** What stands in the way of using `folder` for the demo: undefined when it is missing or empty, else the reason. */
export function folderProblem(folder: string): string | undefined {
  if (!existsSync(folder)) return undefined;
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch (e) {
    return `${folder} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  if (entries.length === 0) return undefined;
  const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, … (${entries.length} entries)` : '');
  return `${folder} is not empty (${shown}); pick an empty folder for the demo workspace`;
}

/** Writes the files under `folder` (created if missing), refusing a folder that is not empty and any path leaving it. */
export function writeDemoWorkspace(folder: string, files: DemoFiles): string[] {
  const root = resolve(folder);
  const problem = folderProblem(root);
  if (problem) throw new Error(problem);
  const written: string[] = [];
  for (const [rel, content] of Object.entries(files)) {
    const target = resolve(root, rel);
    if (!target.startsWith(root + sep) || relative(root, target).startsWith('..')) throw new Error(`demo workspace: path ${JSON.stringify(rel)} leaves the folder`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    written.push(target);
  }
  return written;
}
