/**
 * Calls the director makes of its own accord (subscribing a backend to a resource, setting a
 * backend's log level): no client is behind them, so a backend's question gets an error.
 */
import type { JsonObject } from '../../shared/json.js';
import type { ForwardedMethod, ReplyMessage } from '../../shared/messages.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import type { ShardPool } from '../pool/shard-pool.js';
import type { CallHandlers } from '../pool/pending.js';
import type { Project } from '../session/projects.js';

/** Whose own instance a call of the director's goes to (own-instances.ts). */
export interface InstanceOwner {
  identity?: string;
  project?: Project;
}

const SYSTEM_CONTEXT = {
  session: '',
  profile: '',
  client: 'mcp-director',
  era: 'legacy',
  identity: '',
  project: '',
  projectName: '',
} as const;

/** A call of the director's own, with no client behind it to ask anything. */
export function systemCall(
  shards: ShardPool,
  server: string,
  method: ForwardedMethod,
  params: JsonObject,
  target: string,
  reply: (message: ReplyMessage) => void = () => undefined,
  /** For an identity's or a project's own instance; none: the server's shared one. */
  owner: InstanceOwner = {},
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
  const { identity, project } = owner;
  const context =
    identity === undefined && project === undefined
      ? SYSTEM_CONTEXT
      : {
          ...SYSTEM_CONTEXT,
          identity: identity ?? '',
          project: project?.dir ?? '',
          projectName: project?.name ?? '',
        };
  shards.route({ server, method, params, target, context }, handlers);
}
