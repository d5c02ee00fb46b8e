// Recording replay agent: plays back a recording folder's episodes (each episode's recorded buttons, row by row) and ends each where it ended.
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { AgentAction, AgentPort, Observation } from '../core/ports';
import { episodeManifests, loadRecordedEpisode, type RecordedEpisode } from '../core/episodes/episodeReader';

export class RecordingReplayAgent implements AgentPort {
  readonly name: string;
  readonly wantsScreen = false;
  /** Frames asked for past the recording (answered with no buttons). */
  overrun = 0;

  constructor(
    private readonly episodes: readonly RecordedEpisode[],
    private readonly player: 0 | 1,
    label: string,
    /** The runtime's agent-terminate: each recorded episode ends after its last row, whatever ended it at the time. */
    private readonly onTerminate: (frame: number) => void,
  ) {
    this.name = `recording(${label}, port ${player})`;
  }

  /** A recording folder (or its session.json): every finished episode in it, in episode order. */
  static async load(path: string, player: 0 | 1, onTerminate: (frame: number) => void): Promise<RecordingReplayAgent> {
    const folder = basename(path) === 'session.json' ? dirname(path) : path;
    const st = await stat(folder).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`recording not found: ${folder} (${e.code ?? e.message})`);
    });
    if (!st.isDirectory()) throw new Error(`a recording agent needs a recording folder (with session.json and episode-NNNN.json files), got the file ${folder}`);
    const manifests = await episodeManifests(folder);
    if (manifests.length === 0) throw new Error(`${folder} holds no finished episode (no episode-NNNN.json manifest)`);
    const episodes = await Promise.all(manifests.map((m) => loadRecordedEpisode(m.path)));
    return new RecordingReplayAgent(episodes, player, basename(folder), onTerminate);
  }

  /** Rows of every episode together. */
  get rows(): number {
    return this.episodes.reduce((n, e) => n + e.steps.length, 0);
  }

  /** The replay's episodes are numbered from 0 like the recorded run's: episode k replays the k-th recorded episode. */
  async act(obs: Observation): Promise<AgentAction> {
    return this.actNow(obs);
  }

  actNow(obs: Observation): AgentAction {
    const ep = this.episodes[obs.episode];
    const step = ep?.steps[obs.step];
    if (!ep || !step) {
      this.overrun++;
      return { frame: obs.frame, buttons: 0 };
    }
    if (obs.step === ep.steps.length - 1) this.onTerminate(obs.frame);
    return { frame: obs.frame, buttons: step.actions[this.player] };
  }

  async close(): Promise<void> {}
}
