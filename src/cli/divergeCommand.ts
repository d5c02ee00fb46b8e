// `lockstep diverge A B`: the first frame where two runs part ways (recordings, movies, live replays on jsnes or FCEUX), as text or JSON.
import { isAbsolute, resolve } from 'node:path';
import { demoRomPath, findPackageRoot } from '../core/packageRoot';
import { readRom } from '../emulators/rom';
import { FceuxEmulator } from '../emulators/fceux/fceuxEmulator';
import { PortableStateEmulator, ramOfMachineState } from '../emulators/embedded/portableStateEmulator';
import { findManifest, loadMovie, loadRecordedEpisode } from '../core/episodes/episodeReader';
import { findDivergence, type CompareMode, type DivergenceSource, type SearchMode } from '../core/divergence/divergenceFinder';
import { divergenceReportJson, formatDivergenceText, writeDivergenceReport, type DivergenceFiles } from '../core/divergence/divergenceReport';
import { loadRamMap, ramMapPathFor } from '../session/sessionBuilder';
import type { EmulatorKind } from '../core/ports';
import { intOption } from './cliOptions';
import { parseCommandLine } from './commandLine';
import { EXIT_FAILED, EXIT_OK, EXIT_STATUS_HELP, EXIT_USAGE, UsageError } from './usageError';

export const DIVERGE_USAGE = `lockstep diverge A B — the first frame where two runs part ways

A and B are each one of:
  DIR                    a recording folder (lockstep run --record DIR): its first episode, or --episode N
  DIR/episode-0003.json  an episode manifest, or any file of that episode (.jsonl, .csv, .fm2)
  MOVIE.fm2              an FCEUX movie without a manifest: its inputs replayed on --emulator
  live:embedded          the other side's inputs replayed now on jsnes (does the recording reproduce?)
  live:fceux             the other side's inputs replayed now in a headless FCEUX (cross-emulator check)

Options:
  --episode N            episode of a recording folder, both sides (--episode-a N, --episode-b N for one side)
  --rom PATH             the ROM the runs used (default: the demo ROM); checked against the recordings' MD5
  --ram-map PATH         RAM map naming the bytes (default: <rom>.rammap.json beside the ROM)
  --compare MODE         auto (default) | ram | ramNoStack | vars
  --search MODE          auto (default) | rows | bisect | forward
  --emulator KIND        emulator that replays .fm2 movies: embedded (default) | fceux
  --fceux-path PATH      FCEUX binary (default: PATH, then /usr/games/fceux)
  --max-steps N          compare at most N steps (movies and live sides)
  --context N            inputs shown before and after the diverging frame (default 5)
  --out DIR              write DIR/divergence.json and the two screens (PNG, with a side-by-side picture)
  --no-screens           do not capture screens
  --json                 print the report as one JSON object (last line)
  -h, --help             this text

${EXIT_STATUS_HELP}`;

const COMPARE: ReadonlyArray<CompareMode | 'auto'> = ['auto', 'ram', 'ramNoStack', 'vars'];
const SEARCH: ReadonlyArray<SearchMode | 'auto'> = ['auto', 'rows', 'bisect', 'forward'];

const DIVERGE_OPTIONS = {
  episode: { type: 'string' },
  'episode-a': { type: 'string' },
  'episode-b': { type: 'string' },
  rom: { type: 'string' },
  'ram-map': { type: 'string' },
  compare: { type: 'string' },
  search: { type: 'string' },
  emulator: { type: 'string' },
  'fceux-path': { type: 'string' },
  'max-steps': { type: 'string' },
  context: { type: 'string' },
  out: { type: 'string' },
  'no-screens': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export async function divergeCommand(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  try {
    const parsed = parseCommandLine(argv, DIVERGE_OPTIONS, true);
    if (parsed.help) {
      process.stdout.write(DIVERGE_USAGE);
      return EXIT_OK;
    }
    return await diverge(parsed.values, parsed.positionals, json);
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    const hint = e instanceof UsageError ? ' (see lockstep diverge --help)' : '';
    process.stderr.write(`lockstep diverge: ${message}${hint}\n`);
    if (json) process.stdout.write(JSON.stringify({ format: 'lockstep-divergence', version: 1, error: message }) + '\n');
    return EXIT_USAGE;
  }
}

type DivergeValues = { [K in keyof typeof DIVERGE_OPTIONS]?: (typeof DIVERGE_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

async function diverge(values: DivergeValues, positionals: string[], json: boolean): Promise<number> {
  if (positionals.length !== 2) throw new UsageError(`expected two sources A and B, got ${positionals.length} (see lockstep diverge --help)`);
  const compare = (values.compare ?? 'auto') as CompareMode | 'auto';
  if (!COMPARE.includes(compare)) throw new UsageError(`--compare must be one of ${COMPARE.join(', ')}, got "${values.compare}"`);
  const search = (values.search ?? 'auto') as SearchMode | 'auto';
  if (!SEARCH.includes(search)) throw new UsageError(`--search must be one of ${SEARCH.join(', ')}, got "${values.search}"`);
  const movieEmulator = values.emulator ?? 'embedded';
  if (movieEmulator !== 'embedded' && movieEmulator !== 'fceux') throw new UsageError(`--emulator must be "embedded" or "fceux", got "${movieEmulator}"`);
  const episode = intOption('episode', values.episode, 0);
  const cwd = process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const romPath = values.rom ? abs(values.rom) : demoRomPath(findPackageRoot());
  const { info } = await readRom(romPath);
  const ramMap = await loadRamMap(ramMapPathFor(romPath, values['ram-map'] ? abs(values['ram-map']) : undefined));
  const log = (level: 'info' | 'warn' | 'error', message: string) => {
    if (level !== 'info') process.stderr.write(`[${level}] ${message}\n`);
  };
  const a = await openSource(positionals[0], intOption('episode-a', values['episode-a'], 0) ?? episode, movieEmulator, abs);
  const b = await openSource(positionals[1], intOption('episode-b', values['episode-b'], 0) ?? episode, movieEmulator, abs);
  const result = await findDivergence(a, b, {
    romPath,
    romMd5: info.md5,
    ramMap,
    createEmulator: (kind: EmulatorKind) => (kind === 'fceux' ? new FceuxEmulator({ fceuxPath: values['fceux-path'], headless: true, log }) : new PortableStateEmulator()),
    ramOfState: ramOfMachineState,
  }, {
    compare,
    search,
    screens: !values['no-screens'],
    context: intOption('context', values.context, 0),
    maxSteps: intOption('max-steps', values['max-steps'], 1),
  });
  let files: DivergenceFiles | undefined;
  if (values.out) files = await writeDivergenceReport(result, abs(values.out));
  if (json) {
    process.stdout.write(JSON.stringify({ ...divergenceReportJson(result, files), ...(values.out ? { out: abs(values.out) } : {}) }) + '\n');
  } else {
    process.stdout.write(formatDivergenceText(result));
    if (values.out) process.stdout.write(`report written to ${abs(values.out)}\n`);
  }
  return result.diverged ? EXIT_FAILED : EXIT_OK;
}

/** A command-line source: live:KIND, a recording (folder, manifest or a file of it), or a bare .fm2 movie. */
export async function openSource(text: string, episode: number | undefined, movieEmulator: EmulatorKind, abs: (p: string) => string): Promise<DivergenceSource> {
  if (text.startsWith('live:')) {
    const kind = text.slice(5);
    if (kind !== 'embedded' && kind !== 'fceux') throw new Error(`"${text}": live sources are live:embedded or live:fceux`);
    return { kind: 'live', emulator: kind };
  }
  const path = abs(text);
  const manifest = await findManifest(path, episode);
  if (manifest) return { kind: 'recording', recording: await loadRecordedEpisode(manifest) };
  return { kind: 'movie', movie: await loadMovie(path), emulator: movieEmulator };
}
