/**
 * The only module that touches yargs (docs/architecture.md#boundaries-and-adapters): the
 * parser for this process's arguments, and the types the commands are declared with.
 */
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';

export type { Argv, CommandModule } from 'yargs';

/** A parser for the arguments this process was started with, after node and the script. */
export function commandLine(): Argv {
  return yargs(hideBin(process.argv));
}
