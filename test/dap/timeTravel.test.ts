// DAP test, time travel over the whole session on the embedded emulator (the scenario is in timeTravelScenario.ts).
import { test, describe } from 'node:test';
import { timeTravelScenario } from './timeTravelScenario';

describe('DAP: time travel over the whole session (embedded)', () => {
  test('after 20,000 frames, reverse continue with a function breakpoint on the first episode stops there; step back from an episode start enters the previous episode; a data breakpoint works backwards', { timeout: 280_000 }, async () => {
    await timeTravelScenario('embedded');
  });
});
