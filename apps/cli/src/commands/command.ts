import type { CliContext } from '../context';

/** A CLI command: takes the arguments after its name, returns the process exit code. */
export interface Command {
  /** One line for `cli help`. */
  summary: string;
  /** The full usage text, printed on `--help` and on usage errors. */
  usage: string;
  run(argv: string[], ctx: CliContext): Promise<number>;
}
