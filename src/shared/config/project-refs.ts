/**
 * `${projectDir}` and `${projectName}` in a `share: "project"` server's `command`, `args`,
 * `env` and `cwd` (README: Projects): the folder of the project a session works in, and its
 * name (from `projects`, else the folder's own name). Each project's own instance gets its
 * values; the server's shared instance, which only lists the tools, gets the reference's
 * default (`${projectDir:-/some/dir}`), else an empty folder of the data folder, so it never
 * runs in somebody's project.
 *
 * Normalizing keeps these references as written (they look like environment variables, but
 * they are the session's, not the daemon's); the worker that starts an instance fills them in
 * here.
 */
import path from 'node:path';
import type { ServerConfig, StdioServerConfig } from './types.js';

/** The names a project fills in; normalizing leaves `${name}` of these as written. */
export const PROJECT_VARIABLES: ReadonlySet<string> = new Set(['projectDir', 'projectName']);

const PROJECT_REF = /\$\{(projectDir|projectName)(?::-([^}]*))?\}/g;
const HAS_PROJECT_REF = /\$\{(?:projectDir|projectName)(?::-[^}]*)?\}/;

/** Whether a config value uses `${projectDir}` or `${projectName}`. */
export function hasProjectRef(text: string): boolean {
  return HAS_PROJECT_REF.test(text);
}

/** The project a session works in: its folder (absolute, real) and its name. */
export interface Project {
  dir: string;
  name: string;
}

/** Where a server uses a reference: the path under the server, and the text. */
export function projectRefsOf(server: ServerConfig): Array<[(string | number)[], string]> {
  const places: Array<[(string | number)[], string]> =
    server.transport === 'http'
      ? [
          [['url'], server.url],
          ...Object.entries(server.headers).map(([k, v]): [(string | number)[], string] => [
            ['headers', k],
            v,
          ]),
        ]
      : [
          [['command'], server.command],
          [['cwd'], server.cwd],
          ...server.args.map((arg, i): [(string | number)[], string] => [['args', i], arg]),
          ...Object.entries(server.env).map(([k, v]): [(string | number)[], string] => [
            ['env', k],
            v,
          ]),
        ];
  return places.filter(([, text]) => hasProjectRef(text));
}

/**
 * A server's config with its references filled: by `project`, or (the shared instance) by
 * each reference's default, else `emptyDir` and its name.
 */
export function forProject(
  server: ServerConfig,
  project: Project | { emptyDir: string },
): ServerConfig {
  if (server.transport !== 'stdio') return server;
  const own = 'dir' in project;
  const fill = (text: string): string =>
    text.replace(PROJECT_REF, (_match, name: string, fallback: string | undefined) => {
      if (own) return name === 'projectDir' ? project.dir : project.name;
      if (fallback !== undefined) return fallback;
      return name === 'projectDir' ? project.emptyDir : path.basename(project.emptyDir);
    });
  const filled: StdioServerConfig = {
    ...server,
    command: fill(server.command),
    args: server.args.map(fill),
    env: Object.fromEntries(Object.entries(server.env).map(([k, v]) => [k, fill(v)])),
    // `cwd` was kept as written when it had a reference: resolved now, against the project.
    cwd: hasProjectRef(server.cwd) ? path.resolve(fill(server.cwd)) : server.cwd,
  };
  return filled;
}
