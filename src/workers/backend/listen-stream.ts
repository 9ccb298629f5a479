/**
 * The one `subscriptions/listen` stream a backend keeps open to a stateless-era server
 * (docs/architecture.md#protocol-eras): that era has no session and no GET stream, so the
 * server's list changes and the updates of the resources clients subscribed to come on this
 * request, which it never answers while all is well. The filter asks for every list change
 * the server declares and for the subscribed URIs; a new filter replaces the stream, and a
 * stream that ends is opened again after a pause.
 */
import type { BackendPeer } from './backend-peer.js';
import { META } from '../../shared/eras.js';
import { isJsonObject, omit, type JsonObject } from '../../shared/json.js';
import type { Logger } from '../../shared/log.js';

/** A stateless server's listen stream that ended is opened again after this long. */
const RELISTEN_DELAY_MS = 1_000;

export interface ListenStreamOptions {
  peer: BackendPeer;
  log: Logger;
  /** The URIs clients subscribed to (the backend's own set), read at each open. */
  subscriptions: ReadonlySet<string>;
  /** The capabilities of the server's current catalog, read at each open. */
  capabilities: () => JsonObject;
  /** Whether the backend is `ready`: a stream is opened, and reopened, only then. */
  ready: () => boolean;
  /** The backend's spawn count: a stream of an older process is not reopened. */
  generation: () => number;
  /** Opened again after it ended: changes while nobody listened must be read again. */
  onReopened: () => void;
}

export class ListenStream {
  readonly #options: ListenStreamOptions;
  /** The id of our open `subscriptions/listen` request. */
  #id: number | null = null;
  #reopenTimer: NodeJS.Timeout | null = null;

  constructor(options: ListenStreamOptions) {
    this.#options = options;
  }

  /**
   * (Re)opens the stream, asking for every list change the server declares and updates of
   * the URIs clients subscribed to; the previous stream (a different filter) is cancelled.
   * A stream that ends is opened again.
   */
  open(): void {
    const { peer, log, ready, generation: generationNow } = this.#options;
    this.cancelReopen();
    const previous = this.#id;
    this.#id = null;
    if (previous !== null) peer.abandon(previous, 'subscriptions changed');
    const filter = listenFilter(this.#options.capabilities(), this.#options.subscriptions);
    if (filter === undefined || !ready()) return;
    const generation = generationNow();
    let id: number | null = null;
    peer
      .request('subscriptions/listen', { notifications: filter }, 0, (sent) => {
        id = sent;
        this.#id = sent;
      })
      .then(
        () => log.debug('the server closed its listen stream'),
        (error: unknown) => log.debug(`listen stream ended: ${String(error)}`),
      )
      .finally(() => {
        // Replaced, stopped or restarted meanwhile: whoever did that owns the next stream.
        if (id !== this.#id || generation !== generationNow() || !ready()) return;
        this.#id = null;
        this.#reopenTimer = setTimeout(() => {
          this.open();
          this.#options.onReopened();
        }, RELISTEN_DELAY_MS);
      });
  }

  /** The backend is stopping: no stream is opened again. */
  cancelReopen(): void {
    if (this.#reopenTimer !== null) clearTimeout(this.#reopenTimer);
    this.#reopenTimer = null;
  }

  /** The process is gone, and its stream with it. */
  close(): void {
    this.#id = null;
    this.cancelReopen();
  }
}

/** What a stateless server's listen stream asks for; undefined when there is nothing. */
function listenFilter(
  capabilities: JsonObject,
  subscriptions: ReadonlySet<string>,
): JsonObject | undefined {
  const filter: JsonObject = {};
  const listChanged = (capability: string): boolean => {
    const declared = capabilities[capability];
    return isJsonObject(declared) && declared['listChanged'] === true;
  };
  if (listChanged('tools')) filter['toolsListChanged'] = true;
  if (listChanged('prompts')) filter['promptsListChanged'] = true;
  if (listChanged('resources')) filter['resourcesListChanged'] = true;
  const resources = capabilities['resources'];
  if (subscriptions.size > 0 && isJsonObject(resources) && resources['subscribe'] === true) {
    filter['resourceSubscriptions'] = [...subscriptions];
  }
  return Object.keys(filter).length === 0 ? undefined : filter;
}

/** A listen-stream notification as clients get it: our subscription id is ours alone. */
export function withoutSubscriptionId(params: JsonObject): JsonObject {
  const meta = params['_meta'];
  if (!isJsonObject(meta) || !(META.subscriptionId in meta)) return params;
  const rest = omit(meta, [META.subscriptionId]);
  const copy: JsonObject = { ...params };
  if (Object.keys(rest).length === 0) delete copy['_meta'];
  else copy['_meta'] = rest;
  return copy;
}
