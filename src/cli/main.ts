#!/usr/bin/env node
// `lockstep` command line: runs the same runtime as the debugger without VS Code (headless runs, serving trainers, benchmarks, CI).
import { parseArgs } from 'node:util';
import { runCommand } from './runCommand';
import { serveCommand } from './serveCommand';
import { DIVERGE_USAGE, divergeCommand } from './divergeCommand';

const USAGE = `lockstep — frame-lockstep runs of NES games with AI agents

Usage:
  lockstep run   [options]   run a ROM with agents in lockstep and print a summary
  lockstep serve [options]   run the bridge + emulator for external trainers until stopped
  lockstep diverge A B       find the first frame where two runs part ways (lockstep diverge --help)
  lockstep help              this text

Options (run and serve):
  --rom PATH              NES ROM (default: the bundled demo ROM)
  --emulator KIND         embedded (default) | fceux
  --fceux-path PATH       FCEUX binary (default: PATH, then /usr/games/fceux)
  --attach                FCEUX: wait for a user-started FCEUX running lua/lockstep.lua
  --agent SPEC            controller 1: random[:SEED] | scripted:FILE.js | onnx:MODEL.onnx | fm2:MOVIE.fm2 | websocket | none
  --agent2 SPEC           controller 2 (default: none)
  --frames N              stop after N frames (run; default 3000)
  --episodes N            stop after N episodes (run)
  --max-steps N           rows per episode (truncate at N)
  --seed N                seed for random agents (default 0)
  --ram-map PATH          RAM-map JSON (default: <rom>.rammap.json beside the ROM)
  --config PATH           lockstep.yaml (default: ./lockstep.yaml if present)
  --sync KEY=VALUE        override one sync setting (repeatable), e.g. --sync frameTimeoutMs=250
  --record DIR            write episode recordings (JSONL, CSV, FM2, manifest) into DIR
  --snapshots N           with --record on the embedded emulator: a machine state every N steps (snapshot sidecar)
  --reference PATH        a recording to compare every frame with: the first difference is a state_divergence desync
  --screens               capture the screen every frame
  --port N                bridge port (0 = any free port; default 0)
  --token TOKEN           bridge session token (default: random)
  --json                  print one JSON summary object as the last line
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'diverge') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(DIVERGE_USAGE);
      return 0;
    }
    return divergeCommand(rest);
  }
  const { values } = parseArgs({
    args: rest,
    allowPositionals: false,
    strict: true,
    options: {
      rom: { type: 'string' },
      emulator: { type: 'string' },
      'fceux-path': { type: 'string' },
      attach: { type: 'boolean' },
      agent: { type: 'string' },
      agent2: { type: 'string' },
      frames: { type: 'string' },
      episodes: { type: 'string' },
      'max-steps': { type: 'string' },
      seed: { type: 'string' },
      'ram-map': { type: 'string' },
      config: { type: 'string' },
      sync: { type: 'string', multiple: true },
      record: { type: 'string' },
      snapshots: { type: 'string' },
      reference: { type: 'string' },
      screens: { type: 'boolean' },
      port: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  switch (command) {
    case 'run':
      return runCommand(values);
    case 'serve':
      return serveCommand(values);
    default:
      process.stderr.write(`lockstep: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`lockstep: ${(err as Error)?.message ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
