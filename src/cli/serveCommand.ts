// `lockstep serve`: the bridge + emulator headless for external trainers, until the process is stopped.
import type { CliValues } from './cliOptions';

export async function serveCommand(_values: CliValues): Promise<number> {
  process.stderr.write('lockstep serve: not available in this build yet\n');
  return 2;
}
