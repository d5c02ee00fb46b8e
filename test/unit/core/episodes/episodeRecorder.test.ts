// Tests for the episode recorder: speculative vs confirmed rows, promotion below the synced termination, journal flushing, step back, failures.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EpisodeRecorder, SyncedTermination, type EpisodeWriter, type FinishedEpisode } from '../../../../src/core/episodes/episodeRecorder';
import type { EpisodeEnd, FrameRow } from '../../../../src/core/runtime/rows';

function row(frame: number, over: Partial<FrameRow> = {}, start = 0, episode = 0): FrameRow {
  return {
    episode, step: frame - start, frame, timestamp: 1000 + frame, buttons: [frame & 0xff, 0], rewards: [0, 0],
    terminated: false, truncated: false, held: [false, false], manual: [false, false], wasSpeculative: false,
    agentLatencyMs: [null, null], vars: { x: frame }, info: {}, ...over,
  };
}

function end(terminationFrame: number, over: Partial<EpisodeEnd> = {}): EpisodeEnd {
  return { episode: 0, terminationFrame, rows: terminationFrame, reason: 'max_steps', startFrame: 0, returns: [0, 0], ...over };
}

/** Keeps what the recorder writes in memory, like a journal file would. */
class MemoryWriter implements EpisodeWriter {
  journal = new Map<number, FrameRow[]>();
  calls: string[] = [];
  finished: FinishedEpisode[] = [];
  failOn?: string;
  async appendRows(episode: number, rows: readonly FrameRow[], firstIndex: number): Promise<void> {
    this.calls.push(`append ${firstIndex}+${rows.length}`);
    if (this.failOn === 'append') throw new Error('disk full (ENOSPC)');
    const j = firstIndex === 0 ? [] : this.journal.get(episode) ?? [];
    assert.equal(j.length, firstIndex, 'appends continue where the journal ends');
    this.journal.set(episode, [...j, ...rows]);
  }
  async truncateRows(episode: number, kept: number): Promise<void> {
    this.calls.push(`truncate ${kept}`);
    this.journal.set(episode, (this.journal.get(episode) ?? []).slice(0, kept));
  }
  async finishEpisode(ep: FinishedEpisode): Promise<unknown> {
    this.calls.push(`finish ${ep.episode}`);
    this.finished.push(ep);
    return { episode: ep.episode, rows: ep.rows.length };
  }
}

describe('episode recorder: two buffers', () => {
  test('speculative rows stay out of the confirmed buffer until addRow confirms them, and a rollback drops them', () => {
    const r = new EpisodeRecorder();
    for (let f = 0; f < 5; f++) r.addRow(row(f));
    for (let f = 5; f < 9; f++) r.addSpeculativeRow(row(f));
    assert.deepEqual(r.confirmedRows.map((x) => x.frame), [0, 1, 2, 3, 4]);
    assert.deepEqual([...r.speculativeRows.keys()], [5, 6, 7, 8]);
    r.addRow(row(5, { buttons: [0x80, 0] }));
    assert.deepEqual(r.confirmedRows.map((x) => x.frame), [0, 1, 2, 3, 4, 5]);
    assert.equal(r.confirmedRows[5].buttons[0], 0x80, 'the confirmed version replaces the speculative one');
    assert.equal(r.speculativeRows.has(5), false);
    r.discardSpeculative(0, 7);
    assert.deepEqual([...r.speculativeRows.keys()], [6]);
  });

  test('a speculative row for a frame already confirmed is ignored', () => {
    const r = new EpisodeRecorder();
    r.addRow(row(0));
    r.addSpeculativeRow(row(0, { buttons: [1, 1] }));
    assert.equal(r.speculativeRows.size, 0);
    assert.deepEqual(r.confirmedRows[0].buttons, [0, 0]);
  });

  test('confirmed rows must be consecutive frames', () => {
    const r = new EpisodeRecorder();
    r.addRow(row(0));
    assert.throws(() => r.addRow(row(2)), /frame 2 does not follow frame 0/);
  });
});

describe('episode recorder: synced termination and the boundary', () => {
  test('at the end, speculative rows are promoted only below the termination frame (strictly): 450 rows, never 451', async () => {
    const w = new MemoryWriter();
    const r = new EpisodeRecorder(w);
    for (let f = 0; f < 440; f++) r.addRow(row(f));
    for (let f = 440; f < 456; f++) r.addSpeculativeRow(row(f));
    await r.endEpisode(end(450), new Uint8Array(2048));
    const ep = w.finished[0];
    assert.equal(ep.rows.length, 450);
    assert.deepEqual(ep.rows.map((x) => x.frame), Array.from({ length: 450 }, (_, i) => i));
    assert.ok(ep.rows.slice(440).every((x) => x.wasSpeculative), 'promoted rows are flagged');
    assert.ok(ep.rows.slice(0, 440).every((x) => !x.wasSpeculative));
    assert.equal(ep.stats.speculativePromoted, 10);
    assert.equal(ep.stats.speculativeDiscarded, 6, 'frames 450..455 are dropped');
    assert.equal(ep.terminationFrame, 450);
    assert.equal(ep.rows.at(-1)!.truncated, true, 'the last row carries the max_steps end');
  });

  test('rows at or after a fixed termination are refused as they arrive', () => {
    const r = new EpisodeRecorder();
    r.fixTermination(0, 450, 'max_steps', 'player 2');
    for (let f = 0; f < 512; f++) r.addRow(row(f));
    r.addSpeculativeRow(row(460));
    assert.equal(r.confirmedRows.length, 450);
    assert.equal(r.confirmedRows.at(-1)!.frame, 449);
    assert.equal(r.speculativeRows.size, 0);
  });

  test('the earliest proposal wins whatever the order, so two sides agree', () => {
    for (const order of [[450, 455], [455, 450]]) {
      const t = new SyncedTermination();
      t.propose(order[0], 'max_steps', 'a');
      t.propose(order[1], 'done_flag', 'b');
      assert.equal(t.frame, 450);
      assert.equal(t.reason, order[0] === 450 ? 'max_steps' : 'done_flag');
    }
    assert.throws(() => new SyncedTermination().propose(-1, 'max_steps', 'agent 2'), /termination frame must be a whole number >= 0, got -1 \(from agent 2\)/);
    assert.throws(() => new SyncedTermination().propose(1.5, 'max_steps', 'x'), /got 1.5/);
  });

  test('a termination fixed below confirmed rows drops them, including from the journal', async () => {
    const w = new MemoryWriter();
    const r = new EpisodeRecorder(w, { flushEvery: 10 });
    for (let f = 0; f < 30; f++) r.addRow(row(f));
    await r.flush();
    assert.equal(w.journal.get(0)!.length, 30);
    r.fixTermination(0, 25, 'agent_terminated', 'agent 1');
    await r.flush();
    assert.equal(r.confirmedRows.length, 25);
    assert.equal(w.journal.get(0)!.length, 25);
    await r.endEpisode(end(30, { reason: 'agent_terminated' }), new Uint8Array(2048));
    assert.equal(w.finished[0].rows.length, 25, 'the runtime\'s later end does not bring them back');
    assert.equal(w.finished[0].terminationFrame, 25);
    assert.equal(w.finished[0].rows.at(-1)!.terminated, true);
  });

  test('the last row gets the end flag when the end came from elsewhere, and a journaled copy is marked for rewrite', async () => {
    const w = new MemoryWriter();
    const r = new EpisodeRecorder(w, { flushEvery: 5 });
    for (let f = 0; f < 10; f++) r.addRow(row(f));
    await r.endEpisode(end(10, { reason: 'done_flag' }), new Uint8Array(2048));
    const ep = w.finished[0];
    assert.equal(ep.rows[9].terminated, true);
    assert.equal(ep.journaled, 10);
    assert.equal(ep.rewriteFrom, 9, 'the exporter must rewrite the journal from the changed row');
  });

  test('speculative rows that leave a gap are not promoted (rows stay consecutive)', async () => {
    const w = new MemoryWriter();
    const r = new EpisodeRecorder(w);
    for (let f = 0; f < 5; f++) r.addRow(row(f));
    r.addSpeculativeRow(row(5));
    r.addSpeculativeRow(row(7));
    await r.endEpisode(end(8), new Uint8Array(2048));
    assert.deepEqual(w.finished[0].rows.map((x) => x.frame), [0, 1, 2, 3, 4, 5]);
  });

  test('rows for an episode that already ended are ignored; the next episode starts clean', async () => {
    const w = new MemoryWriter();
    const r = new EpisodeRecorder(w);
    r.addRow(row(0));
    await r.endEpisode(end(1), new Uint8Array(2048));
    r.addRow(row(1));
    assert.equal(r.confirmedRows.length, 0);
    r.addRow(row(4, {}, 4, 1));
    assert.equal(r.episode, 1);
    assert.equal(r.terminationFrame, null);
  });
});

describe('episode recorder: incremental writes', () => {
  test('confirmed rows reach the journal every flushEvery rows, and flush() writes the rest', async () => {
    const w = new MemoryWriter();
    const r = new EpisodeRecorder(w, { flushEvery: 60 });
    for (let f = 0; f < 150; f++) r.addRow(row(f));
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(w.calls, ['append 0+60', 'append 60+60']);
    await r.flush();
    assert.deepEqual(w.journal.get(0)!.map((x) => x.frame), Array.from({ length: 150 }, (_, i) => i));
  });

  test('speculative rows never reach the journal', async () => {
    const w = new MemoryWriter();
    const r = new EpisodeRecorder(w, { flushEvery: 1 });
    r.addRow(row(0));
    r.addSpeculativeRow(row(1));
    r.addSpeculativeRow(row(2));
    await r.flush();
    assert.deepEqual(w.journal.get(0)!.map((x) => x.frame), [0]);
  });

  test('step back cuts the journal to the rows kept', async () => {
    const w = new MemoryWriter();
    const r = new EpisodeRecorder(w, { flushEvery: 10 });
    for (let f = 0; f < 20; f++) r.addRow(row(f));
    await r.flush();
    r.truncate(0, 12);
    for (let f = 12; f < 15; f++) r.addRow(row(f, { buttons: [7, 7] }));
    await r.flush();
    const j = w.journal.get(0)!;
    assert.equal(j.length, 15);
    assert.deepEqual(j[12].buttons, [7, 7]);
    assert.ok(w.calls.includes('truncate 12'));
  });

  test('a failed write stops the recording with a clear error on the next row and at the end', async () => {
    const w = new MemoryWriter();
    w.failOn = 'append';
    const logs: string[] = [];
    const r = new EpisodeRecorder(w, { flushEvery: 2, log: (_l, m) => logs.push(m) });
    r.addRow(row(0));
    r.addRow(row(1));
    await new Promise((res) => setImmediate(res));
    assert.throws(() => r.addRow(row(2)), /recording failed: disk full \(ENOSPC\)/);
    await assert.rejects(r.endEpisode(end(2), new Uint8Array(2048)), /recording failed: disk full/);
    assert.ok(logs.some((m) => /disk full/.test(m)));
  });

  test('flushEvery must be a whole number >= 1', () => {
    assert.throws(() => new EpisodeRecorder(undefined, { flushEvery: 0 }), /flushEvery must be a whole number >= 1, got 0/);
  });
});
