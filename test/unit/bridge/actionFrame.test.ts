// Tests for the binary action ("LSAC"): its byte layout, the round trip to the JSON action it stands for, and clear errors for anything else.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ACTION_FRAME_BYTES, decodeActionFrame, encodeActionFrame } from '../../../src/bridge/actionFrame';
import { binaryFrameKind } from '../../../src/bridge/screenFrame';

describe('actionFrame: encode/decode', () => {
  test('layout: magic, version, flags, p1, p2, frame little-endian', () => {
    const bytes = encodeActionFrame(0x01020304, 0x81, 0x42, true);
    assert.equal(bytes.length, ACTION_FRAME_BYTES);
    assert.deepEqual([...bytes], [0x4c, 0x53, 0x41, 0x43, 1, 1, 0x81, 0x42, 4, 3, 2, 1]);
    assert.deepEqual([...encodeActionFrame(0xffffffff, 0, 255, false)], [0x4c, 0x53, 0x41, 0x43, 1, 0, 0, 255, 255, 255, 255, 255]);
  });

  test('decodes to the JSON action it stands for, for any frame id and buttons', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.boolean(),
      (frame, p1, p2, screen) => {
        assert.deepEqual(decodeActionFrame(encodeActionFrame(frame, p1, p2, screen)), { type: 'action', frame, buttons: [p1, p2], screen });
      }));
  });

  test('what the wire cannot carry is refused when encoding', () => {
    assert.throws(() => encodeActionFrame(-1, 0, 0, false), /action frame id must be an integer in 0\.\.4294967295, got -1/);
    assert.throws(() => encodeActionFrame(2 ** 32, 0, 0, false), /got 4294967296/);
    assert.throws(() => encodeActionFrame(1.5, 0, 0, false), /got 1\.5/);
    assert.throws(() => encodeActionFrame(0, 256, 0, false), /action buttons must be two masks 0\.\.255, got \[256, 0\]/);
    assert.throws(() => encodeActionFrame(0, 0, -1, false), /got \[0, -1\]/);
  });

  test('malformed bytes are refused by name', () => {
    const good = encodeActionFrame(7, 1, 2, false);
    assert.throws(() => decodeActionFrame(good.subarray(0, 11)), /action frame must be 12 bytes, got 11/);
    const magic = good.slice();
    magic[2] = 0x53;
    assert.throws(() => decodeActionFrame(magic), /not an action frame: bad magic 4c 53 53 43 \(expected "LSAC"\)/);
    const version = good.slice();
    version[4] = 9;
    assert.throws(() => decodeActionFrame(version), /action frame version 9 not supported \(expected 1\)/);
    const flags = good.slice();
    flags[5] = 2;
    assert.throws(() => decodeActionFrame(flags), /action frame has unknown flags 10/);
  });

  test('an action is neither a state nor a screen to the emulator-side reader', () => {
    assert.equal(binaryFrameKind(encodeActionFrame(1, 0, 0, false)), undefined);
  });
});
