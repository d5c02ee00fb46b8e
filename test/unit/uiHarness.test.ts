// The UI-test harness's pure parts: VS Code key names to Playwright's, the Step Frame key read from package.json, and the TAP summary count.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { keybindingFor, playwrightKey } from '../e2e/vscodeUi';
import { countResults } from '../../scripts/vscode/tapSummary';

describe('playwrightKey', () => {
  test('maps modifiers and punctuation to Playwright names', () => {
    assert.equal(playwrightKey('ctrl+alt+.'), 'Control+Alt+Period');
    assert.equal(playwrightKey('cmd+shift+p'), 'Meta+Shift+P');
    assert.equal(playwrightKey('f5'), 'F5');
    assert.equal(playwrightKey('ctrl+k'), 'Control+K');
  });

  test('refuses a key it cannot name, quoting it', () => {
    assert.throws(() => playwrightKey('ctrl+numpad_add'), /keybinding "ctrl\+numpad_add": no Playwright name for "numpad_add"/);
  });

  test('reads the Step Frame key from package.json, and names a command without one', () => {
    assert.equal(keybindingFor('lockstep.stepFrame'), 'Control+Alt+Period');
    assert.throws(() => keybindingFor('lockstep.noSuchCommand'), /binds no key to lockstep\.noSuchCommand/);
  });
});

describe('countResults', () => {
  test('takes the pass and fail totals of the report', () => {
    assert.deepEqual(countResults('TAP version 13\nok 1 - a\n# tests 7\n# pass 6\n# fail 1\n# cancelled 0\n'), { passed: 6, failed: 1 });
  });

  test('counts cancelled tests as failed', () => {
    assert.deepEqual(countResults('# pass 2\n# fail 0\n# cancelled 3\n'), { passed: 2, failed: 3 });
  });

  test('a report without its summary (a crash) is at least one failure', () => {
    assert.deepEqual(countResults(''), { passed: 0, failed: 1 });
    assert.deepEqual(countResults('ok 1 - a\n# pass 1\n'), { passed: 1, failed: 1 });
  });
});
