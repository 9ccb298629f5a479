/**
 * What MCP Director does with each JSON-RPC method, independent of the transport that
 * carried it. Lists, `initialize` and `ping` are answered from the catalog without a
 * worker hop; calls, reads, prompts, completions and subscriptions are mapped to
 * (server, backend name) and forwarded to the owning shard.
 */
import type { JsonObject, RequestId } from '../shared/json.js';
import { isJsonObject } from '../shared/json.js';
import type {
  ForwardedMethod,
  ReplyMessage,
  ServerNotificationMessage,
  WireError,
} from '../shared/messages.js';
import { JsonRpcCode, rpcError } from '../shared/errors.js';
import { logger } from '../shared/log.js';
import type { Catalog, ListKind } from './catalog.js';
import { LIST_METHODS } from './catalog.js';
import type { CallHandlers, ShardPool } from './shards.js';
import type { Session, Sessions } from './sessions.js';
import { LOG_LEVELS, logLevelRank, requestKey } from './sessions.js';
import { missingCapability } from './client-capabilities.js';
import { errorFrame, notificationFrame, resultFrame } from './jsonrpc.js';

const log = logger('dispatch');

/** Where the answer to one request goes (a JSON body, an SSE stream, a batch). */
export interface Responder {
  /** The JSON-RPC response as text; called exactly once per request. */
  respond(message: string): void;
  /** A notification about this request, such as progress. */
  notify(message: string): void;
}

const LIST_CHANGED: Record<ListKind, string> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
  resourceTemplates: 'notifications/resources/list_changed',
};

export class Dispatcher {
  readonly #catalog: Catalog;
  readonly #shards: ShardPool;
  readonly #sessions: Sessions;
  /** URI → sessions subscribed to it; the backend is subscribed while the set is non-empty. */
  readonly #subscribers = new Map<string, Set<string>>();
  /** The level last sent to the backends: the most verbose any session asked for. */
  #backendLogLevel: string | undefined;

  /** Servers with `share: "session"`: each session has its own process of them. */
  readonly #perSession: ReadonlySet<string>;

  constructor(
    catalog: Catalog,
    shards: ShardPool,
    sessions: Sessions,
    perSession: ReadonlySet<string>,
  ) {
    this.#catalog = catalog;
    this.#shards = shards;
    this.#sessions = sessions;
    this.#perSession = perSession;
  }

  request(
    session: Session,
    id: RequestId,
    method: string,
    params: JsonObject,
    out: Responder,
  ): void {
    const kind = LIST_METHODS[method];
    if (kind !== undefined) {
      const page = this.#catalog.page(kind, params['cursor']);
      out.respond('json' in page ? resultFrame(id, page.json) : errorFrame(id, page.error));
      return;
    }
    switch (method) {
      case 'tools/call':
        return this.#forwardNamed(
          session,
          id,
          'tools/call',
          params,
          this.#catalog.tool(String(params['name'])),
          'tool',
          out,
        );
      case 'prompts/get':
        return this.#forwardNamed(
          session,
          id,
          'prompts/get',
          params,
          this.#catalog.prompt(String(params['name'])),
          'prompt',
          out,
        );
      case 'resources/read':
        return this.#read(session, id, params, out);
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.#subscription(session, id, method, params, out);
      case 'completion/complete':
        return this.#complete(session, id, params, out);
      case 'logging/setLevel':
        return this.#setLogLevel(session, id, params, out);
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
      const key = requestKey(requestId);
      const callId = session.calls.get(key);
      if (callId === undefined) return; // finished already: races are allowed
      session.calls.delete(key);
      const reason = params['reason'];
      this.#shards.cancel(callId, typeof reason === 'string' ? reason : undefined);
    }
    // notifications/initialized and roots/list_changed need nothing from a router yet.
  }

  /** The client answered a request a backend sent it (sampling, elicitation, roots). */
  response(session: Session, id: RequestId, message: JsonObject): void {
    if (!session.answered(id, message))
      log.debug(`dropped a response to ${JSON.stringify(id)}: nothing waits for it`);
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

  /** Tells every session that can hear it that a list changed. */
  catalogChanged(kinds: Set<ListKind>): void {
    const methods = new Set([...kinds].map((kind) => LIST_CHANGED[kind]));
    for (const session of this.#sessions.values()) {
      for (const method of methods) session.notify(method);
    }
  }

  serverNotification(message: ServerNotificationMessage): void {
    const { method, params } = message;
    if (message.session !== undefined) {
      // From a session's own instance: nobody else's business.
      const session = this.#sessions.get(message.session);
      if (session === undefined) return;
      if (method !== 'notifications/message' || session.wantsLog(String(params['level']))) {
        session.notify(method, params);
      }
      return;
    }
    if (method === 'notifications/message') {
      const level = String(params['level']);
      for (const session of this.#sessions.values()) {
        if (session.wantsLog(level)) session.notify(method, params);
      }
    } else if (method === 'notifications/resources/updated') {
      const subscribers = this.#subscribers.get(String(params['uri']));
      for (const sessionId of subscribers ?? [])
        this.#sessions.get(sessionId)?.notify(method, params);
    } else {
      log.debug(
        `dropped ${method} from server '${message.server}': not forwarded by a shared backend`,
      );
    }
  }

  #forwardNamed(
    session: Session,
    id: RequestId,
    method: 'tools/call' | 'prompts/get',
    params: JsonObject,
    target: { server: string; name: string } | undefined,
    noun: string,
    out: Responder,
  ): void {
    if (target === undefined) {
      // A denied name and an unknown one get the same answer.
      out.respond(
        errorFrame(
          id,
          rpcError(JsonRpcCode.InvalidParams, `Unknown ${noun}: ${String(params['name'])}`),
        ),
      );
      return;
    }
    const forwarded = params['name'] === target.name ? params : { ...params, name: target.name };
    this.#forward(session, id, target.server, method, forwarded, target.name, out);
  }

  #read(session: Session, id: RequestId, params: JsonObject, out: Responder): void {
    const uri = params['uri'];
    const server = typeof uri === 'string' ? this.#catalog.resourceServer(uri) : undefined;
    if (server === undefined) {
      out.respond(errorFrame(id, resourceNotFound(uri)));
      return;
    }
    this.#forward(session, id, server, 'resources/read', params, String(uri), out);
  }

  #subscription(
    session: Session,
    id: RequestId,
    method: 'resources/subscribe' | 'resources/unsubscribe',
    params: JsonObject,
    out: Responder,
  ): void {
    const uri = params['uri'];
    const server = typeof uri === 'string' ? this.#catalog.resourceServer(uri) : undefined;
    if (typeof uri !== 'string' || server === undefined) {
      out.respond(errorFrame(id, resourceNotFound(uri)));
      return;
    }
    if (this.#perSession.has(server)) {
      // The session's own process: nothing is shared, so nothing to count.
      if (method === 'resources/subscribe') session.subscriptions.add(uri);
      else session.subscriptions.delete(uri);
      this.#forward(session, id, server, method, params, uri, out);
      return;
    }
    let subscribers = this.#subscribers.get(uri);
    if (method === 'resources/unsubscribe') {
      session.subscriptions.delete(uri);
      if (subscribers?.delete(session.id) && subscribers.size === 0) {
        this.#subscribers.delete(uri);
        this.#forward(session, id, server, method, params, uri, out);
      } else {
        out.respond(resultFrame(id, '{}'));
      }
      return;
    }
    if (subscribers === undefined) this.#subscribers.set(uri, (subscribers = new Set()));
    const first = subscribers.size === 0;
    subscribers.add(session.id);
    session.subscriptions.add(uri);
    if (!first) {
      out.respond(resultFrame(id, '{}'));
      return;
    }
    // The first subscriber subscribes the backend; if the backend refuses, nobody is subscribed.
    this.#forward(session, id, server, method, params, uri, out, (ok) => {
      if (ok) return;
      subscribers.delete(session.id);
      session.subscriptions.delete(uri);
      if (subscribers.size === 0) this.#subscribers.delete(uri);
    });
  }

  #unsubscribe(session: Session, uri: string): void {
    const subscribers = this.#subscribers.get(uri);
    if (!subscribers?.delete(session.id) || subscribers.size > 0) return;
    this.#subscribers.delete(uri);
    const server = this.#catalog.resourceServer(uri);
    if (server === undefined) return;
    this.#shards.call(
      server,
      'resources/unsubscribe',
      { uri },
      uri,
      this.#context(session),
      systemHandlers(),
    );
  }

  #complete(session: Session, id: RequestId, params: JsonObject, out: Responder): void {
    const ref = params['ref'];
    if (!isJsonObject(ref)) {
      out.respond(
        errorFrame(id, rpcError(JsonRpcCode.InvalidParams, 'completion/complete needs params.ref')),
      );
      return;
    }
    if (ref['type'] === 'ref/prompt') {
      const target = this.#catalog.prompt(String(ref['name']));
      if (target === undefined) {
        out.respond(
          errorFrame(
            id,
            rpcError(JsonRpcCode.InvalidParams, `Unknown prompt: ${String(ref['name'])}`),
          ),
        );
        return;
      }
      const forwarded = { ...params, ref: { ...ref, name: target.name } };
      this.#forward(session, id, target.server, 'completion/complete', forwarded, target.name, out);
      return;
    }
    const uri = ref['uri'];
    const server = typeof uri === 'string' ? this.#catalog.templateServer(uri) : undefined;
    if (server === undefined) {
      out.respond(errorFrame(id, resourceNotFound(uri)));
      return;
    }
    this.#forward(session, id, server, 'completion/complete', params, String(uri), out);
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
      const refused = (m: ReplyMessage): void => {
        if (!m.ok)
          log.warn(`server '${server}' refused logging/setLevel ${wanted}: ${m.error.message}`);
      };
      const params = { level: wanted };
      this.#shards.call(
        server,
        'logging/setLevel',
        params,
        wanted,
        systemContext,
        systemHandlers(refused),
      );
    }
  }

  #forward(
    session: Session,
    id: RequestId,
    server: string,
    method: ForwardedMethod,
    params: JsonObject,
    target: string,
    out: Responder,
    /** Learns whether the backend answered with a result (true) or an error. */
    onOutcome?: (ok: boolean) => void,
  ): void {
    const key = requestKey(id);
    // The reply may come synchronously (backend unavailable), before call() returns.
    const call = { id: 0, answered: false, asked: [] as string[] };
    call.id = this.#shards.call(server, method, params, target, this.#context(session), {
      reply: (message) => {
        call.answered = true;
        if (session.calls.get(key) === call.id) session.calls.delete(key);
        for (const asked of call.asked) session.forget(asked);
        onOutcome?.(message.ok);
        out.respond(message.ok ? resultFrame(id, message.result) : errorFrame(id, message.error));
      },
      progress: (progress) => out.notify(notificationFrame('notifications/progress', progress)),
      clientRequest: (requestMethod, requestParams, answer) => {
        const missing = missingCapability(session.clientCapabilities, requestMethod, requestParams);
        if (missing !== undefined) {
          answer({
            ok: false,
            error: rpcError(
              JsonRpcCode.MethodNotFound,
              `The client did not declare the ${missing} capability, so MCP Director does not send it ${requestMethod}`,
            ),
          });
          return;
        }
        // On the stream of the call that caused it, as the spec asks of related requests.
        call.asked.push(session.ask(requestMethod, requestParams, out.notify, answer));
      },
    });
    if (!call.answered) session.calls.set(key, call.id);
  }

  #context(session: Session): { session: string; profile: string; client: string; era: 'legacy' } {
    return {
      session: session.id,
      profile: session.profile,
      client: session.clientName,
      era: 'legacy',
    };
  }
}

const systemContext = { session: '', profile: '', client: 'mcp-director', era: 'legacy' } as const;

/** Handlers for the director's own calls (no client behind them to ask anything). */
function systemHandlers(reply: (message: ReplyMessage) => void = () => undefined): CallHandlers {
  return {
    reply,
    progress: () => undefined,
    clientRequest: (method, _params, answer) =>
      answer({
        ok: false,
        error: rpcError(JsonRpcCode.InternalError, `no client to send ${method} to`),
      }),
  };
}

function resourceNotFound(uri: unknown): WireError {
  return rpcError(JsonRpcCode.ResourceNotFound, `Resource not found: ${String(uri)}`, { uri });
}
