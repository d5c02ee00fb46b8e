// Tests for episode files: JSONL, CSV, FM2 and manifest contents, the durable journal of an interrupted session, atomic writes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEpisodeRecorder, EpisodeExporter, nodeEpisodeFiles, type EpisodeFiles, type EpisodeManifest } from '../../../../src/core/episodes/episodeWriter';
import { fm2LineForFrame } from '../../../../src/core/episodes/fm2';
import { EpisodeRecorder } from '../../../../src/core/episodes/episodeRecorder';
import { md5ToFm2Checksum, parseFm2 } from '../../../../src/core/episodes/fm2';
import { ramHash } from '../../../../src/core/episodes/ramHash';
import type { EpisodeEnd, FrameRow } from '../../../../src/core/runtime/rows';
import type { RomInfo } from '../../../../src/core/ports';

const ROM: RomInfo = { name: 'demo.nes', md5: '0123456789abcdef0123456789abcdef', md5NoHeader: 'fedcba9876543210fedcba9876543210', mapper: 0, prgBanks: 1, chrBanks: 1 };

function row(frame: number, start: number, over: Partial<FrameRow> = {}): FrameRow {
  return {
    episode: 0, step: frame - start, frame, timestamp: 5000 + frame, buttons: [(frame * 37) & 0xff, (frame * 11) & 0xc0], rewards: [frame % 7 === 0 ? 1 : 0, 0],
    terminated: false, truncated: false, held: [false, frame % 5 === 0], manual: [false, false], wasSpeculative: false,
    agentLatencyMs: [1.23456, null], vars: { score: frame >> 3, x: frame & 0xff }, info: {}, ramFingerprint: `r${frame}`, ...over,
  };
}

function end(start: number, rows: number, over: Partial<EpisodeEnd> = {}): EpisodeEnd {
  return { episode: 0, terminationFrame: start + rows, rows, reason: 'max_steps', startFrame: start, returns: [3, 0], ...over };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'lockstep-export-'));
const lines = (p: string) => readFileSync(p, 'utf8').split('\n').filter((l) => l !== '');

describe('episode exporter: files of a finished episode', () => {
  test('JSONL, CSV, FM2 and manifest describe the same rows; nothing temporary is left', async () => {
    const dir = tmp();
    const { recorder, folder } = await createEpisodeRecorder(dir, { rom: ROM, session: '', flushEvery: 16, guid: () => '01234567-89AB-CDEF-0123-456789ABCDEF' });
    assert.equal(folder, dir);
    const start = 4;
    for (let f = start; f < start + 50; f++) recorder.addRow(row(f, start, f === start + 3 ? { info: { note: 'a "quoted", comma' } } : {}));
    const ram = new Uint8Array(2048).map((_, i) => i & 0xff);
    await recorder.endEpisode(end(start, 50), ram);

    const jsonl = lines(join(dir, 'episode-0000.jsonl')).map((l) => JSON.parse(l));
    assert.equal(jsonl.length, 50);
    assert.deepEqual(jsonl.map((r) => r.frame), Array.from({ length: 50 }, (_, i) => start + i));
    const r3 = jsonl[3];
    assert.deepEqual(r3.actions, [((start + 3) * 37) & 0xff, ((start + 3) * 11) & 0xc0]);
    assert.equal(r3.buttons[0].length, 8);
    assert.deepEqual(r3.info, { note: 'a "quoted", comma' });
    assert.equal(r3.wasSpeculative, false);
    assert.deepEqual(r3.agentLatencyMs, [1.235, null]);
    assert.equal(r3.ramHash, `r${start + 3}`);
    assert.equal(jsonl.at(-1).truncated, true, 'the last row of a max_steps end is truncated');

    const csv = readFileSync(join(dir, 'episode-0000.csv'), 'utf8').split('\r\n').filter(Boolean);
    assert.equal(csv.length, 51);
    assert.match(csv[0], /^episode,step,frame,timestamp,p1_buttons,p2_buttons,p1_fm2,p2_fm2,reward_p1,reward_p2,terminated,truncated,was_speculative,/);
    assert.match(csv[0], /var_score,var_x,info$/);
    assert.ok(csv[4].endsWith(',"{""note"":""a \\""quoted\\"", comma""}"'), `quoted info cell: ${csv[4]}`);

    const movie = parseFm2(readFileSync(join(dir, 'episode-0000.fm2'), 'utf8'), 'episode-0000.fm2');
    assert.equal(movie.header.romChecksum, md5ToFm2Checksum(ROM.md5NoHeader));
    assert.equal(movie.header.romFilename, 'demo');
    assert.equal(movie.header.guid, '01234567-89AB-CDEF-0123-456789ABCDEF');
    const lead = fm2LineForFrame('embedded', start);
    assert.equal(lead, start, 'power-on and warmup lines: one per frame before the start frame');
    assert.equal(movie.frames.length, lead + 50);
    assert.ok(movie.frames.slice(0, lead).every((f) => f.ports[0] === 0 && f.ports[1] === 0 && f.commands === 0));
    assert.deepEqual(movie.frames.slice(lead).map((f) => f.ports), jsonl.map((r) => r.actions));

    const manifest = JSON.parse(readFileSync(join(dir, 'episode-0000.json'), 'utf8')) as EpisodeManifest;
    assert.equal(manifest.rows, 50);
    assert.equal(manifest.startFrame, start);
    assert.equal(manifest.terminationFrame, start + 50);
    assert.equal(manifest.finalRamSha256, ramHash(ram));
    assert.equal(manifest.fm2.lines, lead + 50);
    assert.equal(manifest.fm2.leadIn, lead);
    assert.equal(manifest.fm2.exact, true);
    assert.deepEqual(manifest.returns, [3, 0]);

    const session = JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8'));
    assert.deepEqual(session.episodes.map((e: { rows: number }) => e.rows), [50]);
    assert.deepEqual(readdirSync(dir).sort(), ['episode-0000.csv', 'episode-0000.fm2', 'episode-0000.json', 'episode-0000.jsonl', 'session.json']);
  });

  test('FM2 alignment: frame f is line f on both emulators (the embedded emulator numbers frames like FCEUX)', () => {
    assert.equal(fm2LineForFrame('embedded', 0), 0);
    assert.equal(fm2LineForFrame('embedded', 5), 5);
    assert.equal(fm2LineForFrame('fceux', 5), 5);
  });

  test('a recording from FCEUX frame ids gets as many blank lines as its start frame', async () => {
    const dir = tmp();
    const { recorder } = await createEpisodeRecorder(dir, { rom: ROM, session: '', emulator: 'fceux' });
    for (let f = 5; f < 15; f++) recorder.addRow(row(f, 5));
    await recorder.endEpisode(end(5, 10), new Uint8Array(2048));
    const movie = parseFm2(readFileSync(join(dir, 'episode-0000.fm2'), 'utf8'), 'x.fm2');
    assert.equal(movie.frames.length, 15);
    assert.deepEqual(movie.frames[5].ports, row(5, 5).buttons);
  });

  test('a RAM write during the episode marks the movie as not exact, in the manifest and the movie', async () => {
    const dir = tmp();
    const { recorder } = await createEpisodeRecorder(dir, { rom: ROM, session: '' });
    for (let f = 0; f < 5; f++) recorder.addRow(row(f, 0));
    recorder.noteExternalEdit(0, 3, '1 byte(s) written at $0016');
    await recorder.endEpisode(end(0, 5), new Uint8Array(2048));
    const manifest = JSON.parse(readFileSync(join(dir, 'episode-0000.json'), 'utf8')) as EpisodeManifest;
    assert.equal(manifest.fm2.exact, false);
    assert.deepEqual(manifest.fm2.externalEdits, ['frame 3: 1 byte(s) written at $0016']);
    assert.match(readFileSync(join(dir, 'episode-0000.fm2'), 'utf8'), /comment lockstep warning: RAM was edited/);
  });

  test('the default session folder is a fresh subfolder named after the time and ROM', async () => {
    const dir = tmp();
    const rec = await createEpisodeRecorder(dir, { rom: ROM, now: () => new Date('2026-02-02T10:11:12.345Z') });
    assert.match(rec.folder, /20260202-101112-demo-[0-9a-f]{4}$/);
    assert.ok(existsSync(join(rec.folder, 'session.json')));
  });

  test('rows that are not consecutive frames cannot become a movie: clear error', async () => {
    const ex = new EpisodeExporter({ folder: tmp(), rom: ROM, emulator: 'embedded' });
    await assert.rejects(
      ex.finishEpisode({ episode: 2, rows: [row(0, 0), row(2, 0)], end: end(0, 3), terminationFrame: 3, finalRam: new Uint8Array(2048), journaled: 0, rewriteFrom: Infinity, stats: { speculativePromoted: 0, speculativeDiscarded: 0, droppedPastTermination: 0 }, externalEdits: [] }),
      /episode 2: rows are not consecutive frames \(row 1 is frame 2, expected 1\)/,
    );
  });

  test('a bad record folder fails with the folder in the message', async () => {
    const file = join(tmp(), 'plain-file');
    writeFileSync(file, 'x');
    await assert.rejects(createEpisodeRecorder(file, { rom: ROM, session: 'sub' }), new RegExp(`cannot record into ${file.replace(/[/\\]/g, '.')}.sub`));
    await assert.rejects(createEpisodeRecorder('  ', { rom: ROM }), /record folder must be a path/);
  });
});

describe('episode exporter: interrupted sessions and durability', () => {
  test('an interrupted session keeps every confirmed row flushed so far in the .partial journal (valid JSONL)', async () => {
    const dir = tmp();
    const { recorder } = await createEpisodeRecorder(dir, { rom: ROM, session: '', flushEvery: 10 });
    for (let f = 0; f < 25; f++) recorder.addRow(row(f, 0));
    await new Promise((r) => setTimeout(r, 20));
    const partial = join(dir, 'episode-0000.jsonl.partial');
    assert.equal(lines(partial).length, 20, 'two full batches are on disk before any flush()');
    await recorder.flush();
    const rows = lines(partial).map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.frame), Array.from({ length: 25 }, (_, i) => i));
    assert.equal(existsSync(join(dir, 'episode-0000.json')), false, 'no manifest: the episode is not complete');
  });

  test('step back cuts the journal at a row boundary, and the final JSONL holds the new timeline', async () => {
    const dir = tmp();
    const { recorder } = await createEpisodeRecorder(dir, { rom: ROM, session: '', flushEvery: 5 });
    for (let f = 0; f < 30; f++) recorder.addRow(row(f, 0, { info: { txt: 'é✓' } }));
    await recorder.flush();
    recorder.truncate(0, 12);
    await recorder.flush();
    assert.equal(lines(join(dir, 'episode-0000.jsonl.partial')).length, 12);
    for (let f = 12; f < 20; f++) recorder.addRow(row(f, 0, { buttons: [1, 2] }));
    await recorder.endEpisode(end(0, 20, { reason: 'done_flag' }), new Uint8Array(2048));
    const rows = lines(join(dir, 'episode-0000.jsonl')).map((l) => JSON.parse(l));
    assert.equal(rows.length, 20);
    assert.deepEqual(rows[15].actions, [1, 2]);
    assert.equal(rows[19].terminated, true, 'the rewritten last line carries the end');
    assert.equal(rows.filter((r) => r.terminated).length, 1);
    assert.equal(existsSync(join(dir, 'episode-0000.jsonl.partial')), false, 'the journal became the final file');
  });

  test('a failing write leaves no half file and no manifest; the error names the file', async () => {
    const dir = tmp();
    const real = nodeEpisodeFiles();
    const files: EpisodeFiles = {
      ...real,
      writeAtomic: async (path, data) => {
        if (path.endsWith('.fm2')) throw new Error(`EACCES: permission denied, open '${path}'`);
        return real.writeAtomic(path, data);
      },
    };
    const ex = new EpisodeExporter({ folder: dir, rom: ROM, emulator: 'embedded', files });
    const recorder = new EpisodeRecorder(ex);
    for (let f = 0; f < 3; f++) recorder.addRow(row(f, 0));
    await assert.rejects(recorder.endEpisode(end(0, 3), new Uint8Array(2048)), /recording failed: EACCES.*episode-0000\.fm2/);
    assert.equal(existsSync(join(dir, 'episode-0000.json')), false);
    assert.equal(existsSync(join(dir, 'episode-0000.fm2')), false);
  });

  test('writeAtomic replaces a file whole or not at all (a failed rename keeps the old content, no temp file left)', async () => {
    const dir = tmp();
    const files = nodeEpisodeFiles();
    const target = join(dir, 'm.json');
    await files.writeAtomic(target, 'old');
    await files.writeAtomic(target, 'new');
    assert.equal(readFileSync(target, 'utf8'), 'new');
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'inner'), { recursive: true });
    await assert.rejects(files.writeAtomic(blocked, 'x'));
    assert.ok(existsSync(join(blocked, 'inner')), 'the folder in the way is untouched');
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), []);
    rmSync(dir, { recursive: true, force: true });
  });
});
