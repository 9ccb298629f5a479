/**
 * A tool or prompt name that the caller's view does not know is not unknown while a server
 * of that view has not listed its names yet: the daemon has just started, or a lazy server
 * was never started. Such a request waits (at most `limits.startWaitMs`) for those servers,
 * starting the lazy ones whose prefix fits the name, and is then looked up again. Only a
 * miss comes here; a known name never does.
 *
 * Lists do not wait: a list of a profile with lazy servers nobody started yet starts them
 * and is answered with what is known; `list_changed` follows when their catalogs arrive.
 */
import type { BackendState } from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';
import type { Catalog } from '../catalog/catalog.js';
import { NAME_SEPARATOR } from '../catalog/names.js';
import type { ProfileView } from '../catalog/profile-view.js';
import type { ShardPool } from '../pool/shard-pool.js';
import { stillStarting } from '../pool/start-gate.js';

/** Requests waiting at once; past it a miss is answered at once (a flood cannot pile up). */
const MAX_WAITING = 10_000;

/** A server in one of these states and without a catalog may still bring names. */
const UNLISTED: ReadonlySet<BackendState | undefined> = new Set<BackendState>([
  'starting',
  'restarting',
  'idle',
]);

/** Undefined: every server waited for has listed (or failed); else why the wait ended. */
export type WaitOutcome = WireError | undefined;

interface Waiter {
  servers: Set<string>;
  timer: NodeJS.Timeout;
  done: (outcome: WaitOutcome) => void;
}

export class NameWaits {
  readonly #catalog: Catalog;
  readonly #shards: ShardPool;
  readonly #waiting = new Set<Waiter>();

  constructor(catalog: Catalog, shards: ShardPool) {
    this.#catalog = catalog;
    this.#shards = shards;
  }

  /** A client lists a profile: its lazy servers nobody started yet are started now. */
  wakeFor(view: ProfileView): void {
    for (const server of view.config.servers) {
      if (this.#shards.stateOf(server) === 'idle' && this.#catalog.backend(server) === undefined)
        this.#shards.wake(server);
    }
  }

  /**
   * After a miss of `name`: false when no server of the view can still bring it (the name
   * is unknown). Otherwise true, and `done` runs once each such server has listed its names
   * or failed, or with a "still starting" error when `limits.startWaitMs` runs out.
   */
  wait(
    view: ProfileView,
    name: string,
    kind: 'tool' | 'prompt',
    done: (outcome: WaitOutcome) => void,
  ): boolean {
    const servers = new Set<string>();
    for (const server of view.config.servers) {
      // Only a server whose names the name can be one of is waited for (or started, if lazy).
      if (this.#mayList(server) && this.#mayOwn(view, server, name, kind)) servers.add(server);
    }
    if (servers.size === 0) return false;
    const waitMs = this.#shards.startWaitMs;
    if (this.#waiting.size >= MAX_WAITING) {
      const [first] = servers;
      done(stillStarting(first as string, this.#shards.stateOf(first as string), 0));
      return true;
    }
    for (const server of servers) this.#shards.wake(server);
    const waiter: Waiter = {
      servers,
      done,
      timer: setTimeout(() => {
        this.#waiting.delete(waiter);
        const [first] = waiter.servers;
        done(stillStarting(first as string, this.#shards.stateOf(first as string), waitMs));
      }, waitMs),
    };
    this.#waiting.add(waiter);
    return true;
  }

  /** A server's state or catalog changed: requests waiting only for listed servers go on. */
  changed(server: string): void {
    if (this.#waiting.size === 0 || this.#mayList(server)) return;
    for (const waiter of this.#waiting) {
      if (!waiter.servers.delete(server) || waiter.servers.size > 0) continue;
      this.#waiting.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.done(undefined);
    }
  }

  /** Whether a server has not listed its names yet but still may (it is not failed). */
  #mayList(server: string): boolean {
    return (
      this.#catalog.backend(server) === undefined && UNLISTED.has(this.#shards.stateOf(server))
    );
  }

  /** Whether `name` can be one of the server's: its prefix fits, or a rename of one does. */
  #mayOwn(view: ProfileView, server: string, name: string, kind: 'tool' | 'prompt'): boolean {
    const prefix = this.#catalog.prefixOf(server);
    if (prefix === undefined) return false;
    if (prefix === '') return true;
    const own = `${prefix}${NAME_SEPARATOR}`;
    if (name.startsWith(own)) return true;
    const renames = kind === 'tool' ? view.config.tools.rename : view.config.prompts.rename;
    return Object.entries(renames).some(
      ([exposed, shown]) => shown === name && exposed.startsWith(own),
    );
  }
}
