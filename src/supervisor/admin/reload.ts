/**
 * Applies a changed config file to the running daemon
 * (docs/architecture.md#config-and-hot-reload): only the servers that were added, removed or
 * changed are started or stopped, sessions stay open, and every client whose profile's lists
 * changed hears `list_changed`. Settings only a restart can apply (the listener, the shard
 * count, the data folder) are logged and kept as they are. An edit that does not load is
 * reported (log and `/api/health`) and changes nothing.
 */
import type { Projects } from '../session/projects.js';
import { diffConfigs } from '../../shared/config/diff.js';
import type { DirectorConfig } from '../../shared/config/types.js';
import { ownInstancesOf, type OwnInstances } from '../relay/own-instances.js';
import { logger } from '../../shared/log.js';
import type { Access } from '../ingress/access.js';
import type { ConfigStatus } from './api.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Dispatcher } from '../relay/dispatch.js';
import type { ProfileViews } from '../catalog/profile-views.js';
import type { ServerStates } from './server-states.js';
import type { Sessions } from '../session/sessions.js';
import type { ShardPool } from '../pool/shard-pool.js';

const log = logger('config');

/** What a reload changes; each part reads its settings from these on every request. */
export interface ReloadTargets {
  shards: ShardPool;
  states: ServerStates;
  catalog: Catalog;
  views: ProfileViews;
  access: Access;
  dispatcher: Dispatcher;
  sessions: Sessions;
  /** Servers with `share: "session"` or `"identity"`, as the relay reads them. */
  ownInstances: OwnInstances;
  /** The ingress options object the endpoints read `allowedOrigins` from. */
  ingress: { allowedOrigins: readonly string[] };
  /** Where projects may be, and their names. */
  projects: Projects;
}

export class ConfigReloader {
  readonly #targets: ReloadTargets;
  #running: DirectorConfig;
  readonly #status: ConfigStatus;

  constructor(initial: DirectorConfig, targets: ReloadTargets) {
    this.#running = initial;
    this.#targets = targets;
    this.#status = { source: initial.source, loadedAt: Date.now() };
  }

  /** The config in force (restart-only settings as they were at start). */
  get running(): DirectorConfig {
    return this.#running;
  }

  get status(): ConfigStatus {
    return this.#status;
  }

  /** An edit that does not load: the running config stays. */
  rejected(error: Error): void {
    log.error(
      `the config file changed but was not applied; the running config stays.\n${error.message}`,
    );
    this.#status.rejected = { at: Date.now(), error: error.message };
  }

  async apply(loaded: DirectorConfig): Promise<void> {
    const t = this.#targets;
    const previous = this.#running;
    const diff = diffConfigs(previous, loaded);
    // Restart-only settings keep their running values, so /api shows what is in force.
    const next: DirectorConfig = {
      ...loaded,
      listen: previous.listen,
      workers: previous.workers,
      dataDir: previous.dataDir,
      analytics: previous.analytics,
      maxBodyBytes: previous.maxBodyBytes,
    };
    if (diff.needsRestart.length > 0) {
      log.warn(
        `config: ${diff.needsRestart.join(', ')} changed; that takes effect when the daemon restarts`,
      );
    }

    // Stopped first, so a changed server never runs twice and a removed one's names are free.
    await Promise.all(diff.removed.map((id) => t.shards.removeServer(id)));
    for (const id of diff.removed) t.states.remove(id);
    await Promise.all(diff.changed.map((server) => t.shards.replaceServer(server)));
    for (const server of diff.changed) t.states.add(server);
    t.catalog.setServers(next.servers);
    for (const server of diff.added) {
      t.states.add(server);
      t.shards.addServer(server);
    }
    ownInstancesOf(next.servers, t.ownInstances);

    t.access.configure(next);
    t.projects.configure(next);
    // A token gone from the config takes its own instances with it; its stored sign-ins
    // stay (README: Credentials per user).
    const tokens = new Set(next.tokens.map((token) => token.name));
    for (const gone of previous.tokens.filter((token) => !tokens.has(token.name))) {
      for (const server of next.servers) {
        if (server.share === 'identity') t.shards.identityChanged(server.id, gone.name);
      }
    }
    t.ingress.allowedOrigins = next.allowedOrigins;
    t.sessions.idleMs = next.sessionIdleMs;
    const changed = t.views.configure(next.profiles, next.pageSize);
    this.#running = next;
    this.#status.loadedAt = Date.now();
    delete this.#status.rejected;
    t.dispatcher.listsChanged(changed);

    const parts = [
      diff.added.length > 0 && `added ${diff.added.map((s) => s.id).join(', ')}`,
      diff.removed.length > 0 && `removed ${diff.removed.join(', ')}`,
      diff.changed.length > 0 && `restarted ${diff.changed.map((s) => s.id).join(', ')}`,
      diff.live.length > 0 && `applied ${diff.live.join(', ')}`,
    ].filter(Boolean);
    log.info(`config reloaded: ${parts.length > 0 ? parts.join('; ') : 'nothing to apply'}`);
  }
}
