/**
 * Requests of the stateless revision 2026-07-28 on `/mcp`
 * (https://modelcontextprotocol.io/specification/draft/basic/transports/streamable-http; status
 * codes: docs/architecture.md#status-codes): no session; each request's `_meta` envelope says
 * who the client is and what it can do, and the HTTP headers must agree with the body. Answers
 * are one JSON body, or an SSE stream when progress or log lines may come first;
 * `subscriptions/listen` is a long-lived stream. A client that closes its request's connection
 * has cancelled it.
 *
 * Status codes: 400 for envelope and header problems (-32602, -32020, -32022) and for a
 * missing client capability (-32021); 404 with -32601 for methods this era does not have
 * (`initialize`, `ping`, `logging/setLevel`, `resources/(un)subscribe`, unknown ones).
 */
import { placeOf, type Projects } from '../session/projects.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import {
  META,
  MODERN_BAD_REQUEST_CODES,
  MODERN_PROTOCOL_VERSIONS,
  ModernErrorCode,
} from '../../shared/eras.js';
import type { JsonObject, RequestId } from '../../shared/json.js';
import { idValue, isJsonObject } from '../../shared/json.js';
import { instanceMeta } from '../../shared/instance.js';
import {
  MCP_NAME_FIELD,
  decodeHeaderValue,
  paramHeaderMismatch,
} from '../../shared/header-values.js';
import type { WireError } from '../../shared/errors.js';
import type { Dispatcher } from '../relay/dispatch.js';
import type { Responder } from '../relay/call.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { EventStream, Reply } from '../ingress/uws.js';
import { SSE_HEADERS, sseMessage } from '../ingress/sse.js';
import { DIRECTOR_CAPABILITIES, type ServerIdentity } from './initialize.js';
import { errorFrame, notificationFrame, resultFrame } from '../../shared/jsonrpc.js';
import { LIST_METHODS } from '../catalog/catalog.js';
import type { ProfileView } from '../catalog/profile-view.js';
import type { ProfileViews } from '../catalog/profile-views.js';
import type { Grant } from '../ingress/access.js';
import { isDirectorState } from '../session/request-state.js';
import { isRelayed, relayToNode } from './node-relay.js';
import { Listener, honouredFilter } from '../session/listeners.js';
import { LOG_LEVELS, logLevelRank, type Caller, type LogLevel } from '../session/sessions.js';

/** Methods of 2026-07-28 the director serves; everything else is 404 + -32601. */
const FORWARDED = new Set(['tools/call', 'prompts/get', 'resources/read', 'completion/complete']);

export interface ModernRequest {
  id: RequestId;
  method: string;
  params: JsonObject;
}

export interface StreamTracker {
  /** Keeps a long-lived stream alive with comments until it closes. */
  track(stream: EventStream): void;
}

let nextCaller = 1;

/** This daemon among its peers, as far as a stateless request needs it. */
export interface RetryOwners {
  /** This node's id; null for a daemon alone. */
  readonly node: string | null;
  /** The base URL of the node holding the call a `requestState` continues, if another's. */
  ownerUrlOf(state: string): string | undefined;
}

export interface ModernOptions extends ServerIdentity {
  cluster: RetryOwners;
  /** Which folders may be projects (README: Projects). */
  projects: Projects;
}

export class ModernEndpoint {
  readonly #dispatcher: Dispatcher;
  readonly #views: ProfileViews;
  readonly #identity: ModernOptions;
  readonly #streams: StreamTracker;

  constructor(
    dispatcher: Dispatcher,
    views: ProfileViews,
    identity: ModernOptions,
    streams: StreamTracker,
  ) {
    this.#dispatcher = dispatcher;
    this.#views = views;
    this.#identity = identity;
    this.#streams = streams;
  }

  handle(
    request: IncomingRequest,
    reply: Reply,
    message: ModernRequest,
    accept: { json: boolean; sse: boolean },
    grant: Grant,
  ): void {
    const { profile, identity } = grant;
    const { id, method, params } = message;
    const invalid = checkEnvelope(request.headers, method, params);
    if (invalid !== undefined) {
      reply.json(400, errorFrame(id, invalid));
      return;
    }
    // Each request names its own project (header or URL), as it names everything else.
    const place = placeOf(this.#identity.projects, request.headers, request.query);
    if (!place.ok) {
      reply.json(
        403,
        errorFrame(id, rpcError(JsonRpcCode.InvalidRequest, `Forbidden: ${place.reason}`)),
      );
      return;
    }
    const view = this.#views.viewOf(profile, place.project);
    const paramMismatch = checkParamHeaders(request.headers, method, params, view);
    if (paramMismatch !== undefined) {
      reply.json(400, errorFrame(id, mismatch(paramMismatch)));
      return;
    }
    const state = params['requestState'];
    if (isDirectorState(state) && !isRelayed(request)) {
      // A retry of a call parked on another node goes to that node (node-relay.ts).
      const baseUrl = this.#identity.cluster.ownerUrlOf(state);
      const via = this.#identity.cluster.node;
      if (baseUrl !== undefined && via !== null) {
        relayToNode(request, reply, { baseUrl, via }, (why) =>
          reply.json(
            200,
            errorFrame(
              id,
              rpcError(
                JsonRpcCode.InvalidParams,
                `Invalid requestState: the node holding the request it continues cannot be reached (${why}); send the request again without requestState and inputResponses`,
              ),
            ),
          ),
        );
        return;
      }
    }
    const meta = params['_meta'] as JsonObject;
    const clientInfo = meta[META.clientInfo];
    const logLevel = meta[META.logLevel];
    const caller: Caller = {
      era: 'modern',
      id: `modern:${nextCaller++}`,
      profile,
      identity,
      project: place.project,
      projectRefused: place.refused,
      clientName:
        isJsonObject(clientInfo) && typeof clientInfo['name'] === 'string'
          ? clientInfo['name']
          : '',
      clientCapabilities: meta[META.clientCapabilities] as JsonObject,
      logLevel: typeof logLevel === 'string' ? (logLevel as LogLevel) : undefined,
      calls: new Map(),
      forwarded: 0,
    };
    if (method === 'server/discover') {
      reply.json(200, resultFrame(id, JSON.stringify(this.#discover(profile))));
      return;
    }
    if (method === 'subscriptions/listen') {
      this.#listen(reply, id, params, accept, profile);
      return;
    }
    if (!LIST_METHODS.has(method) && !FORWARDED.has(method)) {
      reply.json(
        404,
        errorFrame(
          id,
          rpcError(
            JsonRpcCode.MethodNotFound,
            `Method not found: ${method} is not a method of protocol version 2026-07-28`,
          ),
        ),
      );
      return;
    }
    const streamed =
      accept.sse &&
      (!accept.json || meta['progressToken'] !== undefined || caller.logLevel !== undefined);
    const out = streamed ? this.#streamResponder(reply, caller) : jsonResponder(reply);
    reply.onAbort(() => this.#dispatcher.abandoned(caller));
    this.#dispatcher.request(caller, id, method, params, out);
  }

  #discover(profile: string): JsonObject {
    const result: JsonObject = {
      resultType: 'complete',
      supportedVersions: [...MODERN_PROTOCOL_VERSIONS],
      capabilities: DIRECTOR_CAPABILITIES,
      // Capabilities are fixed; instructions follow the backends, so no caching.
      ttlMs: 0,
      cacheScope: 'public',
      _meta: {
        [META.serverInfo]: this.#identity.serverInfo,
        ...instanceMeta(this.#identity.instance),
      },
    };
    const instructions = this.#identity.instructions(profile);
    if (instructions !== undefined) result['instructions'] = instructions;
    return result;
  }

  #listen(
    reply: Reply,
    id: RequestId,
    params: JsonObject,
    accept: { json: boolean; sse: boolean },
    profile: string,
  ): void {
    if (!accept.sse) {
      reply.json(
        406,
        errorFrame(
          id,
          rpcError(
            JsonRpcCode.InvalidRequest,
            'Not Acceptable: subscriptions/listen answers with a stream; send Accept: text/event-stream',
          ),
        ),
      );
      return;
    }
    const requested = isJsonObject(params['notifications']) ? params['notifications'] : {};
    const filter = honouredFilter(
      requested,
      (uri) => this.#views.viewOf(profile).resourceServer(uri) !== undefined,
    );
    const stream = reply.stream(SSE_HEADERS);
    const listener = new Listener(id, filter, (frame) => stream.write(sseMessage(frame)), profile);
    // The acknowledgment comes first, before anything the dispatcher may send.
    stream.write(
      sseMessage(
        notificationFrame('notifications/subscriptions/acknowledged', {
          _meta: { [META.subscriptionId]: idValue(id) },
          notifications: filter as JsonObject,
        }),
      ),
    );
    this.#dispatcher.listen(listener);
    this.#streams.track(stream);
    stream.onClose(() => this.#dispatcher.unlisten(listener));
  }

  /** An SSE answer: progress and log lines, then the response; a dropped stream cancels. */
  #streamResponder(reply: Reply, caller: Caller): Responder {
    const stream = reply.stream(SSE_HEADERS);
    let done = false;
    stream.onClose(() => {
      if (!done) this.#dispatcher.abandoned(caller);
    });
    return {
      respond: (frame) => {
        done = true;
        stream.end(sseMessage(frame));
      },
      notify: (frame) => stream.write(sseMessage(frame)),
    };
  }
}

/** A JSON answer whose HTTP status follows the error it carries (see the module comment). */
function jsonResponder(reply: Reply): Responder {
  return {
    respond: (frame) => reply.json(statusOf(frame), frame),
    // Without a stream there is nowhere to put a notification; clients that want progress
    // or logs accept SSE, and get it.
    notify: () => undefined,
  };
}

function statusOf(frame: string): number {
  if (!frame.includes('"error"')) return 200;
  const error = (JSON.parse(frame) as { error?: WireError }).error;
  if (error === undefined) return 200;
  return MODERN_BAD_REQUEST_CODES.has(error.code) ? 400 : 200;
}

/**
 * The envelope and header rules of a stateless request, in the order the spec's checks
 * imply: header/body agreement first (-32020), then the version (-32022), then the
 * required `_meta` members (-32602).
 */
function checkEnvelope(
  headers: Record<string, string>,
  method: string,
  params: JsonObject,
): WireError | undefined {
  const meta = params['_meta'] as JsonObject;
  const version = meta[META.protocolVersion];
  const headerVersion = headers['mcp-protocol-version'];
  if (headerVersion === undefined) {
    return mismatch(
      `the MCP-Protocol-Version header is required and must equal _meta["${META.protocolVersion}"]`,
    );
  }
  if (headerVersion !== version) {
    return mismatch(
      `the MCP-Protocol-Version header '${headerVersion}' does not match _meta["${META.protocolVersion}"] ${JSON.stringify(version)}`,
    );
  }
  if (typeof version !== 'string' || !MODERN_PROTOCOL_VERSIONS.includes(version)) {
    return rpcError(
      ModernErrorCode.UnsupportedProtocolVersion,
      `Unsupported protocol version ${JSON.stringify(version)}: this server speaks ${MODERN_PROTOCOL_VERSIONS.join(', ')} (or 2025-11-25 and older through initialize)`,
      { supported: [...MODERN_PROTOCOL_VERSIONS], requested: version },
    );
  }
  const headerMethod = headers['mcp-method'];
  if (headerMethod !== method) {
    return mismatch(
      headerMethod === undefined
        ? `the Mcp-Method header is required and must equal the body's method '${method}'`
        : `the Mcp-Method header '${headerMethod}' does not match the body's method '${method}'`,
    );
  }
  const field = MCP_NAME_FIELD.get(method);
  const bodyName = field === undefined ? undefined : params[field];
  // A body name that is not a string is the dispatcher's -32602 naming the field.
  if (field !== undefined && typeof bodyName === 'string') {
    const headerName = headers['mcp-name'];
    if (headerName === undefined || decodeHeaderValue(headerName) !== bodyName) {
      return mismatch(
        headerName === undefined
          ? `the Mcp-Name header is required for ${method} and must equal params.${field}`
          : `the Mcp-Name header '${headerName}' does not match params.${field} ${JSON.stringify(bodyName)}`,
      );
    }
  }
  if (!isJsonObject(meta[META.clientCapabilities])) {
    return rpcError(
      JsonRpcCode.InvalidParams,
      `Invalid params: _meta["${META.clientCapabilities}"] is required and must be an object (use {} to declare none)`,
    );
  }
  const logLevel = meta[META.logLevel];
  if (logLevel !== undefined && (typeof logLevel !== 'string' || logLevelRank(logLevel) < 0)) {
    return rpcError(
      JsonRpcCode.InvalidParams,
      `Invalid params: _meta["${META.logLevel}"] ${JSON.stringify(logLevel)} is not a log level (expected one of ${LOG_LEVELS.join(', ')})`,
    );
  }
  return undefined;
}

function mismatch(detail: string): WireError {
  return rpcError(ModernErrorCode.HeaderMismatch, `Header mismatch: ${detail}`);
}

/** The `Mcp-Param-*` headers a tool's `x-mcp-header` parameters require. */
function checkParamHeaders(
  headers: Record<string, string>,
  method: string,
  params: JsonObject,
  view: ProfileView,
): string | undefined {
  const name = params['name'];
  // A name that is not a string is refused by the dispatcher, naming the field.
  if (method !== 'tools/call' || typeof name !== 'string') return undefined;
  const expected = view.tool(name)?.paramHeaders;
  if (expected === undefined) return undefined;
  const args = isJsonObject(params['arguments']) ? params['arguments'] : {};
  return paramHeaderMismatch(expected, args, headers);
}
