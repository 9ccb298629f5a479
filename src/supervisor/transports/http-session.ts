/**
 * The session a session-era request on `/mcp` names, and how `/mcp` refuses one: shared by
 * the endpoint (`streamable-http.ts`), its batches (`batch.ts`) and its GET streams
 * (status codes: docs/architecture.md#status-codes). 400 for a missing `Mcp-Session-Id` or
 * an unsupported `MCP-Protocol-Version`, 404 for an unknown session, 403 for a session of
 * another profile.
 */
import type { RequestId } from '../../shared/json.js';
import type { WireError } from '../../shared/errors.js';
import { rpcError } from '../../shared/errors.js';
import { errorFrame } from '../../shared/jsonrpc.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { Reply } from '../ingress/uws.js';
import type { Grant } from '../ingress/access.js';
import type { Session, Sessions } from '../session/sessions.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from './initialize.js';

/** Session-id errors use the codes the reference SDK uses, so SDK clients react correctly. */
export const NO_SESSION = -32000;
export const UNKNOWN_SESSION = -32001;

/** The request's session, or undefined after answering 400/404 for a missing/unknown one. */
export function sessionOf(
  sessions: Sessions,
  request: IncomingRequest,
  reply: Reply,
  id: RequestId | null,
  grant: Grant,
): Session | undefined {
  const sessionId = request.headers['mcp-session-id'];
  if (sessionId === undefined || sessionId === '') {
    httpError(
      reply,
      400,
      rpcError(
        NO_SESSION,
        'Bad Request: Mcp-Session-Id header is required; send initialize first to get one',
      ),
      {},
      id,
    );
    return undefined;
  }
  const session = sessions.get(sessionId);
  if (session === undefined) {
    const owner = sessions.ownerOf(sessionId);
    httpError(
      reply,
      404,
      rpcError(
        UNKNOWN_SESSION,
        owner === undefined
          ? 'Session not found: it ended or never existed; send initialize to start a new one'
          : `Session not found on this node: it is node '${owner}''s (gone, or the balancer does not keep sessions on their node); send initialize to start a new one`,
      ),
      {},
      id,
    );
    return undefined;
  }
  const changedHands =
    session.profile !== grant.profile
      ? `this session belongs to profile '${session.profile}', and this request is for profile '${grant.profile}'`
      : session.identity !== grant.identity
        ? 'this session was started with another token or sign-in'
        : undefined;
  if (changedHands !== undefined) {
    // Profile and identity come from each request: a session cannot change hands.
    httpError(
      reply,
      403,
      rpcError(
        NO_SESSION,
        `Forbidden: ${changedHands}; send it to the URL and with the token that started the session`,
      ),
      {},
      id,
    );
    return undefined;
  }
  const version = request.headers['mcp-protocol-version'];
  if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    httpError(
      reply,
      400,
      rpcError(
        NO_SESSION,
        `Bad Request: unsupported MCP-Protocol-Version '${version}' (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
      ),
      {},
      id,
    );
    return undefined;
  }
  session.lastSeen = Date.now();
  return session;
}

export function httpError(
  reply: Reply,
  status: number,
  error: WireError,
  headers: Record<string, string> = {},
  id: RequestId | null = null,
): void {
  reply.json(status, errorFrame(id, error), headers);
}
