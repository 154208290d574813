/** A CLI subcommand: its own file, its own help, an exit code. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full help text of the command. */
  usage: string;
  run(args: string[]): Promise<number>;
}

/** Exit codes, as documented in --help. */
export const EXIT = { ok: 0, failure: 1, config: 2, usage: 64 } as const;
