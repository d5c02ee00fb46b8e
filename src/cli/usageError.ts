// The exit-code convention of every `lockstep` command, and the error that means "could not start because of what it was given".

/**
 * 0 success; 1 the run failed (a fault stopped it) or the runs diverge; 2 the command could not start: a bad option or
 * value, or an input or program it cannot use. A script can tell "my command line is wrong" from "my agent is wrong".
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Text every command's --help ends with, so the convention is written once. */
export const EXIT_STATUS_HELP = `Exit status:
  0  success
  1  the run failed (a fault stopped it), or the runs diverge (diverge)
  2  usage error: the command could not start (a bad option or value, or an input or program it cannot use:
     a missing ROM, a file that is not a ROM, a bad lockstep.yaml, FCEUX not found); one line says which
`;

/** The command could not start because of what it was given (options, files, programs): printed as one line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
