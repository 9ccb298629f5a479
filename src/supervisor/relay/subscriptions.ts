/**
 * Who hears about changes: sessions and `subscriptions/listen` streams learn which of their
 * profile's lists changed, and the subscribers of a resource URI learn that it was updated.
 * Backends are shared, so subscriptions to a URI are counted: the backend is subscribed while
 * anyone is. A `share: "session"` server's subscriptions go to the session's own instance
 * uncounted; a `share: "identity"` server's are counted per identity, whose sessions share
 * its instance.
 */
import type { ReadonlyOwnInstances } from './own-instances.js';
import type { JsonObject, RequestId } from '../../shared/json.js';
import type { ReplyMessage } from '../../shared/messages.js';
import type { Catalog, ListKind } from '../catalog/catalog.js';
import type { ProfileView } from '../catalog/profile-view.js';
import type { ProfileViews } from '../catalog/profile-views.js';
import type { ShardPool } from '../pool/shard-pool.js';
import type { Session, Sessions, Subscriber } from '../session/sessions.js';
import type { Listener } from '../session/listeners.js';
import { errorFrame, resultFrame } from '../../shared/jsonrpc.js';
import type { Forwarding } from './forwarding.js';
import type { Responder } from './call.js';
import { systemCall, type InstanceOwner } from './system-calls.js';

const LIST_CHANGED: Record<ListKind, string> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
  resourceTemplates: 'notifications/resources/list_changed',
};

export class Subscriptions {
  readonly #catalog: Catalog;
  readonly #shards: ShardPool;
  readonly #sessions: Sessions;
  readonly #forwarding: Forwarding;
  /** Servers with `share: "session"`, `"identity"` or `"project"`: a caller has its own instance. */
  readonly #ownInstances: ReadonlyOwnInstances;
  /** URI → who subscribed to it; the backend is subscribed while the set is non-empty. */
  readonly #subscribers = new Map<string, Set<Subscriber>>();
  /**
   * Of `share: "identity"` and `"project"` servers, owner and URI → the sessions subscribed:
   * an identity's (or a project's) sessions share its instance, which is subscribed while
   * any of them is.
   */
  readonly #byOwner = new Map<string, Set<Session>>();
  /** Open `subscriptions/listen` streams of stateless-era clients. */
  readonly #listeners = new Set<Listener>();

  /** Which view each session sees, so it hears of its own lists' changes only. */
  readonly #views: ProfileViews;

  constructor(
    catalog: Catalog,
    shards: ShardPool,
    sessions: Sessions,
    forwarding: Forwarding,
    ownInstances: ReadonlyOwnInstances,
    views: ProfileViews,
  ) {
    this.#views = views;
    this.#catalog = catalog;
    this.#shards = shards;
    this.#sessions = sessions;
    this.#forwarding = forwarding;
    this.#ownInstances = ownInstances;
  }

  /** `resources/subscribe` and `resources/unsubscribe` of a session. */
  request(
    session: Session,
    view: ProfileView,
    id: RequestId,
    method: 'resources/subscribe' | 'resources/unsubscribe',
    params: JsonObject,
    out: Responder,
  ): void {
    const uri = params['uri'];
    const server = typeof uri === 'string' ? view.resourceServer(uri) : undefined;
    if (typeof uri !== 'string' || server === undefined) {
      out.respond(errorFrame(id, this.#forwarding.notFound(session, uri)));
      return;
    }
    const owner = this.#ownerOf(session, server);
    if (owner !== undefined) {
      this.#ownerRequest(session, server, uri, owner, { id, method, out });
      return;
    }
    if (this.#ownInstances.has(server)) {
      // The session's own instance: nothing is shared, so nothing to count.
      if (method === 'resources/subscribe') session.subscriptions.add(uri);
      else session.subscriptions.delete(uri);
      this.#forwarding.start({ caller: session, id, out }, { server, method, params, target: uri });
      return;
    }
    if (method === 'resources/unsubscribe') {
      session.subscriptions.delete(uri);
      this.#unsubscribe(session, uri);
      out.respond(resultFrame(id, '{}'));
      return;
    }
    session.subscriptions.add(uri);
    this.#subscribe(session, uri, (reply) => {
      if (!reply.ok) session.subscriptions.delete(uri);
      out.respond(reply.ok ? resultFrame(id, '{}') : errorFrame(id, reply.error));
    });
  }

  /** Drops an ended session's subscriptions. */
  sessionEnded(session: Session): void {
    for (const uri of session.subscriptions) {
      this.#unsubscribe(session, uri);
      const server = this.#catalog.resourceServer(uri);
      const owner = server === undefined ? undefined : this.#ownerOf(session, server);
      if (server === undefined || owner === undefined) continue;
      const key = `${owner.key}\u0000${uri}`;
      const sessions = this.#byOwner.get(key);
      if (sessions?.delete(session) !== true || sessions.size > 0) continue;
      this.#byOwner.delete(key);
      systemCall(this.#shards, server, 'resources/unsubscribe', { uri }, uri, undefined, owner);
    }
    session.subscriptions.clear();
  }

  /**
   * Whose shared own instance of `server` a session's subscriptions go to, counted: its
   * identity's (`share: "identity"`) or its project's (`share: "project"`); undefined for
   * any other server, or a session with neither.
   */
  #ownerOf(session: Session, server: string): (InstanceOwner & { key: string }) | undefined {
    const sharing = this.#ownInstances.get(server);
    if (sharing === 'identity' && session.identity !== null)
      return { key: `identity\u0000${session.identity}`, identity: session.identity };
    if (sharing === 'project' && session.project !== null)
      return { key: `project\u0000${session.project.dir}`, project: session.project };
    return undefined;
  }

  /**
   * A subscription to an identity's or a project's instance: counted per owner, so the
   * instance is subscribed by its owner's first session and unsubscribed after its last.
   */
  #ownerRequest(
    session: Session,
    server: string,
    uri: string,
    owner: InstanceOwner & { key: string },
    request: {
      id: RequestId;
      method: 'resources/subscribe' | 'resources/unsubscribe';
      out: Responder;
    },
  ): void {
    const { id, method, out } = request;
    const key = `${owner.key}\u0000${uri}`;
    const sessions = this.#byOwner.get(key) ?? new Set<Session>();
    this.#byOwner.set(key, sessions);
    const answer = (reply: ReplyMessage): void =>
      out.respond(reply.ok ? resultFrame(id, '{}') : errorFrame(id, reply.error));
    const ok: ReplyMessage = { type: 'reply', callId: 0, ok: true, result: '{}' };
    if (method === 'resources/subscribe') {
      session.subscriptions.add(uri);
      const first = sessions.size === 0;
      sessions.add(session);
      if (!first) return answer(ok);
      systemCall(
        this.#shards,
        server,
        method,
        { uri },
        uri,
        (reply) => {
          if (!reply.ok) {
            session.subscriptions.delete(uri);
            sessions.delete(session);
            if (sessions.size === 0 && this.#byOwner.get(key) === sessions)
              this.#byOwner.delete(key);
          }
          answer(reply);
        },
        owner,
      );
      return;
    }
    session.subscriptions.delete(uri);
    const last = sessions.delete(session) && sessions.size === 0;
    if (sessions.size === 0) this.#byOwner.delete(key);
    if (!last) return answer(ok);
    systemCall(this.#shards, server, method, { uri }, uri, answer, owner);
  }

  /** A stateless-era client opened a listen stream (its acknowledgment is already sent). */
  listen(listener: Listener): void {
    this.#listeners.add(listener);
    for (const uri of listener.filter.resourceSubscriptions ?? []) this.#subscribe(listener, uri);
  }

  unlisten(listener: Listener): void {
    if (!this.#listeners.delete(listener)) return;
    for (const uri of listener.filter.resourceSubscriptions ?? []) this.#unsubscribe(listener, uri);
  }

  /** A backend's `notifications/resources/updated`: to everyone subscribed to the URI. */
  resourceUpdated(uri: string, method: string, params: JsonObject): void {
    for (const subscriber of this.#subscribers.get(uri) ?? []) subscriber.notify(method, params);
  }

  /** Tells each session and listen stream whose profile's lists changed which ones did. */
  listsChanged(changes: ReadonlyMap<string, Set<ListKind>>): void {
    if (changes.size === 0) return;
    for (const session of this.#sessions.values()) {
      // Under its view's key: a project's own servers change only that project's lists.
      const kinds = changes.get(this.#views.viewOf(session.profile, session.project).key);
      if (kinds === undefined) continue;
      for (const method of new Set([...kinds].map((kind) => LIST_CHANGED[kind])))
        session.notify(method);
    }
    for (const listener of this.#listeners) {
      const kinds = changes.get(listener.profile) ?? new Set<ListKind>();
      const wanted = new Set([...kinds].filter((kind) => listener.wantsListChanged(kind)));
      for (const kind of wanted) {
        // resources and templates share one notification: send it once.
        if (kind === 'resourceTemplates' && wanted.has('resources')) continue;
        listener.notify(LIST_CHANGED[kind]);
      }
    }
  }

  /**
   * Adds a subscriber to a URI. The first one subscribes the backend; if the backend
   * refuses, nobody is subscribed. `done` learns the outcome (at once when not first).
   */
  #subscribe(subscriber: Subscriber, uri: string, done?: (reply: ReplyMessage) => void): void {
    const server = this.#catalog.resourceServer(uri);
    let subscribers = this.#subscribers.get(uri);
    if (subscribers === undefined) this.#subscribers.set(uri, (subscribers = new Set()));
    const first = subscribers.size === 0;
    subscribers.add(subscriber);
    if (!first || server === undefined) {
      done?.({ type: 'reply', callId: 0, ok: true, result: '{}' });
      return;
    }
    systemCall(this.#shards, server, 'resources/subscribe', { uri }, uri, (reply) => {
      if (!reply.ok) {
        subscribers.delete(subscriber);
        if (subscribers.size === 0) this.#subscribers.delete(uri);
      }
      done?.(reply);
    });
  }

  #unsubscribe(subscriber: Subscriber, uri: string): void {
    const subscribers = this.#subscribers.get(uri);
    if (!subscribers?.delete(subscriber) || subscribers.size > 0) return;
    this.#subscribers.delete(uri);
    const server = this.#catalog.resourceServer(uri);
    if (server !== undefined)
      systemCall(this.#shards, server, 'resources/unsubscribe', { uri }, uri);
  }
}
