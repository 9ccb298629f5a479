/**
 * `mcp-director serve`: load the config, start the supervisor, stop cleanly on SIGINT or
 * SIGTERM (calls in flight drain, then every backend's process group is stopped, then the
 * threads), reload the config file on SIGHUP.
 */
import type { CommandModule } from './command-line.js';
import { loadConfigFile, reloadConfigText } from '../shared/config/load.js';
import { logger, setLogLevel, type LogLevelName } from '../shared/log.js';
import { startDirector } from '../supervisor/index.js';

const log = logger('serve');

interface ServeArgs {
  config: string | undefined;
  port: number | undefined;
  host: string | undefined;
  'data-dir': string | undefined;
  workers: number | undefined;
  stdio: boolean;
  profile: string;
  'log-level': LogLevelName;
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Start the daemon: own the configured MCP servers and serve clients on /mcp',
  builder: (y) =>
    y
      .option('config', {
        type: 'string',
        describe:
          'Config file (default: $MCP_DIRECTOR_CONFIG, ~/.config/mcp-director/config.json, else the embedded demo config)',
      })
      .option('port', { type: 'number', describe: 'HTTP port (overrides listen.port)' })
      .option('host', {
        type: 'string',
        describe: 'Interface to bind (overrides listen.host; default 127.0.0.1)',
      })
      .option('data-dir', {
        type: 'string',
        describe: 'Folder for analytics (default ~/.local/share/mcp-director)',
      })
      .option('workers', { type: 'number', describe: 'Number of shard worker threads' })
      .option('stdio', {
        type: 'boolean',
        default: true,
        describe:
          'Also serve one MCP client on stdin/stdout (how Claude Desktop launches servers); the daemon exits when stdin closes. --no-stdio runs it as a background daemon',
      })
      .option('profile', {
        type: 'string',
        default: 'default',
        describe: 'The profile the stdio client gets (HTTP clients choose theirs per request)',
      })
      .option('log-level', {
        choices: ['debug', 'info', 'warn', 'error', 'silent'] as const,
        default: 'info' as LogLevelName,
      }),
  handler: async (argv) => {
    setLogLevel(argv['log-level']);
    const overrides: { port?: number; host?: string; dataDir?: string; workers?: number } = {};
    if (argv.port !== undefined) overrides.port = argv.port;
    if (argv.host !== undefined) overrides.host = argv.host;
    if (argv['data-dir'] !== undefined) overrides.dataDir = argv['data-dir'];
    if (argv.workers !== undefined) overrides.workers = argv.workers;
    const configOptions =
      argv.config === undefined ? { overrides } : { configPath: argv.config, overrides };
    let director;
    try {
      const { config, file, text } = loadConfigFile(configOptions);
      if (config.profiles[argv.profile] === undefined) {
        throw new Error(
          `--profile ${argv.profile}: no such profile; the config defines ${Object.keys(config.profiles).join(', ')}`,
        );
      }
      // The file is watched: a valid edit is applied live, an invalid one reported.
      const watched =
        file === undefined || text === undefined
          ? undefined
          : { file, text, load: (next: string) => reloadConfigText(next, file, configOptions) };
      director = await startDirector(config, watched);
    } catch (error) {
      process.stderr.write(`mcp-director: ${(error as Error).message}\n`);
      process.exit(1);
    }
    process.stderr.write(`MCP Director is ready: point your MCP client at ${director.url}\n`);
    process.stderr.write(
      `The dashboard is at ${director.url.replace(/\/mcp$/, '/')} (README "Dashboard")\n`,
    );
    // The first SIGTERM/SIGINT drains (calls in flight may finish, up to
    // limits.shutdownDrainMs); a second one stops waiting for them.
    const skip = new AbortController();
    let stopping = false;
    const stop = (reason: string, drain: boolean): void => {
      if (stopping) {
        if (!skip.signal.aborted) log.info(`${reason} again: not waiting for calls in flight`);
        skip.abort();
        return;
      }
      stopping = true;
      log.info(`${reason}: stopping (no new requests; then sessions, then every server)`);
      director.close({ drain, skip: skip.signal }).then(
        () => {
          log.info('stopped');
          process.exit(0);
        },
        (error: unknown) => {
          log.error(`stop failed: ${(error as Error).message}`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT', true));
    process.on('SIGTERM', () => stop('SIGTERM', true));
    process.on('SIGHUP', () => director.reloadConfig('SIGHUP'));
    // A terminal is a person, not an MCP client: stdio mode only makes sense on a pipe.
    if (argv.stdio && process.stdin.isTTY) {
      log.info(
        'stdin is a terminal, so stdio mode is off (HTTP only); pass --no-stdio to say so explicitly',
      );
    } else if (argv.stdio) {
      // Answer the client once the backends have started, so its first tools/list is complete.
      await director.settled(15_000);
      await director.serveStdio(process.stdin, process.stdout, argv.profile);
      // The stdio client left: nobody waits for its calls.
      stop('stdin closed', false);
    }
  },
};
