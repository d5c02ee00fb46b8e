// A reference recording for a live run (`reference` launch attribute, `--reference`): the expected fingerprint of every step, per episode.
import { stat } from 'node:fs/promises';
import type { EmulatorKind } from '../ports';
import { episodeManifests, findManifest, loadRecordedEpisode, type RecordedEpisode } from '../episodes/episodeReader';

/** What the reference recorded for one step: the state that step started from. */
export interface ReferenceStep {
  frame: number;
  ramHash: string | null;
  vars: Record<string, number>;
}

export interface ReferenceTrack {
  readonly label: string;
  /**
   * ram: the RAM fingerprint must match (reference made on the same emulator). vars: RAM-map variables must match (another
   * emulator: the whole-RAM fingerprints differ in the CPU stack bytes and never match).
   */
  readonly compare: 'ram' | 'vars';
  /** The reference's step `step` of the run's episode `episode`, or undefined where it has none. */
  expected(episode: number, step: number): ReferenceStep | undefined;
}

/** A track over recorded episodes: `byEpisode[e]` is compared with the run's episode e. */
export function referenceTrackOf(label: string, byEpisode: ReadonlyMap<number, RecordedEpisode>, emulator: EmulatorKind): ReferenceTrack {
  const all = [...byEpisode.values()];
  const compare = all.every((r) => r.emulator === emulator) ? 'ram' : 'vars';
  return {
    label,
    compare,
    expected(episode, step) {
      const rec = byEpisode.get(episode);
      if (!rec || step < 0) return undefined;
      const s = rec.steps[step];
      if (s) return { frame: s.frame, ramHash: s.ramHash, vars: s.vars };
      // One step past the last row is the state the episode ended in: a run that goes on from there must start alike.
      if (step === rec.steps.length) return { frame: rec.terminationFrame, ramHash: rec.finalRamFingerprint || null, vars: {} };
      return undefined;
    },
  };
}

/**
 * Loads a reference: a recording folder compares its episode N with the run's episode N; a single episode (manifest or
 * its .fm2/.jsonl) is compared with the run's first episode.
 */
export async function loadReferenceTrack(path: string, emulator: EmulatorKind): Promise<ReferenceTrack> {
  const isFolder = await stat(path).then((s) => s.isDirectory(), (e: NodeJS.ErrnoException) => {
    throw new Error(`reference recording not found: ${path} (${e.code ?? e.message})`);
  });
  const byEpisode = new Map<number, RecordedEpisode>();
  if (isFolder) {
    const manifests = await episodeManifests(path);
    if (manifests.length === 0) throw new Error(`reference ${path} holds no finished episode (no episode-NNNN.json manifest)`);
    for (const m of manifests) byEpisode.set(m.episode, await loadRecordedEpisode(m.path));
  } else {
    const manifest = await findManifest(path);
    if (!manifest) throw new Error(`reference ${path} is a movie without a manifest: it holds inputs, not fingerprints (give the recording's episode-NNNN.json)`);
    byEpisode.set(0, await loadRecordedEpisode(manifest));
  }
  return referenceTrackOf(path, byEpisode, emulator);
}
