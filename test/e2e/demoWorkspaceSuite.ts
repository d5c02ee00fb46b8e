// A UI test suite on the demo workspace: VS Code starts on a fresh copy of it before the suite's tests, and is closed (the copy removed) after them.
import { before, after } from 'node:test';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { VsCodeUi } from './vscodeUi';
import { extensionUnderTest, log, makeDemoWorkspace, UiSuite } from './uiTestEnv';

/** Call inside a describe: registers its before/after and returns the suite and the workspace folder (set once started). */
export function demoWorkspaceSuite(deadline: number): { suite: UiSuite<VsCodeUi>; folder: () => string } {
  const suite = new UiSuite<VsCodeUi>();
  let folder = '';
  before(async () => {
    folder = await makeDemoWorkspace();
    suite.ui = await VsCodeUi.start({ folder, extensionDevelopmentPath: extensionUnderTest(), deadline, log });
  });
  after(async () => {
    await suite.ui?.close();
    if (folder) rmSync(dirname(folder), { recursive: true, force: true });
  });
  return { suite, folder: () => folder };
}
