// A node:test reporter that names what was still running when a test file hit --test-timeout: a hung test, or a file
// whose tests all ended but whose process never exited (a server, timer or child process left open). Without it the
// spec report shows only the file. Prints nothing otherwise.
//
// Usage: node --test --test-timeout=MS --test-reporter=spec --test-reporter-destination=stdout \
//          --test-reporter=./scripts/hangReporter.mjs --test-reporter-destination=stderr FILES...

/** @param {AsyncIterable<{ type: string; data: any }>} source */
export default async function* hangReporter(source) {
  /** Per test file: the tests that began and have not ended yet, outermost first. */
  const running = new Map();
  for await (const { type, data } of source) {
    if (type !== 'test:dequeue' && type !== 'test:pass' && type !== 'test:fail') continue;
    const file = data.file;
    if (!file) continue;
    const isFileTest = data.nesting === 0 && data.name === file;
    if (type === 'test:dequeue') {
      if (isFileTest) running.set(file, []);
      else (running.get(file) ?? running.set(file, []).get(file)).push({ nesting: data.nesting, name: data.name });
      continue;
    }
    const open = running.get(file) ?? [];
    if (!isFileTest) {
      for (let i = open.length - 1; i >= 0; i--) {
        if (open[i].nesting === data.nesting && open[i].name === data.name) {
          open.splice(i, 1);
          break;
        }
      }
      continue;
    }
    running.delete(file);
    const error = data.details?.error;
    if (type !== 'test:fail' || error?.failureType !== 'testTimeoutFailure') continue;
    const what = open.length > 0
      ? `still running: ${open.map((t) => t.name).join(' › ')}`
      : 'every test in it had ended, so its process did not exit: something it started is still open (a server, a timer, a child process)';
    yield `[hang] ${file}: ${error.message ?? 'timed out'}; ${what}\n`;
  }
}
