/**
 * What MCP Director does with each JSON-RPC method, independent of the transport and of
 * the client's era. Lists are answered from the catalog without a worker hop; calls,
 * reads, prompts, completions and subscriptions are mapped to (server, backend name) and
 * forwarded to the owning shard (`forwarding.ts` carries each forwarded call to its end).
 * Subscriptions and list changes are `subscriptions.ts`'s, log levels `log-levels.ts`'s,
 * tasks `task-requests.ts`'s, backends' own notifications `server-notifications.ts`'s.
 */
import type { RelayDeps } from './relay-deps.js';
import type { JsonObject, RequestId } from '../../shared/json.js';
import { idJson, isJsonObject } from '../../shared/json.js';
import type { ServerNotificationMessage } from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';
import type { ListKind } from '../catalog/catalog.js';
import { LIST_METHODS } from '../catalog/catalog.js';
import type { ProfileView } from '../catalog/profile-view.js';
import type { ProfileViews } from '../catalog/profile-views.js';
import { answerMetaTool, isMetaToolName, parseCallArguments } from '../catalog/meta-tools.js';
import type { ShardPool } from '../pool/shard-pool.js';
import type { Caller, Session } from '../session/sessions.js';
import { requestKey } from '../session/sessions.js';
import { errorFrame, resultFrame } from '../../shared/jsonrpc.js';
import type { Listener } from '../session/listeners.js';
import { Forwarding } from './forwarding.js';
import type { ClientLeg, Responder } from './call.js';
import { NameWaits, type WaitOutcome } from './name-waits.js';
import { modernListPage, modernResult } from './result-shapes.js';
import { checkParams } from './params.js';
import { canCallToolsAsTasks } from '../session/client-capabilities.js';
import { Subscriptions } from './subscriptions.js';
import { LogLevels } from './log-levels.js';
import { TaskRequests } from './task-requests.js';
import { ServerNotifications } from './server-notifications.js';

const log = logger('dispatch');

export class Dispatcher {
  readonly #views: ProfileViews;
  readonly #shards: ShardPool;
  readonly #forwarding: Forwarding;
  /** Misses of names that a server still starting may bring (`name-waits.ts`). */
  readonly #nameWaits: NameWaits;
  readonly #serverInfo: JsonObject;
  /** Resource subscriptions, listen streams and list changes (`subscriptions.ts`). */
  readonly #subscriptions: Subscriptions;
  /** Session-era log levels, applied to the shared backends (`log-levels.ts`). */
  readonly #logLevels: LogLevels;
  /** tasks/get, tasks/result, tasks/cancel, tasks/list and task status (`task-requests.ts`). */
  readonly #tasks: TaskRequests;
  /** Where backends' notifications go (`server-notifications.ts`). */
  readonly #serverNotifications: ServerNotifications;
  /** Marks requests waiting for a name in `caller.calls`: negative, so never a call id. */
  #nextWaitMark = -1;

  constructor(deps: RelayDeps) {
    const { catalog, views, shards, sessions, ownInstances, serverInfo } = deps;
    this.#views = views;
    this.#shards = shards;
    this.#serverInfo = serverInfo;
    this.#forwarding = new Forwarding(deps);
    this.#nameWaits = new NameWaits(catalog, shards);
    this.#subscriptions = new Subscriptions(
      catalog,
      shards,
      sessions,
      this.#forwarding,
      ownInstances,
      views,
    );
    this.#logLevels = new LogLevels(catalog, views, shards, sessions);
    this.#tasks = new TaskRequests(catalog, this.#forwarding);
    this.#serverNotifications = new ServerNotifications({
      sessions,
      views,
      logLevels: this.#logLevels,
      tasks: this.#tasks,
      subscriptions: this.#subscriptions,
    });
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

  /**
   * Whether a list request of `caller` may ask its client something first (its roots, for
   * its project's own servers), so that the transport answers it as a stream.
   */
  listMayAsk(caller: Caller): boolean {
    return this.#forwarding.listsAfterProject(caller);
  }

  #route(caller: Caller, id: RequestId, method: string, params: JsonObject, out: Responder): void {
    const kind = LIST_METHODS.get(method);
    if (kind !== undefined) {
      if (this.#forwarding.listsAfterProject(caller)) {
        // Its project may have servers of its own: the client's roots say which it is.
        const list = (): void => this.#list(caller, id, kind, params, out);
        return this.#forwarding.lookUpProject({ caller, id, out }, list);
      }
      return this.#list(caller, id, kind, params, out);
    }
    // Every lookup goes through the caller's profile: what it does not see does not exist.
    const view = this.#views.viewOf(caller.profile, caller.project);
    switch (method) {
      case 'tools/call':
        if (view.meta && isMetaToolName(String(params['name'])))
          return this.#metaTool(caller, view, id, params, out);
        return this.#forwardNamed({ caller, id, out }, view, 'tools/call', params);
      case 'prompts/get':
        return this.#forwardNamed({ caller, id, out }, view, 'prompts/get', params);
      case 'resources/read':
        return this.#read(caller, view, id, params, out);
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.#subscriptions.request(caller as Session, view, id, method, params, out);
      case 'completion/complete':
        return this.#complete(caller, view, id, params, out);
      case 'logging/setLevel':
        return this.#logLevels.setLevel(caller as Session, id, params, out);
      case 'tasks/get':
      case 'tasks/result':
      case 'tasks/cancel':
        if (!this.#tasks.forward(caller, view, id, method, params, out))
          out.respond(errorFrame(id, unknown('task', params['taskId'])));
        return;
      case 'tasks/list':
        return this.#tasks.list(caller, view, id, out);
      case 'ping':
        return out.respond(resultFrame(id, '{}'));
      default:
        out.respond(
          errorFrame(id, rpcError(JsonRpcCode.MethodNotFound, `Method not found: ${method}`)),
        );
    }
  }

  /** A page of a list, from the caller's view (no worker hop). */
  #list(caller: Caller, id: RequestId, kind: ListKind, params: JsonObject, out: Responder): void {
    const view = this.#views.viewOf(caller.profile, caller.project);
    this.#nameWaits.wakeFor(view);
    const tasks = canCallToolsAsTasks(caller.era, caller.clientCapabilities);
    const page = view.page(kind, params['cursor'], tasks);
    if ('error' in page) out.respond(errorFrame(id, page.error));
    else if (caller.era === 'legacy') out.respond(resultFrame(id, page.json));
    else {
      const hint = view.cacheHint(kind);
      out.respond(resultFrame(id, modernListPage(page.json, hint, this.#serverInfo)));
    }
  }

  notification(session: Session, method: string, params: JsonObject): void {
    if (method === 'notifications/cancelled') {
      const requestId = params['requestId'];
      if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
      const reason = params['reason'];
      this.cancelRequest(session, requestId, typeof reason === 'string' ? reason : undefined);
    }
    if (method === 'notifications/roots/list_changed') this.#forwarding.rootsChanged(session);
    // notifications/initialized needs nothing from a router.
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
    this.#subscriptions.sessionEnded(session);
    this.#shards.sessionEnded(session.id);
    this.#logLevels.apply();
  }

  /** A stateless-era client opened a listen stream (its acknowledgment is already sent). */
  listen(listener: Listener): void {
    this.#subscriptions.listen(listener);
  }

  unlisten(listener: Listener): void {
    this.#subscriptions.unlisten(listener);
  }

  /** A server's state or catalog changed (requests waiting for its names may go on). */
  serverChanged(server: string): void {
    this.#nameWaits.changed(server);
  }

  /** Tells each session and listen stream whose profile's lists changed which ones did. */
  listsChanged(changes: ReadonlyMap<string, Set<ListKind>>): void {
    this.#subscriptions.listsChanged(changes);
  }

  /** A backend's notification other than a call's own (`server-notifications.ts`). */
  serverNotification(message: ServerNotificationMessage): void {
    this.#serverNotifications.deliver(message);
  }

  #forwardNamed(
    leg: ClientLeg,
    view: ProfileView,
    method: 'tools/call' | 'prompts/get',
    params: JsonObject,
    waited?: WaitOutcome | null,
  ): void {
    const { caller, id, out } = leg;
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
          const now = this.#views.viewOf(caller.profile, caller.project);
          this.#forwardNamed(leg, now, method, params, outcome ?? null);
        };
        if (this.#nameWaits.wait(view, name, noun, again)) return;
        if (caller.calls.get(key) === mark) caller.calls.delete(key);
      }
      // A denied name and an unknown one get the same answer.
      out.respond(errorFrame(id, waited ?? unknown(noun, name)));
      return;
    }
    const forwarded = params['name'] === target.name ? params : { ...params, name: target.name };
    this.#forwarding.start(leg, {
      server: target.server,
      method,
      params: forwarded,
      target: target.name,
    });
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
        return this.#forwardNamed({ caller, id, out }, view, 'tools/call', forwarded);
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
      this.#forwarding.start(
        { caller, id, out },
        { server, method: 'resources/read', params, target: uri },
      );
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
    this.#forwarding.start(
      { caller, id, out: guarded },
      { server: guess, method: 'resources/read', params, target: uri },
    );
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
      this.#forwarding.start(
        { caller, id, out },
        { server, method: 'completion/complete', params: forwarded, target: name },
      );
      return;
    }
    const uri = ref['uri'];
    const server = typeof uri === 'string' ? view.templateServer(uri) : undefined;
    if (server === undefined) {
      out.respond(errorFrame(id, this.#forwarding.notFound(caller, uri)));
      return;
    }
    this.#forwarding.start(
      { caller, id, out },
      { server, method: 'completion/complete', params, target: String(uri) },
    );
  }
}

/** What a name outside the caller's view gets, whether it exists elsewhere or not at all. */
function unknown(noun: 'tool' | 'prompt' | 'task', name: unknown): WireError {
  return rpcError(JsonRpcCode.InvalidParams, `Unknown ${noun}: ${String(name)}`);
}
