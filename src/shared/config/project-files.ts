/**
 * A project's own servers (README: Projects): those the config gives it
 * (`projects.<name>.servers`), and those of its own `.mcp.json`, the file Claude Code and
 * others keep at a project's root, for each project of the config with `"mcpJson": true`.
 * Only sessions working in that project see them (`ServerConfig.ownedBy`). Each is
 * `<name>@<project>` inside the daemon and keeps its own name as its tool prefix
 * (`github__create_issue`, as the file's author expects); `${projectDir}` and
 * `${projectName}` are the project's, `${VAR}` the daemon's environment. Unless the entry says
 * otherwise, a server starts when the project first needs it and stops after ten idle
 * minutes, like a project's own instance. A name the config gives the project already is
 * the config's: the file's entry of that name is left out. An entry of the file that runs
 * `mcp-director connect` is the director itself (the README tells Claude Code users to put
 * it in this very file): it is left out rather than started as its own backend.
 *
 * The file is the project's, not the operator's: whatever is wrong with it costs its own
 * servers (each problem is logged with the file's name), never the config. It is read with
 * the config, and again whenever it changes (the daemon watches it as it watches the config).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isJsonObject } from '../json.js';
import { readJsonc } from '../jsonc.js';
import { realOrSame } from './expand.js';
import { forProject } from './project-refs.js';
import { normalizeServer, PROJECT_IDLE_STOP_MS } from './normalize-servers.js';
import type { ConfigProblem } from './problems.js';
import { formatPath, formatProblem } from './problems.js';
import { SERVER_ID_PATTERN } from './server-schema.js';
import type { ServerEntry } from './schema.js';
import type { DirectorConfig, ProjectConfig, ServerConfig } from './types.js';
import { validateConfigFile } from './validate.js';

/** The file's name in the project's folder. */
export const PROJECT_FILE = '.mcp.json';
/** Larger than any real one; a larger file is refused unread. */
const MAX_BYTES = 1024 * 1024;
/**
 * Servers taken from one file, at most: each may become a process when the project first
 * lists its tools, and a file is not the operator's to size.
 */
export const MAX_FILE_SERVERS = 64;

/** The files the config reads: one per project that allows it. */
export function projectFilesOf(config: Pick<DirectorConfig, 'projects'>): string[] {
  return config.projects.filter((p) => p.mcpJson).map((p) => path.join(p.dir, PROJECT_FILE));
}

/** `config` with the servers of its projects' own files added; `warn` hears each problem. */
export function withProjectFiles(
  config: DirectorConfig,
  env: NodeJS.ProcessEnv,
  warn: (message: string) => void,
): DirectorConfig {
  const taken = new Set(config.servers.map((server) => server.id));
  const added = config.projects.flatMap((project) =>
    project.mcpJson ? serversOfProjectFile(project, env, warn) : [],
  );
  const fresh = added.filter((server) => {
    if (!taken.has(server.id)) return true;
    warn(
      `${server.ownedBy?.file ?? PROJECT_FILE}: mcpServers.${server.prefix}: the config gives project '${server.ownedBy?.project ?? ''}' a server of that name already; not added`,
    );
    return false;
  });
  return fresh.length === 0 ? config : { ...config, servers: [...config.servers, ...fresh] };
}

/** The servers of one project's file: none when it has no file, and those that are sound. */
export function serversOfProjectFile(
  project: ProjectConfig,
  env: NodeJS.ProcessEnv,
  warn: (message: string) => void,
): ServerConfig[] {
  const file = path.join(project.dir, PROJECT_FILE);
  const text = readProjectFile(file, warn);
  if (text === undefined) return [];
  // The project's identity is its real folder, as a session's project is (session/projects.ts).
  const dir = realOrSame(project.dir);
  const { value, errors } = readJsonc(text);
  const first = errors[0];
  if (first !== undefined) {
    warn(`${file}:${first.line}:${first.column}: ${first.code}; none of its servers is added`);
    return [];
  }
  if (!isJsonObject(value) || !isJsonObject(value['mcpServers'])) {
    warn(`${file}: expected {"mcpServers": {…}}; none of its servers is added`);
    return [];
  }
  const servers: ServerConfig[] = [];
  const entries = Object.entries(value['mcpServers']);
  if (entries.length > MAX_FILE_SERVERS) {
    warn(
      `${file} names ${entries.length} servers; only the first ${MAX_FILE_SERVERS} are read (a project's file may add at most ${MAX_FILE_SERVERS})`,
    );
  }
  for (const [name, entry] of entries.slice(0, MAX_FILE_SERVERS)) {
    if (isDirectorItself(entry)) continue;
    const problems: ConfigProblem[] = [];
    const server = projectServer(name, entry, { project, dir, file, env }, problems);
    if (server !== undefined && problems.length === 0) servers.push(server);
    else {
      for (const problem of problems) warn(`${formatProblem(file, problem)}; not added`);
    }
  }
  return servers;
}

/** The file's text; undefined when there is none (said only when it is there but unusable). */
function readProjectFile(file: string, warn: (message: string) => void): string | undefined {
  try {
    const stats = statSync(file);
    if (!stats.isFile()) {
      warn(`${file} is not a file; it is not read`);
      return undefined;
    }
    if (stats.size > MAX_BYTES) {
      warn(`${file} is ${stats.size} bytes, more than ${MAX_BYTES}; it is not read`);
      return undefined;
    }
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') warn(`${file}: ${(error as Error).message}`);
    return undefined;
  }
}

/** Where a project's own server is defined, and for which project. */
export interface FileContext {
  project: Pick<ProjectConfig, 'name'>;
  /** The project's real folder. */
  dir: string;
  file: string;
  env: NodeJS.ProcessEnv;
}

/** One entry as a server of its project, checked as a config file's entry is. */
function projectServer(
  name: string,
  entry: unknown,
  context: FileContext,
  problems: ConfigProblem[],
): ServerConfig | undefined {
  const at = formatPath(['mcpServers', name]);
  if (!SERVER_ID_PATTERN.test(name) || name.includes('__')) {
    problems.push({
      path: at,
      message: 'a server name of 1-32 of A-Z a-z 0-9 _ - without "__" (it becomes the tool prefix)',
    });
    return undefined;
  }
  const checked = validateConfigFile({ mcpServers: { [name]: entry } });
  problems.push(...checked.problems);
  const valid = checked.value?.mcpServers?.[name];
  if (valid === undefined || problems.length > 0) return undefined;
  return ownServer(name, valid, context, problems, ['mcpServers', name]);
}

/**
 * A checked entry as a server of its project. `at`: where the entry is, which the problems
 * name (normalizing names `mcpServers.<name>`).
 */
export function ownServer(
  name: string,
  entry: ServerEntry,
  context: FileContext,
  problems: ConfigProblem[],
  at: (string | number)[],
): ServerConfig | undefined {
  const where = formatPath(at);
  if (entry.share === 'project') {
    problems.push({
      path: `${where}.share`,
      message: 'a project\'s own server is its project\'s already; leave "share" out',
    });
    return undefined;
  }
  const { project, dir, file, env } = context;
  const found: ConfigProblem[] = [];
  const server = normalizeServer(
    name,
    {
      ...entry,
      start: entry.start ?? 'lazy',
      idleStopMs: entry.idleStopMs ?? PROJECT_IDLE_STOP_MS,
    },
    { source: file, baseDir: dir, env },
    found,
  );
  const named = formatPath(['mcpServers', name]);
  for (const problem of found) {
    problems.push({ ...problem, path: where + problem.path.slice(named.length) });
  }
  return {
    ...forProject(server, { dir, name: project.name }),
    id: `${name}@${project.name}`,
    ownedBy: { project: project.name, dir, file },
  };
}

/** `mcp-director connect`, the way a client starts the director (README: Projects). */
function isDirectorItself(entry: unknown): boolean {
  if (!isJsonObject(entry) || typeof entry['command'] !== 'string') return false;
  const args = Array.isArray(entry['args']) ? entry['args'] : [];
  return path.basename(entry['command']) === 'mcp-director' && args[0] === 'connect';
}
