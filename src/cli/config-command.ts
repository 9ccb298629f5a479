/**
 * `mcp-director config validate` and `mcp-director config import <client>`. Both find the
 * config file as `serve` does (--config, else $MCP_DIRECTOR_CONFIG, else
 * ~/.config/mcp-director/config.json). Exit codes: 0 fine, 1 a problem with a file or its
 * contents, 2 a usage error (from yargs, in main.ts).
 */
import type { CommandModule } from './command-line.js';
import { defaultConfigPath, EMBEDDED_SOURCE } from '../shared/config/defaults.js';
import { ConfigError, loadConfig } from '../shared/config/load.js';
import type { DirectorConfig } from '../shared/config/types.js';
import type { ImportIo } from './config-import/run-import.js';
import { runImport } from './config-import/run-import.js';
import type { ClientName } from './config-import/types.js';
import { CLIENT_NAMES } from './config-import/types.js';

const CONFIG_OPTION = {
  type: 'string',
  describe:
    "The director's config file (default: $MCP_DIRECTOR_CONFIG, else ~/.config/mcp-director/config.json)",
} as const;

interface Output {
  env: NodeJS.ProcessEnv;
  out(line: string): void;
  err(line: string): void;
}

function processIo(): ImportIo {
  return {
    env: process.env,
    platform: process.platform,
    cwd: process.cwd(),
    now: () => new Date(),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}

/** Loads the config as `serve` would and says whether it is valid; the exit code. */
export function validateConfig(configPath: string | undefined, io: Output): number {
  let config: DirectorConfig;
  try {
    config = loadConfig({ configPath, env: io.env });
  } catch (error) {
    // A ConfigError lists every problem with file, JSON path, found value and expectation.
    io.err(
      error instanceof ConfigError ? error.message : `mcp-director: ${(error as Error).message}`,
    );
    return 1;
  }
  if (config.source === EMBEDDED_SOURCE) {
    io.out(
      `${defaultConfigPath(io.env)}: no config file there, so mcp-director serve would use the embedded demo config (one "demo" server); create one with: mcp-director config import <client>`,
    );
    return 0;
  }
  io.out(`${config.source}: valid (${describeConfig(config)})`);
  return 0;
}

/** "3 servers, profiles: default, reviewer, 1 token". */
function describeConfig(config: DirectorConfig): string {
  const parts = [
    plural(config.servers.length, 'server'),
    `profiles: ${Object.keys(config.profiles).join(', ')}`,
  ];
  if (config.tokens.length > 0) parts.push(plural(config.tokens.length, 'token'));
  if (config.requireToken) parts.push('tokens required');
  return parts.join(', ');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

const validateCommand: CommandModule<object, { config: string | undefined }> = {
  command: 'validate',
  describe:
    'Check the config file as serve would load it, listing every problem with its JSON path',
  builder: (y) => y.option('config', CONFIG_OPTION),
  handler: (argv) => {
    process.exitCode = validateConfig(argv.config, processIo());
  },
};

interface ImportArgs {
  client: ClientName;
  from: string | undefined;
  config: string | undefined;
  'dry-run': boolean;
  overwrite: boolean;
}

const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import <client>',
  describe: "Copy another MCP client's servers into the director's config",
  builder: (y) =>
    y
      .positional('client', {
        choices: CLIENT_NAMES,
        demandOption: true,
        describe: 'The client whose config to read',
      })
      .option('from', {
        type: 'string',
        describe:
          "The client's config file, e.g. a project's .vscode/mcp.json, .cursor/mcp.json or .mcp.json (default: the client's user config)",
      })
      .option('config', {
        ...CONFIG_OPTION,
        describe: `${CONFIG_OPTION.describe}; created if missing`,
      })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'Print what would change; write nothing',
      })
      .option('overwrite', {
        type: 'boolean',
        default: false,
        describe: 'Replace servers whose id the config already has with different settings',
      })
      .example(
        '$0 config import claude-desktop',
        "Claude Desktop's servers into the default config",
      )
      .example('$0 config import vscode --from .vscode/mcp.json --dry-run', 'Preview a project')
      .epilogue(
        'Keys with no equivalent (envFile, trust, includeTools, …) are dropped and reported; env files are never read. A changed config is backed up first to <config>.bak-<UTC time>.',
      ),
  handler: (argv) => {
    process.exitCode = runImport(
      {
        client: argv.client,
        from: argv.from,
        config: argv.config,
        dryRun: argv['dry-run'],
        overwrite: argv.overwrite,
      },
      processIo(),
    );
  },
};

export const configCommand: CommandModule = {
  command: 'config',
  describe: 'Check the config file, or import servers from another MCP client',
  builder: (y) =>
    y
      .command(validateCommand)
      .command(importCommand)
      .demandCommand(1, 'Name a config subcommand: validate or import'),
  handler: () => {},
};
