// DAP test, time travel over the whole session on a real FCEUX launched by the adapter (keyframes are its in-memory savestates).
import { test, describe } from 'node:test';
import { timeTravelScenario } from './timeTravelScenario';

describe('DAP: time travel over the whole session (FCEUX)', () => {
  test('after 20,000 frames, reverse continue with a function breakpoint on the first episode stops there; step back from an episode start enters the previous episode; a data breakpoint works backwards', { timeout: 280_000 }, async () => {
    await timeTravelScenario('fceux');
  });
});
