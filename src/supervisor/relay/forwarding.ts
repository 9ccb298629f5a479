/**
 * One forwarded request from the client's call to its answer, across the eras
 * (docs/architecture.md#bridging-the-eras). The plain case is one call and one reply; the
 * others:
 *
 * - legacy client, legacy backend: the backend's sampling/elicitation/roots request goes
 *   to the client on the call's stream, its answer back to the backend.
 * - legacy client, stateless backend: the backend answers `input_required`; each of its
 *   `inputRequests` is sent to the client as a real request, and the call is sent again
 *   with the answers (`inputResponses`) and the backend's `requestState`, up to
 *   MAX_ROUNDS times (`input-requests.ts`).
 * - stateless client, legacy backend: the backend's request cannot reach a client that
 *   takes no requests, so the call is parked (`parked-calls.ts`): the client gets
 *   `input_required` with the question and a sealed `requestState`, and its retry resumes
 *   the call.
 * - stateless client, stateless backend: `input_required` passes through untouched and
 *   the retry is forwarded like any call (the tool name routes it to the same backend).
 */
import type { ReadonlyOwnInstances } from './own-instances.js';
import type { RelayDeps } from './relay-deps.js';
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type {
  CallContext,
  ClientOutcome,
  ForwardedMethod,
  ReplyMessage,
} from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';
import { DirectorErrorCode, JsonRpcCode, directorError, rpcError } from '../../shared/errors.js';
import { INPUT_REQUIRED, ModernErrorCode } from '../../shared/eras.js';
import type { Catalog } from '../catalog/catalog.js';
import type { ShardPool } from '../pool/shard-pool.js';
import { Session, requestKey, type Caller } from '../session/sessions.js';
import { missingCapability } from '../session/client-capabilities.js';
import { errorFrame, notificationFrame, resultFrame } from '../../shared/jsonrpc.js';
import { errorForEra, legacyResult, modernResult } from './result-shapes.js';
import { isDirectorState } from '../session/request-state.js';
import { carriesTaskIds, exposeTaskIds } from './tasks.js';
import { ParkedCalls } from './parked-calls.js';
import { fulfilInputRequests } from './input-requests.js';
import { ProjectLookup } from './project-lookup.js';
import type { Call, ClientLeg, Forwarded } from './call.js';

/** Task owners remembered (for status notifications); the oldest are forgotten first. */
const MAX_TASK_OWNERS = 10_000;

export class Forwarding {
  readonly #catalog: Catalog;
  readonly #ownInstances: ReadonlyOwnInstances;
  readonly #shards: ShardPool;
  readonly #serverInfo: JsonObject;
  /** Calls of stateless clients waiting for them to answer a legacy backend's question. */
  readonly #parked: ParkedCalls;
  /** Exposed task id → the caller whose call created it. */
  readonly #taskOwners = new Map<string, Caller>();
  /** The projects of callers of per-project servers (project-lookup.ts). */
  readonly #projectLookup: ProjectLookup;

  constructor(deps: RelayDeps) {
    const { catalog, shards, serverInfo } = deps;
    this.#ownInstances = deps.ownInstances;
    this.#catalog = catalog;
    this.#shards = shards;
    this.#serverInfo = serverInfo;
    const owner = {
      replied: (call: Call, message: ReplyMessage) => this.#replied(call, message),
      release: (call: Call, leg: ClientLeg) => this.#release(call, leg),
    };
    this.#parked = new ParkedCalls(shards, serverInfo, owner, deps.sealer);
    // A project learnt from roots may bring servers of its own: the client is told to list.
    this.#projectLookup = new ProjectLookup(deps.projects, (session, from) => {
      const { views } = deps;
      if (views.viewOf(session.profile, from) === views.viewOf(session.profile, session.project))
        return;
      for (const kind of ['tools', 'prompts', 'resources'])
        session.notify(`notifications/${kind}/list_changed`);
    });
  }

  /**
   * The session's client says its roots changed: a project taken from them is dropped (the
   * next call asks again), and the client hears that its tools may be other ones now.
   */
  rootsChanged(session: Session): void {
    const had = session.projectFromRoots;
    this.#projectLookup.rootsChanged(session);
    if (had) session.notify('notifications/tools/list_changed');
  }

  /** "Resource not found" in the caller's era (docs/architecture.md#results-and-errors-by-era). */
  notFound(caller: Caller, uri: unknown): WireError {
    return errorForEra(
      rpcError(JsonRpcCode.ResourceNotFound, `Resource not found: ${String(uri)}`, { uri }),
      'resources/read',
      caller.era,
    );
  }

  /**
   * Whether a list request of `caller` waits for its project first: some project has servers
   * of its own, and the client names its folder only in its roots, which it was not asked yet.
   */
  listsAfterProject(caller: Caller): boolean {
    return this.#catalog.hasProjectServers && this.#projectLookup.wouldAsk(caller);
  }

  /** Asks the leg's client for its roots (`listsAfterProject`), then calls `then` either way. */
  lookUpProject(leg: ClientLeg, then: () => void): void {
    this.#projectLookup.resolve(leg, () => then());
  }

  /**
   * Forwards one request of the client's (`leg`) to its backend; `round` counts the
   * `input_required` rounds a legacy client was walked through so far.
   */
  start(leg: ClientLeg, forwarded: Forwarded, round = 0): void {
    if (this.#ownInstances.get(forwarded.server) !== 'project')
      return this.#forward(leg, forwarded, round);
    // A per-project server: the caller's project first (project-lookup.ts), which may take a
    // question to the client; meanwhile the request is marked in flight, so that the client
    // can cancel it (the answer then goes nowhere).
    const { caller } = leg;
    const key = requestKey(leg.id);
    const asking = caller.project === null;
    if (asking) caller.calls.set(key, WAITING_FOR_PROJECT);
    this.#projectLookup.resolve(leg, (outcome) => {
      if (asking) {
        if (caller.calls.get(key) !== WAITING_FOR_PROJECT) return; // cancelled meanwhile
        caller.calls.delete(key);
      }
      if (outcome.ok) return this.#forward(leg, forwarded, round);
      const refusal = needsProject(forwarded.server, outcome.why);
      leg.out.respond(errorFrame(leg.id, errorForEra(refusal, forwarded.method, caller.era)));
    });
  }

  /** `start`, once the call's owner is known. */
  #forward(leg: ClientLeg, forwarded: Forwarded, round: number): void {
    const { caller } = leg;
    const { server, method, params, target } = forwarded;
    const sharing = this.#ownInstances.get(server);
    if (caller.identity === null && sharing === 'identity') {
      // Its instances act as their callers: without an identity there is nobody to act as.
      const refusal = directorError(
        DirectorErrorCode.BackendUnavailable,
        `Server '${server}' acts as each caller's own account ("share": "identity"), and this request has no identity: send one of the daemon's tokens (or sign in to it as a user)`,
        { server, state: 'needs-identity' },
      );
      leg.out.respond(errorFrame(leg.id, errorForEra(refusal, method, caller.era)));
      return;
    }
    const backendEra = this.#catalog.backend(server)?.era ?? 'legacy';
    if (
      caller.era === 'modern' &&
      backendEra === 'legacy' &&
      isDirectorState(params['requestState'])
    ) {
      this.#parked.resume(leg, method, params);
      return;
    }
    const call: Call = { callId: 0, server, method, params, target, backendEra, leg, round };
    const key = requestKey(leg.id);
    let replied = false;
    // The pool registers the call and says where it goes; posting it here keeps the pool off
    // the call's path (docs/architecture.md#call-path).
    // Spelled out rather than spread from `forwarded`: one object shape for every call.
    const admitted = this.#shards.admit(
      {
        server,
        method,
        params,
        target,
        context: contextOf(caller),
        clientCapabilities: caller.clientCapabilities,
        // A legacy client that never set a level gets everything, as from a legacy server.
        logLevel: caller.logLevel ?? (caller.era === 'legacy' ? 'debug' : undefined),
      },
      {
        reply: (message) => {
          replied = true;
          this.#replied(call, message);
        },
        notification: (notificationMethod, notificationParams) =>
          call.leg?.out.notify(notificationFrame(notificationMethod, notificationParams)),
        clientRequest: (requestMethod, requestParams, answer) =>
          this.#clientRequest(call, requestMethod, requestParams, answer),
      },
    );
    call.callId = admitted.callId;
    caller.forwarded++;
    // The reply may come synchronously (backend unavailable), before admit() returns.
    if (!replied) caller.calls.set(key, call.callId);
    admitted.link?.send(admitted.message);
  }

  /**
   * One call made for a caller whose raw reply the director combines itself (tasks/list
   * across backends): nothing is asked of the client and nothing is streamed to it.
   */
  collect(
    caller: Caller,
    server: string,
    method: ForwardedMethod,
    params: JsonObject,
    reply: (message: ReplyMessage) => void,
  ): void {
    this.#shards.route(
      { server, method, params, target: method, context: contextOf(caller) },
      {
        reply,
        notification: () => undefined,
        clientRequest: (requestMethod, _params, answer) =>
          answer({
            ok: false,
            error: rpcError(JsonRpcCode.InternalError, `${method} cannot send ${requestMethod}`),
          }),
      },
    );
  }

  /** Who created a task (its status notifications go to that client only). */
  taskOwner(exposedTaskId: string): Caller | undefined {
    return this.#taskOwners.get(exposedTaskId);
  }

  /** A stateless client's request went away: its calls are cancelled upstream. */
  abandoned(caller: Caller): void {
    for (const callId of caller.calls.values()) {
      this.#shards.cancel(callId, 'the client closed the request');
      this.#parked.abandoned(callId);
    }
    caller.calls.clear();
  }

  #replied(call: Call, message: ReplyMessage): void {
    const leg = call.leg;
    if (leg === null) {
      // Parked: the client's retry collects it.
      if (call.parked !== undefined) call.parked.outcome = message;
      return;
    }
    this.#release(call, leg);
    if (call.parked !== undefined) this.#parked.ended(call, call.parked);
    this.#deliver(call, leg, message);
  }

  #deliver(call: Call, leg: ClientLeg, reply: ReplyMessage): void {
    const { caller, id, out } = leg;
    if (!reply.ok) {
      out.respond(errorFrame(id, errorForEra(reply.error, call.method, caller.era)));
      return;
    }
    const message = carriesTaskIds(call.method, call.params)
      ? this.#tasks(call, caller, reply)
      : reply;
    if (caller.era === 'modern') {
      out.respond(
        resultFrame(id, modernResult(message.result, call.method, this.#serverInfo).json),
      );
      return;
    }
    if (call.backendEra === 'legacy') {
      out.respond(resultFrame(id, message.result)); // the hot path: nothing parsed
      return;
    }
    const result = JSON.parse(message.result) as JsonObject;
    if (result['resultType'] === INPUT_REQUIRED) {
      fulfilInputRequests(call, leg, result, (forwarded, round) =>
        this.start({ caller: leg.caller, id: leg.id, out: leg.out }, forwarded, round),
      );
    } else out.respond(resultFrame(id, legacyResult(result)));
  }

  /** The reply with the backend's task ids exposed; a new task remembers its owner. */
  #tasks(
    call: Call,
    caller: Caller,
    reply: ReplyMessage & { ok: true },
  ): ReplyMessage & { ok: true } {
    const result = exposeTaskIds(JSON.parse(reply.result) as JsonObject, call.server);
    const task = result['task'];
    if (call.method === 'tools/call' && isJsonObject(task) && typeof task['taskId'] === 'string') {
      this.#taskOwners.set(task['taskId'], caller);
      if (this.#taskOwners.size > MAX_TASK_OWNERS) {
        const oldest = this.#taskOwners.keys().next().value;
        if (oldest !== undefined) this.#taskOwners.delete(oldest);
      }
    }
    return { ...reply, result: JSON.stringify(result) };
  }

  #release(call: Call, leg: ClientLeg): void {
    const key = requestKey(leg.id);
    if (leg.caller.calls.get(key) === call.callId) leg.caller.calls.delete(key);
  }

  // ───────────────────── legacy backend asks (server-to-client request) ─────────────────────

  #clientRequest(
    call: Call,
    method: string,
    params: JsonObject,
    answer: (outcome: ClientOutcome) => void,
  ): void {
    const leg = call.leg;
    if (leg === null) {
      // Asked again while the client is away: the retry will be asked this too.
      this.#parked.park(call, method, params, answer);
      return;
    }
    const missing = missingCapability(leg.caller.clientCapabilities, method, params);
    if (missing !== undefined) {
      answer({
        ok: false,
        error: rpcError(
          JsonRpcCode.MethodNotFound,
          `The client did not declare the ${missing} capability, so MCP Director does not send it ${method}`,
        ),
      });
      if (leg.caller.era === 'modern') {
        // The stateless way to say so: the request needs a capability the client lacks.
        this.#shards.cancel(call.callId, `the client lacks the ${missing} capability`);
        this.#release(call, leg);
        leg.out.respond(
          errorFrame(
            leg.id,
            rpcError(
              ModernErrorCode.MissingRequiredClientCapability,
              `This request needs the client capability '${missing}' (the server sent ${method}); declare it in _meta["io.modelcontextprotocol/clientCapabilities"]`,
              { requiredCapabilities: { [missing.split('.')[0] as string]: {} } },
            ),
          ),
        );
      }
      return;
    }
    if (leg.caller instanceof Session) {
      // On the stream of the call that caused it, as the spec asks of related requests.
      leg.caller.ask(method, params, leg.out.notify, answer);
      return;
    }
    this.#parked.park(call, method, params, answer);
  }
}

function contextOf(caller: Caller): CallContext {
  return {
    session: caller.id,
    profile: caller.profile,
    client: caller.clientName,
    era: caller.era,
    identity: caller.identity ?? '', // a caller without one never reaches such a server
    project: caller.project?.dir ?? '',
    projectName: caller.project?.name ?? '',
  };
}

/** The call id a request has while its project is being asked for (no call exists yet). */
const WAITING_FOR_PROJECT = -1;

/** A call of a per-project server whose caller names no project: how to name one. */
function needsProject(server: string, why: string | undefined): WireError {
  return directorError(
    DirectorErrorCode.BackendUnavailable,
    `Server '${server}' runs one instance per project ("share": "project"), and this request has no project${why === undefined ? '' : ` (${why})`}: start \`mcp-director connect --project DIR\`, send the X-Project-Dir header (or ?project=DIR on the URL), or declare the project folder as an MCP root`,
    { server, state: 'needs-project' },
  );
}
