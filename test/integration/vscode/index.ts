// Entry VS Code's extension host loads as --extensionTestsPath: runs every *.test.js built next to it with mocha.
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, prefixReporter, TEST_LINE_PREFIX, type LineSink, type RunTally } from './prefixReporter';

const DEFAULT_TIMEOUT_MS = 60_000;

function timeoutFromEnv(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_TIMEOUT_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0) {
    throw new Error(`LOCKSTEP_TEST_TIMEOUT_MS must be a positive integer of milliseconds, got "${raw}"`);
  }
  return ms;
}

function runMocha(sink: LineSink, tally: RunTally): Promise<number> {
  const grep = process.env.LOCKSTEP_TEST_GREP;
  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    timeout: timeoutFromEnv(process.env.LOCKSTEP_TEST_TIMEOUT_MS),
    reporter: prefixReporter(sink, tally),
    ...(grep ? { grep } : {}),
  });
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  if (files.length === 0) throw new Error(`no *.test.js files next to ${__filename}: was the suite built?`);
  for (const f of files) mocha.addFile(join(__dirname, f));
  return new Promise<number>((resolve) => mocha.run(resolve));
}

/** Called by VS Code once the workbench and extension host are up; rejecting makes the host exit non-zero. */
export async function run(): Promise<void> {
  // console.log in the extension host is forwarded to the workbench, where the stand-in reads it.
  const sink: LineSink = (line) => console.log(line);
  // The bundles carry inline source maps: stack traces then point at the .ts sources.
  process.setSourceMapsEnabled(true);
  const tally: RunTally = { passed: 0, failed: 0 };
  let failures: number;
  try {
    failures = await runMocha(sink, tally);
  } catch (err) {
    // Setup errors (bad env, a test file throwing while loading) come before the reporter's summary: print one.
    for (const line of describeError(err).split('\n')) sink(TEST_LINE_PREFIX + line);
    sink(`${TEST_LINE_PREFIX}${tally.passed} passed, ${tally.failed + 1} failed`);
    throw err;
  }
  if (failures > 0 || tally.failed > 0) throw new Error(`${Math.max(failures, tally.failed)} test(s) failed`);
  if (tally.passed === 0) {
    const why = process.env.LOCKSTEP_TEST_GREP ? `no test matches LOCKSTEP_TEST_GREP="${process.env.LOCKSTEP_TEST_GREP}"` : 'no tests ran';
    sink(TEST_LINE_PREFIX + why);
    throw new Error(why);
  }
}
