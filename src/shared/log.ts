/**
 * Leveled logger to stderr: stdout belongs to MCP when the process speaks stdio.
 * One line per event, `time level [scope] message`; secrets never reach it.
 */
export type LogLevelName = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const rank: Record<LogLevelName, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

let threshold: number =
  rank[(process.env['MCP_DIRECTOR_LOG'] as LogLevelName) ?? 'info'] ?? rank.info;

export function setLogLevel(level: LogLevelName): void {
  threshold = rank[level];
}

export function currentLogLevel(): LogLevelName {
  return (Object.keys(rank) as LogLevelName[]).find((k) => rank[k] === threshold) ?? 'info';
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function logger(scope: string): Logger {
  const write = (level: Exclude<LogLevelName, 'silent'>, message: string): void => {
    if (rank[level] < threshold) return;
    process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} [${scope}] ${message}\n`);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  };
}
