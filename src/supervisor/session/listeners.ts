/**
 * `subscriptions/listen` streams of stateless-era clients
 * (https://modelcontextprotocol.io/specification/draft/basic/patterns/subscriptions): each one
 * asked for some list changes and some resource URIs, and gets exactly those, every
 * notification tagged with its subscription id (the JSON-RPC id of the listen request).
 */
import { META } from '../../shared/eras.js';
import type { JsonObject, RequestId } from '../../shared/json.js';
import { idValue, isJsonObject } from '../../shared/json.js';
import type { ListKind } from '../catalog/catalog.js';
import { notificationFrame } from '../../shared/jsonrpc.js';
import type { Subscriber } from './sessions.js';

/** The filter of a listen request, as honoured. */
export interface ListenFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

const FILTER_KEY: Record<ListKind, keyof ListenFilter> = {
  tools: 'toolsListChanged',
  prompts: 'promptsListChanged',
  resources: 'resourcesListChanged',
  resourceTemplates: 'resourcesListChanged',
};

let nextListener = 1;

export class Listener implements Subscriber {
  readonly id = `listen:${nextListener++}`;
  readonly subscriptionId: RequestId;
  readonly filter: ListenFilter;
  readonly #send: (frame: string) => void;

  constructor(
    subscriptionId: RequestId,
    filter: ListenFilter,
    send: (frame: string) => void,
    /** The profile whose list changes this stream hears. */
    readonly profile: string,
  ) {
    this.subscriptionId = subscriptionId;
    this.filter = filter;
    this.#send = send;
  }

  /** Whether this stream asked to hear that a list of this kind changed. */
  wantsListChanged(kind: ListKind): boolean {
    return this.filter[FILTER_KEY[kind]] === true;
  }

  notify(method: string, params: JsonObject = {}): void {
    const meta = params['_meta'];
    this.#send(
      notificationFrame(method, {
        ...params,
        _meta: {
          ...(isJsonObject(meta) ? meta : {}),
          [META.subscriptionId]: idValue(this.subscriptionId),
        },
      }),
    );
  }
}

/**
 * The part of a requested filter the director honours: every list change (it declares
 * `listChanged` for all lists) and the resource URIs it can route to a backend.
 */
export function honouredFilter(
  requested: JsonObject,
  canRoute: (uri: string) => boolean,
): ListenFilter {
  const filter: ListenFilter = {};
  if (requested['toolsListChanged'] === true) filter.toolsListChanged = true;
  if (requested['promptsListChanged'] === true) filter.promptsListChanged = true;
  if (requested['resourcesListChanged'] === true) filter.resourcesListChanged = true;
  const uris = requested['resourceSubscriptions'];
  if (Array.isArray(uris)) {
    const routable = uris.filter((uri): uri is string => typeof uri === 'string' && canRoute(uri));
    if (routable.length > 0) filter.resourceSubscriptions = [...new Set(routable)];
  }
  return filter;
}
