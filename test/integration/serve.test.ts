// `lockstep serve` end to end: it prints where trainers connect, serves a Python trainer whole episodes, and stops cleanly on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

test('serve: listening line, a trainer plays two episodes, SIGTERM gives a stopped line and exit 0', async () => {
  const serve = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'serve', '--agent', 'websocket', '--max-steps', '120', '--port', '0'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const deadline = setTimeout(() => serve.kill('SIGKILL'), 60_000);
  let stderr = '';
  serve.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: serve.stdout });
  const events: Array<Record<string, unknown>> = [];
  const next = () => new Promise<Record<string, unknown>>((resolve) => lines.once('line', (l) => {
    const e = JSON.parse(l) as Record<string, unknown>;
    events.push(e);
    resolve(e);
  }));
  try {
    const listening = await next();
    assert.equal(listening.event, 'listening');
    assert.match(String(listening.url), /^ws:\/\/127\.0\.0\.1:\d+\/agent$/);
    assert.equal(typeof listening.token, 'string');
    const py = spawn('/usr/bin/python3', [join(ROOT, 'examples', 'python', 'random_agent.py'), '--url', String(listening.url), '--token', String(listening.token), '--episodes', '2'], {
      env: { ...process.env, PYTHONPATH: join(ROOT, 'clients', 'python'), PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pyOut = '';
    py.stdout.on('data', (d: Buffer) => (pyOut += d.toString()));
    const pyCode = await new Promise<number | null>((r) => py.on('exit', r));
    assert.equal(pyCode, 0);
    const eps = pyOut.split('\n').filter((l) => l.startsWith('episode='));
    assert.equal(eps.length, 2);
    assert.ok(eps.every((l) => / rows=120 /.test(l)), pyOut);
    const stopped = next();
    serve.kill('SIGTERM');
    const s = await stopped;
    assert.equal(s.event, 'stopped');
    assert.ok((s.episodes as number) >= 2);
    assert.equal(s.fault, null);
    const code = await new Promise<number | null>((r) => (serve.exitCode !== null ? r(serve.exitCode) : serve.on('exit', r)));
    assert.equal(code, 0, stderr);
    // A clean stop logs no error (the agent closed under an unanswered observation is an ending, not a failure).
    assert.doesNotMatch(stderr, /^\[error\]/m, stderr);
  } finally {
    clearTimeout(deadline);
    serve.kill('SIGKILL');
  }
});

test('serve refuses to start without a websocket agent, naming the fix', async () => {
  const r = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'serve', '--agent', 'random'], { cwd: ROOT });
  let err = '';
  r.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((res) => r.on('exit', res));
  assert.notEqual(code, 0);
  assert.match(err, /--agent websocket/);
});
