// The FM2 TextMate grammar (syntaxes/fm2.tmLanguage.json), checked with vscode-tmgrammar-test against test/grammar/*.fm2 and generated movies.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFm2 } from '../../src/core/episodes/fm2';
import { BUTTON } from '../../src/core/buttons';

const ROOT = join(__dirname, '..', '..');

/** Runs `npx vscode-tmgrammar-test <glob>` from the project root (it reads the grammar from package.json). */
function grammarTest(glob: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['--no-install', 'vscode-tmgrammar-test', glob], { cwd: ROOT, timeout: 60_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

/** A test case for a movie Lockstep writes: every header line is a known key or comment, every input line two gamepads. */
function caseForExport(): string {
  const movie = writeFm2({
    romFilename: 'demo',
    romMd5NoHeaderHex: '0d920d62a0ea734bee52d1ea08417212',
    guid: '01234567-89AB-CDEF-0123-456789ABCDEF',
    frames: [[0, 0], [BUTTON.RIGHT | BUTTON.B, 0], [BUTTON.LEFT, BUTTON.START | BUTTON.A], { commands: 1, ports: [0, BUTTON.UP] }],
    comment: ['author Lockstep', 'lockstep episode 0'],
  });
  const out = ['# SYNTAX TEST "source.fm2" "a movie written by writeFm2"'];
  for (const line of movie.trimEnd().split('\n')) {
    out.push(line);
    if (line.startsWith('|')) {
      out.push('#<- meta.input.fm2 punctuation.separator.port.fm2');
      out.push('#  ^^^^^^^^ meta.gamepad.fm2 - invalid.illegal.gamepad.fm2');
      out.push('#           ^^^^^^^^ meta.gamepad.fm2 - invalid.illegal.gamepad.fm2');
    } else if (line.startsWith('comment ')) {
      out.push(`# <${'-'.repeat(line.length)} comment.line.fm2`);
    } else {
      const key = line.split(' ')[0];
      out.push(`# <${'-'.repeat(key.length)} keyword.other.header.fm2`);
      out.push(`# <${'-'.repeat(line.length)} meta.header.fm2 - invalid.illegal.value.fm2`);
    }
  }
  return out.join('\n') + '\n';
}

describe('FM2 grammar', () => {
  test('the test cases in test/grammar pass (npx vscode-tmgrammar-test exits 0)', async () => {
    const r = await grammarTest('test/grammar/*.fm2');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /header\.fm2 run successfuly/);
    assert.match(r.out, /input\.fm2 run successfuly/);
  });

  test('a movie Lockstep exports is all known header keys and well-formed input lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-grammar-'));
    writeFileSync(join(dir, 'export.fm2'), caseForExport());
    const r = await grammarTest(join(dir, '*.fm2'));
    assert.equal(r.code, 0, r.out);
  });

  test('a wrong expectation makes the run fail, naming the missing scope (the check can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-grammar-'));
    writeFileSync(join(dir, 'wrong.fm2'), '# SYNTAX TEST "source.fm2" "pressed is not released"\n|0|R.......|........||\n#  ^ comment.button.released.fm2\n');
    const r = await grammarTest(join(dir, '*.fm2'));
    assert.notEqual(r.code, 0);
    assert.match(r.out, /missing required scopes: comment\.button\.released\.fm2/);
    assert.match(r.out, /keyword\.other\.button\.pressed\.fm2/);
  });
});
