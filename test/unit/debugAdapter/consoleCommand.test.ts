// Debug Console commands and custom DAP request arguments: what parses, and the one-line errors for what does not.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseConsoleCommand } from '../../../src/debugAdapter/consoleCommand';
import { CUSTOM_REQUEST_NAMES, parseCustomRequest } from '../../../src/debugAdapter/customProtocol';
import { BUTTON } from '../../../src/core/buttons';

describe('console commands', () => {
  test('press: names (any case, aliases), a controller prefix, masks, and nothing = release', () => {
    assert.deepEqual(parseConsoleCommand('press A RIGHT'), { kind: 'press', buttons: BUTTON.A | BUTTON.RIGHT, player: undefined });
    assert.deepEqual(parseConsoleCommand('press p2 left'), { kind: 'press', buttons: BUTTON.LEFT, player: 1 });
    assert.deepEqual(parseConsoleCommand('press c1 a+b'), { kind: 'press', buttons: BUTTON.A | BUTTON.B, player: 0 });
    assert.deepEqual(parseConsoleCommand('press 0x81'), { kind: 'press', buttons: 0x81, player: undefined });
    assert.deepEqual(parseConsoleCommand('press'), { kind: 'press', buttons: 0, player: undefined });
    assert.throws(() => parseConsoleCommand('press JUMP'), /press: unknown button "JUMP"/);
    assert.throws(() => parseConsoleCommand('press 300'), /a button mask must be 0-255, got 300/);
  });

  test('frames, back, gate, wait, status, help; anything else is an expression', () => {
    assert.deepEqual(parseConsoleCommand('frames 60'), { kind: 'frames', count: 60 });
    assert.deepEqual(parseConsoleCommand('frames'), { kind: 'frames', count: 1 });
    assert.deepEqual(parseConsoleCommand('back 10'), { kind: 'back', count: 10 });
    assert.deepEqual(parseConsoleCommand('gate hold'), { kind: 'gate', onTimeout: 'hold' });
    assert.deepEqual(parseConsoleCommand('gate skip'), { kind: 'gate', onTimeout: 'skip' });
    assert.deepEqual(parseConsoleCommand('wait on'), { kind: 'wait', enabled: true });
    assert.deepEqual(parseConsoleCommand('status'), { kind: 'status' });
    assert.deepEqual(parseConsoleCommand(' help '), { kind: 'help' });
    assert.deepEqual(parseConsoleCommand('frame == 3'), { kind: 'expression', text: 'frame == 3' });
    assert.deepEqual(parseConsoleCommand('score_p1'), { kind: 'expression', text: 'score_p1' });
    assert.throws(() => parseConsoleCommand('frames -2'), /frames needs a whole number of frames >= 1/);
    assert.throws(() => parseConsoleCommand('gate loose'), /gate takes "hold" \(the emulator holds the frame and waits for a late action\) or "skip" .*as onTimeout in lockstep\.yaml$/);
    assert.throws(() => parseConsoleCommand('gate strict'), /"gate strict" is now "gate hold"/);
    assert.throws(() => parseConsoleCommand('wait maybe'), /wait takes "on" or "off"/);
  });
});

describe('custom DAP requests', () => {
  test('every request name is prefixed lockstep. and parses its arguments', () => {
    assert.ok(CUSTOM_REQUEST_NAMES.every((n) => n.startsWith('lockstep.')));
    assert.deepEqual(parseCustomRequest('lockstep.stepFrames', { count: 60 }), { command: 'lockstep.stepFrames', args: { count: 60 } });
    assert.deepEqual(parseCustomRequest('lockstep.sendAction', { buttons: ['A'], player: 1 }), { command: 'lockstep.sendAction', args: { buttons: ['A'], player: 1 } });
    assert.deepEqual(parseCustomRequest('lockstep.sendAction', { buttons: 0x80 }), { command: 'lockstep.sendAction', args: { buttons: 0x80, player: undefined } });
    assert.deepEqual(parseCustomRequest('lockstep.setGateMode', { mode: 'hold' }), { command: 'lockstep.setGateMode', args: { mode: 'hold' } });
    assert.deepEqual(parseCustomRequest('lockstep.setPauseUntilAction', { enabled: false }), { command: 'lockstep.setPauseUntilAction', args: { enabled: false } });
    assert.deepEqual(parseCustomRequest('lockstep.getStatus', undefined), { command: 'lockstep.getStatus', args: {} });
  });

  test('bad arguments name the field and the value', () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ['lockstep.stepFrames', { count: 1.5 }, /count must be an integer >= 1, got 1.5/],
      ['lockstep.sendAction', { buttons: 'A' }, /buttons must be a list of button names or a mask 0-255, got "A"/],
      ['lockstep.sendAction', { buttons: [], player: 2 }, /player must be 0 \(controller 1\) or 1 \(controller 2\), got 2/],
      ['lockstep.setGateMode', { mode: 'skip' }, /mode must be "strict" or "hold", got "skip"/],
      ['lockstep.setPauseUntilAction', {}, /enabled must be true or false, got undefined/],
      ['stepFrames', {}, /unknown request "stepFrames" \(Lockstep understands lockstep\.stepFrames/],
    ];
    for (const [cmd, args, re] of bad) assert.throws(() => parseCustomRequest(cmd, args), re, cmd);
  });
});
