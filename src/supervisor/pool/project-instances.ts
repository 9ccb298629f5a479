/**
 * What the projects' own instances of each `share: "project"` server are doing (README:
 * Projects), as their workers report it, for the admin's `/api/servers` and `mcp-director
 * servers`. An instance that ended goes: stopped when idle (its project's next call starts a
 * new one), or with its server.
 */
import type { BackendState, ServerStateMessage } from '../../shared/messages.js';

export interface ProjectInstance {
  /** The project's folder. */
  dir: string;
  state: BackendState;
  /** Its process while one runs. */
  pid?: number;
}

export class ProjectInstances {
  /** Server id → project folder → its instance. */
  readonly #byServer = new Map<string, Map<string, ProjectInstance>>();

  /** A state a project's instance reported; other messages are none of this. */
  record(message: ServerStateMessage): void {
    const dir = message.project;
    if (dir === undefined) return;
    let instances = this.#byServer.get(message.server);
    if (message.state === 'stopped' || message.state === 'idle') {
      instances?.delete(dir);
      if (instances?.size === 0) this.#byServer.delete(message.server);
      return;
    }
    if (instances === undefined) this.#byServer.set(message.server, (instances = new Map()));
    // A state without a pid after one with: the process ended (its pid named only there).
    const running = message.state === 'ready' || message.state === 'starting';
    instances.set(dir, {
      dir,
      state: message.state,
      ...(running && message.pid !== undefined && { pid: message.pid }),
    });
  }

  /** A server's project instances, by folder. */
  of(server: string): ProjectInstance[] {
    return [...(this.#byServer.get(server)?.values() ?? [])].sort((a, b) =>
      a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0,
    );
  }

  /** The server is gone: so are its instances. */
  removed(server: string): void {
    this.#byServer.delete(server);
  }
}
