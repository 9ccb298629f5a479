#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * The `mcp-director` command line. Registers the commands and maps failures to one-line
 * reasons and a non-zero exit code; the commands themselves live beside this file. The
 * shebang passes node-flags.ts's options (`env -S` splits them: coreutils ≥ 8.30, macOS).
 */
import { authCommand } from './auth.js';
import { benchCommand } from './bench.js';
import { callsCommand } from './calls.js';
import { commandLine } from './command-line.js';
import { configCommand } from './config-command.js';
import { connectCommand } from './connect.js';
import { serversCommand, toolsCommand } from './inspect.js';
import { serveCommand } from './serve.js';
import { statsCommand } from './stats.js';

await commandLine()
  .scriptName('mcp-director')
  .usage(
    '$0 <command> [options]\n\nOne daemon that owns your MCP servers and serves every MCP client.',
  )
  .command(serveCommand)
  .command(configCommand)
  .command(connectCommand)
  .command(serversCommand)
  .command(authCommand)
  .command(toolsCommand)
  .command(statsCommand)
  .command(callsCommand)
  .command(benchCommand)
  .demandCommand(1, 'Name a command; try: mcp-director serve')
  .strict()
  .help()
  .alias('h', 'help')
  .version()
  .fail((message, error) => {
    if (error) throw error;
    process.stderr.write(`mcp-director: ${message}\nRun 'mcp-director --help' for usage.\n`);
    process.exit(2);
  })
  .parseAsync();
