// Sessions on real FCEUX in the extension host, and the extension's deactivate (window reload, host exit): no FCEUX left behind, no half-written recording.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { after, afterEach, before, describe, it } from 'mocha';
import { activateLockstep } from './activateLockstep';
import {
  LockstepProbe, agentInWorkspace, demoRom, extensionRoot, heldFrame, sessionEnded, startSession, stopSession, workspaceFolder,
} from './lockstepProbe';
import { waitFor } from './waitFor';

const FCEUX = '/usr/games/fceux';

/** FCEUX processes this extension host started (other test runs on the machine have their own). */
function fceuxChildren(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'lockstep\\.lua'], { encoding: 'utf8' })
      .split('\n').filter(Boolean).map(Number);
  } catch (e) {
    // pgrep exits with 1 when nothing matches.
    if ((e as { status?: number }).status === 1) return [];
    throw e;
  }
}

/** The module VS Code loaded as the extension's main: the same instance, so this is the deactivate VS Code would call. */
function loadedExtensionModule(): { deactivate(): Promise<void> } {
  const main = join(extensionRoot(), 'dist', 'extension.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(main) as { deactivate(): Promise<void> };
}

describe('lockstep sessions on FCEUX and extension deactivation', () => {
  let probe: LockstepProbe;
  const started: vscode.DebugSession[] = [];
  let ended: Set<string>;
  let endSub: vscode.Disposable;

  before(async function () {
    if (!existsSync(FCEUX)) throw new Error(`${FCEUX} is missing: install fceux and lua-socket (scripts/setup.sh)`);
    await activateLockstep();
    probe = new LockstepProbe();
    ended = new Set();
    endSub = vscode.debug.onDidTerminateDebugSession((s) => ended.add(s.id));
    assert.deepEqual(fceuxChildren(), [], 'no FCEUX of this host before the tests');
  });

  afterEach(async () => {
    for (const s of started.splice(0)) {
      if (!ended.has(s.id)) await stopSession(s).catch(() => undefined);
    }
  });

  after(() => {
    probe.dispose();
    endSub.dispose();
  });

  const fceuxLaunch = async (name: string, extra: Record<string, unknown>) => {
    const s = await startSession({
      type: 'lockstep', request: 'launch', name, rom: demoRom(), emulator: 'fceux', fceuxPath: FCEUX, headless: true,
      agent: `scripted:${agentInWorkspace('idle.js')}`, ...extra,
    });
    started.push(s);
    return s;
  };

  it('FCEUX: F5 stops on entry, Step Frame runs one FCEUX frame, stopping the session ends FCEUX', async function () {
    this.timeout(60_000);
    const s = await fceuxLaunch('t: fceux', { stopOnEntry: true });
    assert.equal((await probe.nextEvent(s, 'stopped', { timeoutMs: 30_000 })).body?.reason, 'entry');
    const info = probe.events(s, 'lockstep.sessionInfo')[0];
    assert.equal(info?.body?.emulator, 'fceux');
    assert.equal(fceuxChildren().length, 1, 'one FCEUX running lockstep.lua, started by this host');
    const f0 = await heldFrame(s);
    const mark = probe.mark(s);
    await vscode.commands.executeCommand('lockstep.stepFrame');
    await probe.nextEvent(s, 'stopped', { since: mark });
    assert.equal(await heldFrame(s), f0 + 1);
    await stopSession(s);
    await waitFor(() => (fceuxChildren().length === 0 ? true : undefined), { what: 'FCEUX to exit after the session stopped', timeoutMs: 8000 });
  });

  it('deactivate() while an FCEUX session runs and records: FCEUX is gone, the session ends, every episode file is complete', async function () {
    this.timeout(60_000);
    const record = join(workspaceFolder().uri.fsPath, 'recordings', `deactivate-${Date.now()}`);
    const s = await fceuxLaunch('t: deactivate', { stopOnEntry: false, record });
    // Running, with rows on disk past the first journal flush (every 60 rows).
    await probe.nextEvent(s, 'lockstep.status', { pred: (b) => b.state === 'running' && Number(b.framesRun) > 150, timeoutMs: 30_000 });
    assert.equal(fceuxChildren().length, 1);
    const done = sessionEnded(s);

    const t0 = Date.now();
    await loadedExtensionModule().deactivate();
    const tookMs = Date.now() - t0;
    // VS Code waits 5 s for deactivate, then the host exits: everything must be closed by then, not merely started.
    assert.ok(tookMs < 5000, `deactivate took ${tookMs} ms; VS Code gives 5000`);
    assert.deepEqual(fceuxChildren(), [], 'no FCEUX left once deactivate resolved');
    await done;

    const files = readdirSync(record).sort();
    assert.deepEqual(files.filter((f) => /\.partial$|\.tmp-/.test(f)), [], `no journal or temporary file left: ${files.join(', ')}`);
    const episodes = files.filter((f) => /^episode-\d{4}\.json$/.test(f));
    assert.ok(episodes.length >= 1, `an episode manifest was written: ${files.join(', ')}`);
    let rows = 0;
    for (const m of episodes) {
      const manifest = JSON.parse(readFileSync(join(record, m), 'utf8')) as { rows: number; reason: string };
      const lines = readFileSync(join(record, m.replace(/\.json$/, '.jsonl')), 'utf8').split('\n').filter(Boolean);
      assert.equal(lines.length, manifest.rows, `${m}: the JSONL has the manifest's rows`);
      for (const l of lines) JSON.parse(l);
      for (const ext of ['.csv', '.fm2']) assert.ok(files.includes(m.replace(/\.json$/, ext)), `${m}: ${ext} written`);
      rows += lines.length;
    }
    const last = JSON.parse(readFileSync(join(record, episodes[episodes.length - 1]), 'utf8')) as { reason: string };
    assert.equal(last.reason, 'stopped', 'the open episode was ended by the shutdown');
    assert.ok(rows > 150, `the rows run before deactivate are on disk (${rows})`);
    const session = JSON.parse(readFileSync(join(record, 'session.json'), 'utf8')) as { episodes: unknown[] };
    assert.equal(session.episodes.length, episodes.length);
    const summary = probe.events(s, 'lockstep.summary');
    assert.equal(summary.length, 1, 'the adapter shut the run down itself (summary sent), not only killed it');
  });
});
