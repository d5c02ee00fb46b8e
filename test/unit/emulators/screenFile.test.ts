// Tests for the screen file FCEUX writes screens to: private location, aligned reads, rewrites in place, clear errors, cleanup.
import { test, describe } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, openSync, statSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { GD_HEADER_BYTES, encodeScreenFrame, gdToRgba } from '../../../src/bridge/screenFrame';
import { ScreenFile } from '../../../src/emulators/fceux/screenFile';

function gd(width: number, height: number, seed: number): Uint8Array {
  const out = new Uint8Array(GD_HEADER_BYTES + width * height * 4);
  out.set([0xff, 0xfe, width >> 8, width & 0xff, height >> 8, height & 0xff, 1, 0xff, 0xff, 0xff, 0xff]);
  for (let i = GD_HEADER_BYTES; i < out.length; i++) out[i] = (i - GD_HEADER_BYTES) % 4 === 0 ? 0 : (i * seed) & 0xff;
  return out;
}

/** Writes at offset 0 without truncating, the way lockstep.lua rewrites the file. */
function writeInPlace(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, 0);
  } finally {
    closeSync(fd);
  }
}

describe('ScreenFile', () => {
  test('an empty file named lockstep-screen-<session>.gd in a private folder; dispose removes both', () => {
    const exitListeners = process.listeners('exit').length;
    const f = new ScreenFile('abc123');
    assert.equal(process.listeners('exit').length, exitListeners + 1, 'removed on process exit too');
    try {
      assert.equal(basename(f.path), 'lockstep-screen-abc123.gd');
      assert.equal(statSync(f.path).size, 0);
      if (process.platform !== 'win32') {
        assert.equal(statSync(dirname(f.path)).mode & 0o777, 0o700, 'folder only its owner can enter');
        assert.equal(statSync(f.path).mode & 0o777, 0o600);
      }
    } finally {
      f.dispose();
    }
    assert.equal(existsSync(dirname(f.path)), false);
    assert.equal(process.listeners('exit').length, exitListeners, 'dispose() drops the exit hook');
    f.dispose();
    assert.throws(() => f.read(), /already closed/);
  });

  test('reads what was written, with the GD pixels 4-byte aligned; rewrites in place are read whole', () => {
    const f = new ScreenFile('s1');
    try {
      const first = gd(256, 240, 3);
      writeInPlace(f.path, encodeScreenFrame({ frame: 41, width: 256, height: 240, format: 'gd', pixels: first }));
      const a = f.read();
      assert.deepEqual([a.frame, a.width, a.height, a.format], [41, 256, 240, 'gd']);
      assert.equal((a.pixels.byteOffset + GD_HEADER_BYTES) % 4, 0);
      assert.deepEqual(gdToRgba(a.pixels).rgba, gdToRgba(first).rgba);
      const second = gd(256, 240, 7);
      writeInPlace(f.path, encodeScreenFrame({ frame: 42, width: 256, height: 240, format: 'gd', pixels: second }));
      const b = f.read();
      assert.equal(b.frame, 42);
      assert.deepEqual([...b.pixels], [...second]);
    } finally {
      f.dispose();
    }
  });

  test('detach() leaves the last read untouched by the next one', () => {
    const f = new ScreenFile('s6');
    try {
      writeInPlace(f.path, encodeScreenFrame({ frame: 1, width: 4, height: 4, format: 'gd', pixels: gd(4, 4, 3) }));
      const a = f.read();
      f.detach();
      writeInPlace(f.path, encodeScreenFrame({ frame: 2, width: 4, height: 4, format: 'gd', pixels: gd(4, 4, 9) }));
      const b = f.read();
      assert.deepEqual([a.frame, b.frame], [1, 2]);
      assert.deepEqual([...a.pixels], [...gd(4, 4, 3)]);
      assert.equal((b.pixels.byteOffset + GD_HEADER_BYTES) % 4, 0, 'the new buffer is aligned too');
      writeInPlace(f.path, encodeScreenFrame({ frame: 3, width: 4, height: 4, format: 'gd', pixels: gd(4, 4, 5) }));
      f.read();
      assert.deepEqual([...b.pixels], [...gd(4, 4, 5)], 'without detach() the buffer is reused');
    } finally {
      f.dispose();
    }
  });

  test('a smaller screen over a bigger one: only the announced length counts', () => {
    const f = new ScreenFile('s2');
    try {
      writeInPlace(f.path, encodeScreenFrame({ frame: 1, width: 8, height: 8, format: 'gd', pixels: gd(8, 8, 1) }));
      const small = gd(2, 2, 5);
      writeInPlace(f.path, encodeScreenFrame({ frame: 2, width: 2, height: 2, format: 'gd', pixels: small }));
      const s = f.read();
      assert.deepEqual([s.frame, s.width, s.height], [2, 2, 2]);
      assert.deepEqual([...s.pixels], [...small]);
    } finally {
      f.dispose();
    }
  });

  test('clear errors: empty, truncated, larger than the NES screen, not a screen frame', () => {
    const f = new ScreenFile('s3');
    try {
      assert.throws(() => f.read(), /holds 0 bytes, not a screen frame/);
      const frame = encodeScreenFrame({ frame: 1, width: 4, height: 4, format: 'gd', pixels: gd(4, 4, 2) });
      writeFileSync(f.path, frame.subarray(0, frame.length - 1));
      assert.throws(() => f.read(), /holds 88 bytes, its 4x4 screen needs 89/);
      const big = frame.slice();
      big.set([0x00, 0x04, 0x00, 0x04], 6); // 1024x1024
      writeFileSync(f.path, big);
      assert.throws(() => f.read(), /announces a 1024x1024 screen, larger than the NES's/);
      const bad = frame.slice();
      bad[0] = 0x58;
      writeFileSync(f.path, bad);
      assert.throws(() => f.read(), /not a screen frame: bad magic/);
    } finally {
      f.dispose();
    }
  });

  test('in memory (/dev/shm) on Linux when it exists, else (or when asked) under the given folder', () => {
    const f = new ScreenFile('s4');
    const g = new ScreenFile('s5', { parent: tmpdir() });
    try {
      if (process.platform === 'linux' && existsSync('/dev/shm')) assert.equal(dirname(dirname(f.path)), '/dev/shm');
      assert.equal(dirname(dirname(g.path)), tmpdir());
    } finally {
      f.dispose();
      g.dispose();
    }
  });

  test('removeOnExit false leaves process exit to the owner', () => {
    const before = process.listeners('exit').length;
    const f = new ScreenFile('s7', { removeOnExit: false });
    assert.equal(process.listeners('exit').length, before);
    f.dispose();
    assert.equal(existsSync(dirname(f.path)), false);
  });

  test('a process that exits without dispose() leaves no folder behind', () => {
    const script = `const { ScreenFile } = require(${JSON.stringify(require.resolve('../../../src/emulators/fceux/screenFile'))});
      process.stdout.write(new ScreenFile('exit1').path);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /lockstep-screen-exit1\.gd$/);
    assert.equal(existsSync(dirname(r.stdout)), false);
  });

  test('a session id that could escape the file name is refused', () => {
    assert.throws(() => new ScreenFile('../x'), /letters and digits/);
  });
});
