/**
 * What MCP Director does with each JSON-RPC method, independent of the transport and of
 * the client's era. Lists are answered from the catalog without a worker hop; calls,
 * reads, prompts, completions and subscriptions are mapped to (server, backend name) and
 * forwarded to the owning shard (`forwarding.ts` carries each forwarded call to its end).
 */
import type { JsonObject, JsonValue, RequestId } from '../../shared/json.js';
import { idJson, isJsonObject } from '../../shared/json.js';
import type {
  ForwardedMethod,
  ReplyMessage,
  ServerNotificationMessage,
  WireError,
} from '../../shared/messages.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';
import type { Catalog, ListKind } from '../catalog/catalog.js';
import { LIST_METHODS } from '../catalog/catalog.js';
import type { ProfileView, ProfileViews } from '../catalog/profile-view.js';
import { answerMetaTool, isMetaToolName, parseCallArguments } from '../catalog/meta-tools.js';
import type { CallHandlers, ShardPool } from '../pool/shard-pool.js';
import type { Caller, Sessions, Subscriber } from '../session/sessions.js';
import { LOG_LEVELS, Session, logLevelRank, requestKey } from '../session/sessions.js';
import { exposeTaskIds, routeTaskId } from './tasks.js';
import { errorFrame, resultFrame } from '../../shared/jsonrpc.js';
import type { Listener } from '../session/listeners.js';
import { Forwarding, type Responder } from './forwarding.js';
import { NameWaits, type WaitOutcome } from './name-waits.js';
import { modernListPage, modernResult } from './result-shapes.js';
import { checkParams } from './params.js';
import { canCallToolsAsTasks } from '../session/client-capabilities.js';

export type { Responder } from './forwarding.js';

const log = logger('dispatch');

const LIST_CHANGED: Record<ListKind, string> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
  resourceTemplates: 'notifications/resources/list_changed',
};

export class Dispatcher {
  readonly #catalog: Catalog;
  readonly #views: ProfileViews;
  readonly #shards: ShardPool;
  readonly #sessions: Sessions;
  readonly #forwarding: Forwarding;
  /** Misses of names that a server still starting may bring (`name-waits.ts`). */
  readonly #nameWaits: NameWaits;
  readonly #serverInfo: JsonObject;
  /** URI → who subscribed to it; the backend is subscribed while the set is non-empty. */
  readonly #subscribers = new Map<string, Set<Subscriber>>();
  /** Open `subscriptions/listen` streams of stateless-era clients. */
  readonly #listeners = new Set<Listener>();
  /** Marks requests waiting for a name in `caller.calls`: negative, so never a call id. */
  #nextWaitMark = -1;
  /** The level last sent to the backends: the most verbose any session asked for. */
  #backendLogLevel: string | undefined;

  /** Servers with `share: "session"`: each session has its own process of them. */
  readonly #perSession: ReadonlySet<string>;

  constructor(
    catalog: Catalog,
    views: ProfileViews,
    shards: ShardPool,
    sessions: Sessions,
    perSession: ReadonlySet<string>,
    serverInfo: JsonObject,
  ) {
    this.#catalog = catalog;
    this.#views = views;
    this.#shards = shards;
    this.#sessions = sessions;
    this.#perSession = perSession;
    this.#serverInfo = serverInfo;
    this.#forwarding = new Forwarding(catalog, shards, serverInfo);
    this.#nameWaits = new NameWaits(catalog, shards);
  }

  request(caller: Caller, id: RequestId, method: string, params: JsonObject, out: Responder): void {
    const invalid = checkParams(method, params);
    if (invalid !== undefined) return out.respond(errorFrame(id, invalid));
    try {
      this.#route(caller, id, method, params, out);
    } catch (error) {
      // A bug must cost this one request, never the daemon: answer it and log the cause.
      log.error(
        `${method} failed inside the router: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      out.respond(
        errorFrame(
          id,
          rpcError(
            JsonRpcCode.InternalError,
            `Internal error: MCP Director failed to handle ${method}; the cause is in its log`,
          ),
        ),
      );
    }
  }

  #route(caller: Caller, id: RequestId, method: string, params: JsonObject, out: Responder): void {
    // Every lookup goes through the caller's profile: what it does not see does not exist.
    const view = this.#views.viewOf(caller.profile);
    const kind = LIST_METHODS.get(method);
    if (kind !== undefined) {
      this.#nameWaits.wakeFor(view);
      const tasks = canCallToolsAsTasks(caller.era, caller.clientCapabilities);
      const page = view.page(kind, params['cursor'], tasks);
      if ('error' in page) out.respond(errorFrame(id, page.error));
      else if (caller.era === 'legacy') out.respond(resultFrame(id, page.json));
      else {
        const hint = view.cacheHint(kind);
        out.respond(resultFrame(id, modernListPage(page.json, hint, this.#serverInfo)));
      }
      return;
    }
    switch (method) {
      case 'tools/call':
        if (view.meta && isMetaToolName(String(params['name'])))
          return this.#metaTool(caller, view, id, params, out);
        return this.#forwardNamed(caller, view, id, 'tools/call', params, out);
      case 'prompts/get':
        return this.#forwardNamed(caller, view, id, 'prompts/get', params, out);
      case 'resources/read':
        return this.#read(caller, view, id, params, out);
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.#subscription(caller as Session, view, id, method, params, out);
      case 'completion/complete':
        return this.#complete(caller, view, id, params, out);
      case 'logging/setLevel':
        return this.#setLogLevel(caller as Session, id, params, out);
      case 'tasks/get':
      case 'tasks/result':
      case 'tasks/cancel':
        return this.#task(caller, view, id, method, params, out);
      case 'tasks/list':
        return this.#listTasks(caller, view, id, out);
      case 'ping':
        return out.respond(resultFrame(id, '{}'));
      default:
        out.respond(
          errorFrame(id, rpcError(JsonRpcCode.MethodNotFound, `Method not found: ${method}`)),
        );
    }
  }

  notification(session: Session, method: string, params: JsonObject): void {
    if (method === 'notifications/cancelled') {
      const requestId = params['requestId'];
      if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
      const reason = params['reason'];
      this.cancelRequest(session, requestId, typeof reason === 'string' ? reason : undefined);
    }
    // notifications/initialized and roots/list_changed need nothing from a router yet.
  }

  /** Cancels a session's request upstream (the backend hears it); false if none is in flight. */
  cancelRequest(session: Session, requestId: RequestId, reason: string | undefined): boolean {
    const key = requestKey(requestId);
    const callId = session.calls.get(key);
    if (callId === undefined) return false; // finished already: races are allowed
    session.calls.delete(key);
    this.#shards.cancel(callId, reason);
    return true;
  }

  /** The client answered a request a backend sent it (sampling, elicitation, roots). */
  response(session: Session, id: RequestId, message: JsonObject): void {
    if (!session.answered(id, message))
      log.debug(`dropped a response to ${JSON.stringify(id)}: nothing waits for it`);
  }

  /** A stateless-era request's client went away (closed its stream): that is cancellation. */
  abandoned(caller: Caller): void {
    this.#forwarding.abandoned(caller);
  }

  /** Releases what a session held: its calls, its subscriptions, its log level. */
  sessionEnded(session: Session): void {
    session.abandonAsked();
    for (const callId of session.calls.values())
      this.#shards.cancel(callId, 'the client session ended');
    session.calls.clear();
    for (const uri of session.subscriptions) this.#unsubscribe(session, uri);
    session.subscriptions.clear();
    this.#shards.sessionEnded(session.id);
    this.#applyLogLevel();
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

  /** A server's state or catalog changed (requests waiting for its names may go on). */
  serverChanged(server: string): void {
    this.#nameWaits.changed(server);
  }

  /** Tells each session and listen stream whose profile's lists changed which ones did. */
  listsChanged(changes: ReadonlyMap<string, Set<ListKind>>): void {
    if (changes.size === 0) return;
    for (const session of this.#sessions.values()) {
      const kinds = changes.get(session.profile);
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

  serverNotification(message: ServerNotificationMessage): void {
    const { method, params } = message;
    if (message.session !== undefined) {
      // From a session's own instance: nobody else's business.
      const session = this.#sessions.get(message.session);
      if (session === undefined) return;
      if (method !== 'notifications/message' || session.wantsLog(stringOf(params['level']))) {
        session.notify(method, params);
      }
      return;
    }
    if (method === 'notifications/message') {
      // Stateless-era clients get logs only on the stream of the request that asked.
      const level = stringOf(params['level']);
      for (const session of this.#sessions.values()) {
        const sees = this.#views.viewOf(session.profile).hasServer(message.server);
        if (sees && session.wantsLog(level)) session.notify(method, params);
      }
    } else if (method === 'notifications/tasks/status') {
      const exposed = exposeTaskIds(params, message.server);
      const owner = this.#forwarding.taskOwner(stringOf(exposed['taskId']));
      if (owner instanceof Session) owner.notify(method, exposed);
    } else if (method === 'notifications/resources/updated') {
      for (const subscriber of this.#subscribers.get(stringOf(params['uri'])) ?? [])
        subscriber.notify(method, params);
    } else {
      log.debug(
        `dropped ${method} from server '${message.server}': not forwarded by a shared backend`,
      );
    }
  }

  #forwardNamed(
    caller: Caller,
    view: ProfileView,
    id: RequestId,
    method: 'tools/call' | 'prompts/get',
    params: JsonObject,
    out: Responder,
    waited?: WaitOutcome | null,
  ): void {
    const name = String(params['name']);
    const target = method === 'tools/call' ? view.tool(name) : view.prompt(name);
    if (target === undefined) {
      const noun = method === 'tools/call' ? 'tool' : 'prompt';
      // Not listed yet is not unknown: a server of the view that is still starting (or
      // lazy) may bring the name; look again once it has listed. `waited` marks the retry.
      if (waited === undefined) {
        // A mark (never a call id) where the call id goes, so that a cancellation, the end
        // of the session or an abandoned request is seen when the wait is over.
        const key = requestKey(id);
        const mark = this.#nextWaitMark--;
        caller.calls.set(key, mark);
        const again = (outcome: WaitOutcome): void => {
          if (caller.calls.get(key) !== mark) return; // nobody waits for the answer any more
          caller.calls.delete(key);
          const now = this.#views.viewOf(caller.profile);
          this.#forwardNamed(caller, now, id, method, params, out, outcome ?? null);
        };
        if (this.#nameWaits.wait(view, name, noun, again)) return;
        if (caller.calls.get(key) === mark) caller.calls.delete(key);
      }
      // A denied name and an unknown one get the same answer.
      out.respond(errorFrame(id, waited ?? unknown(noun, name)));
      return;
    }
    const forwarded = params['name'] === target.name ? params : { ...params, name: target.name };
    this.#forwarding.start(caller, id, target.server, method, forwarded, target.name, out);
  }

  /**
   * The router's own tools of a `meta` profile: `call` forwards (a denied or unknown tool
   * gets what a direct call of it would get), the others are answered here.
   */
  #metaTool(
    caller: Caller,
    view: ProfileView,
    id: RequestId,
    params: JsonObject,
    out: Responder,
  ): void {
    const name = String(params['name']);
    const args = isJsonObject(params['arguments']) ? params['arguments'] : {};
    // What list_servers, list_tools and search_tools report includes lazy servers' tools.
    if (name !== 'call') this.#nameWaits.wakeFor(view);
    let result = name === 'call' ? undefined : answerMetaTool(name, args, view);
    if (result === undefined) {
      const parsed = parseCallArguments(args, view);
      if (parsed.ok) {
        const { name: tool, arguments: toolArgs } = parsed.call;
        const forwarded: JsonObject = { ...params, name: tool, arguments: toolArgs };
        return this.#forwardNamed(caller, view, id, 'tools/call', forwarded, out);
      }
      result = parsed.result;
    }
    const json = JSON.stringify(result);
    out.respond(
      resultFrame(
        id,
        caller.era === 'legacy' ? json : modernResult(json, 'tools/call', this.#serverInfo).json,
      ),
    );
  }

  /** tasks/get, tasks/result, tasks/cancel: to the backend the task id names, in its id. */
  #task(
    caller: Caller,
    view: ProfileView,
    id: RequestId,
    method: 'tasks/get' | 'tasks/result' | 'tasks/cancel',
    params: JsonObject,
    out: Responder,
  ): void {
    const route = routeTaskId(params['taskId']);
    if (
      route === undefined ||
      !view.hasServer(route.server) ||
      this.#catalog.backend(route.server) === undefined
    ) {
      out.respond(errorFrame(id, unknown('task', params['taskId'])));
      return;
    }
    const forwarded = { ...params, taskId: route.taskId };
    this.#forwarding.start(caller, id, route.server, method, forwarded, route.taskId, out);
  }

  /**
   * tasks/list: every backend that lists tasks is asked, and their tasks are returned
   * together (one page each; a backend that fails to answer is left out, and logged).
   */
  #listTasks(caller: Caller, view: ProfileView, id: RequestId, out: Responder): void {
    const servers = this.#catalog.serversWith('tasks').filter((server) => {
      const tasks = this.#catalog.backend(server)?.capabilities['tasks'];
      return view.hasServer(server) && isJsonObject(tasks) && tasks['list'] !== undefined;
    });
    const tasks: JsonObject[] = [];
    let waiting = servers.length;
    const done = (): void => {
      if (--waiting <= 0) out.respond(resultFrame(id, JSON.stringify({ tasks })));
    };
    if (waiting === 0) return done();
    for (const server of servers) {
      this.#forwarding.collect(caller, server, 'tasks/list', {}, (reply) => {
        if (!reply.ok) {
          log.warn(`server '${server}' failed tasks/list: ${reply.error.message}`);
        } else {
          const page = exposeTaskIds(JSON.parse(reply.result) as JsonObject, server);
          if (Array.isArray(page['tasks'])) {
            for (const task of page['tasks']) if (isJsonObject(task)) tasks.push(task);
          }
        }
        done();
      });
    }
  }

  #read(
    caller: Caller,
    view: ProfileView,
    id: RequestId,
    params: JsonObject,
    out: Responder,
  ): void {
    const uri = params['uri'] as string; // checked by checkParams
    const server = view.resourceServer(uri);
    if (server !== undefined) {
      this.#forwarding.start(caller, id, server, 'resources/read', params, uri, out);
      return;
    }
    const notFound = errorFrame(id, this.#forwarding.notFound(caller, uri));
    const guess = view.unlistedResourceServer(uri);
    if (guess === undefined) return out.respond(notFound);
    // Whatever the guessed server answers as an error, the client gets the not-found every
    // unknown or denied URI gets, so a failed guess tells nothing about other profiles' URIs.
    const failed = `{"jsonrpc":"2.0","id":${idJson(id)},"error":`;
    const guarded: Responder = {
      respond: (frame) => out.respond(frame.startsWith(failed) ? notFound : frame),
      notify: (frame) => out.notify(frame),
    };
    this.#forwarding.start(caller, id, guess, 'resources/read', params, uri, guarded);
  }

  #subscription(
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
    if (this.#perSession.has(server)) {
      // The session's own process: nothing is shared, so nothing to count.
      if (method === 'resources/subscribe') session.subscriptions.add(uri);
      else session.subscriptions.delete(uri);
      this.#forwarding.start(session, id, server, method, params, uri, out);
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
    this.#system(server, 'resources/subscribe', { uri }, uri, (reply) => {
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
    if (server !== undefined) this.#system(server, 'resources/unsubscribe', { uri }, uri);
  }

  #complete(
    caller: Caller,
    view: ProfileView,
    id: RequestId,
    params: JsonObject,
    out: Responder,
  ): void {
    const ref = params['ref'];
    if (!isJsonObject(ref)) {
      out.respond(
        errorFrame(id, rpcError(JsonRpcCode.InvalidParams, 'completion/complete needs params.ref')),
      );
      return;
    }
    if (ref['type'] === 'ref/prompt') {
      const target = view.prompt(String(ref['name']));
      if (target === undefined) {
        out.respond(errorFrame(id, unknown('prompt', ref['name'])));
        return;
      }
      const forwarded = { ...params, ref: { ...ref, name: target.name } };
      const { server, name } = target;
      this.#forwarding.start(caller, id, server, 'completion/complete', forwarded, name, out);
      return;
    }
    const uri = ref['uri'];
    const server = typeof uri === 'string' ? view.templateServer(uri) : undefined;
    if (server === undefined) {
      out.respond(errorFrame(id, this.#forwarding.notFound(caller, uri)));
      return;
    }
    this.#forwarding.start(caller, id, server, 'completion/complete', params, String(uri), out);
  }

  #setLogLevel(session: Session, id: RequestId, params: JsonObject, out: Responder): void {
    const level = params['level'];
    if (typeof level !== 'string' || logLevelRank(level) < 0) {
      out.respond(
        errorFrame(
          id,
          rpcError(
            JsonRpcCode.InvalidParams,
            `Invalid log level ${JSON.stringify(level)}: expected one of ${LOG_LEVELS.join(', ')}`,
          ),
        ),
      );
      return;
    }
    session.logLevel = level as Session['logLevel'];
    this.#applyLogLevel();
    out.respond(resultFrame(id, '{}'));
  }

  /**
   * Backends are shared, so each is set to the most verbose level any session asked for,
   * and every session's own level is applied when messages are delivered.
   */
  #applyLogLevel(): void {
    let wanted: string | undefined;
    for (const session of this.#sessions.values()) {
      if (
        session.logLevel !== undefined &&
        (wanted === undefined || logLevelRank(session.logLevel) < logLevelRank(wanted))
      ) {
        wanted = session.logLevel;
      }
    }
    if (wanted === undefined || wanted === this.#backendLogLevel) return;
    this.#backendLogLevel = wanted;
    for (const server of this.#catalog.serversWith('logging')) {
      this.#system(server, 'logging/setLevel', { level: wanted }, wanted, (m) => {
        if (!m.ok)
          log.warn(`server '${server}' refused logging/setLevel ${wanted}: ${m.error.message}`);
      });
    }
  }

  /** A call of the director's own, with no client behind it to ask anything. */
  #system(
    server: string,
    method: ForwardedMethod,
    params: JsonObject,
    target: string,
    reply: (message: ReplyMessage) => void = () => undefined,
  ): void {
    const handlers: CallHandlers = {
      reply,
      notification: () => undefined,
      clientRequest: (requestMethod, _params, answer) =>
        answer({
          ok: false,
          error: rpcError(JsonRpcCode.InternalError, `no client to send ${requestMethod} to`),
        }),
    };
    this.#shards.call(server, method, params, target, SYSTEM_CONTEXT, {}, handlers);
  }
}

/** A backend's field as a string; a backend is as untrusted as a client, so no `String()`. */
function stringOf(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

/** What a name outside the caller's view gets, whether it exists elsewhere or not at all. */
function unknown(noun: 'tool' | 'prompt' | 'task', name: unknown): WireError {
  return rpcError(JsonRpcCode.InvalidParams, `Unknown ${noun}: ${String(name)}`);
}

const SYSTEM_CONTEXT = { session: '', profile: '', client: 'mcp-director', era: 'legacy' } as const;
