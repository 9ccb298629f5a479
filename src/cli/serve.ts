/**
 * `mcp-director serve`: load the config, start the supervisor, stop cleanly on SIGINT or
 * SIGTERM (every backend's process group is stopped, then the threads).
 */
import type { CommandModule } from 'yargs';
import { loadConfig } from '../shared/config/load.js';
import { logger, setLogLevel } from '../shared/log.js';
import type { LogLevelName } from '../shared/messages.js';
import { startDirector } from '../supervisor/index.js';

const log = logger('serve');

interface ServeArgs {
  config: string | undefined;
  port: number | undefined;
  host: string | undefined;
  'data-dir': string | undefined;
  workers: number | undefined;
  stdio: boolean;
  'log-level': LogLevelName;
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Start the daemon: own the configured MCP servers and serve clients on /mcp',
  builder: (y) =>
    y
      .option('config', { type: 'string', describe: 'Config file (default: $MCP_DIRECTOR_CONFIG, ~/.config/mcp-director/config.json, else the embedded demo config)' })
      .option('port', { type: 'number', describe: 'HTTP port (overrides listen.port)' })
      .option('host', { type: 'string', describe: 'Interface to bind (overrides listen.host; default 127.0.0.1)' })
      .option('data-dir', { type: 'string', describe: 'Folder for analytics (default ~/.local/share/mcp-director)' })
      .option('workers', { type: 'number', describe: 'Number of shard worker threads' })
      .option('stdio', {
        type: 'boolean',
        default: false,
        describe: 'Also serve one MCP client on this process\'s stdin/stdout (not available yet: use `--no-stdio`, the default, and the HTTP endpoint)',
      })
      .option('log-level', { choices: ['debug', 'info', 'warn', 'error', 'silent'] as const, default: 'info' as LogLevelName })
      .check((argv) => {
        if (argv.stdio) throw new Error('--stdio (single-client mode on stdin/stdout) is not available in this version; point the client at the HTTP endpoint instead');
        return true;
      }),
  handler: async (argv) => {
    setLogLevel(argv['log-level']);
    const overrides: { port?: number; host?: string; dataDir?: string; workers?: number } = {};
    if (argv.port !== undefined) overrides.port = argv.port;
    if (argv.host !== undefined) overrides.host = argv.host;
    if (argv['data-dir'] !== undefined) overrides.dataDir = argv['data-dir'];
    if (argv.workers !== undefined) overrides.workers = argv.workers;
    const configOptions = argv.config === undefined ? { overrides } : { configPath: argv.config, overrides };
    let director;
    try {
      director = await startDirector(loadConfig(configOptions));
    } catch (error) {
      process.stderr.write(`mcp-director: ${(error as Error).message}\n`);
      process.exit(1);
    }
    process.stderr.write(`MCP Director is ready: point your MCP client at ${director.url}\n`);
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: stopping every server`);
      director.close().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error(`stop failed: ${(error as Error).message}`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  },
};
