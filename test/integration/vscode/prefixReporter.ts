// Mocha reporter for the extension host: every line carries a prefix so the stand-in can pick test output out of the
// workbench's console, and the run ends with "N passed, N failed", the line CI parses.
import type { Runner, TestInfo } from 'mocha';
import { sourceMappedStack } from './sourceMappedStack';

export const TEST_LINE_PREFIX = '[test] ';

export type LineSink = (line: string) => void;

export interface RunTally {
  passed: number;
  failed: number;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ? sourceMappedStack(err.stack) : `${err.name}: ${err.message}`;
  return String(err);
}

/** Builds a reporter class (mocha instantiates it itself) writing prefixed lines to `sink` and counting into `tally`. */
export function prefixReporter(sink: LineSink, tally: RunTally): new (runner: Runner) => unknown {
  const emit = (text: string): void => {
    for (const line of text.split('\n')) sink(TEST_LINE_PREFIX + line);
  };
  return class PrefixReporter {
    constructor(runner: Runner) {
      runner.on('pass', (t: TestInfo) => {
        tally.passed++;
        emit(`ok   ${t.fullTitle()} (${t.duration ?? 0} ms)`);
      });
      runner.on('fail', (t: TestInfo, err: unknown) => {
        tally.failed++;
        emit(`FAIL ${t.fullTitle()}\n${describeError(err).replace(/^/gm, '     ')}`);
      });
      // Skipped tests hide missing coverage; the project forbids them, so a pending test fails the run.
      runner.on('pending', (t: TestInfo) => {
        tally.failed++;
        emit(`FAIL ${t.fullTitle()}\n     skipped tests are not allowed`);
      });
      runner.on('end', () => emit(`${tally.passed} passed, ${tally.failed} failed`));
    }
  };
}
