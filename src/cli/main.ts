#!/usr/bin/env node
// `lockstep` command line: runs the same runtime as the debugger without VS Code (headless runs, serving trainers, benchmarks, CI).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findPackageRoot } from '../core/packageRoot';
import { RUN_USAGE, runCommand } from './runCommand';
import { SERVE_USAGE, serveCommand } from './serveCommand';
import { DIVERGE_USAGE, divergeCommand } from './divergeCommand';
import { EXIT_FAILED, EXIT_OK, EXIT_STATUS_HELP, EXIT_USAGE, UsageError } from './usageError';

export const USAGE = `lockstep — frame-lockstep runs of NES games with AI agents

Usage:
  lockstep run [options]       run a ROM with agents in lockstep and print a summary
  lockstep serve [options]     run the bridge + emulator for external trainers until stopped
  lockstep diverge A B         find the first frame where two runs part ways
  lockstep help [COMMAND]      this text, or a command's options (same as lockstep COMMAND --help)
  lockstep --version           the version

Each command's options: lockstep run --help, lockstep serve --help, lockstep diverge --help.

${EXIT_STATUS_HELP}`;

const COMMANDS: Record<string, { usage: string; run: (args: string[]) => Promise<number> }> = {
  run: { usage: RUN_USAGE, run: runCommand },
  serve: { usage: SERVE_USAGE, run: serveCommand },
  diverge: { usage: DIVERGE_USAGE, run: divergeCommand },
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(join(findPackageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(USAGE);
    return EXIT_USAGE;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`lockstep ${version()}\n`);
    return EXIT_OK;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    const topic = rest[0];
    if (topic === undefined) {
      process.stdout.write(USAGE);
      return EXIT_OK;
    }
    if (!Object.hasOwn(COMMANDS, topic)) return usageError(`: unknown command "${topic}" (commands: ${Object.keys(COMMANDS).join(', ')}, help)`);
    process.stdout.write(COMMANDS[topic].usage);
    return EXIT_OK;
  }
  if (!Object.hasOwn(COMMANDS, command)) return usageError(`: unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(', ')}, help; see lockstep --help)`);
  try {
    return await COMMANDS[command].run(rest);
  } catch (e) {
    if (e instanceof UsageError) return usageError(` ${command}: ${e.message} (see lockstep ${command} --help)`);
    process.stderr.write(`lockstep ${command}: ${(e as Error)?.message ?? String(e)}\n`);
    return EXIT_FAILED;
  }
}

/** `rest` follows "lockstep" directly: ": …" for the command line as a whole, " run: …" for one command. */
function usageError(rest: string): number {
  process.stderr.write(`lockstep${rest}\n`);
  return EXIT_USAGE;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`lockstep: ${(err as Error)?.message ?? String(err)}\n`);
      process.exitCode = EXIT_FAILED;
    },
  );
}
