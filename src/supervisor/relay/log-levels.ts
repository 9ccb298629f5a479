/**
 * Log levels of session-era clients (`logging/setLevel`). Backends are shared, so each is set
 * to the most verbose level any session asked for, and every session's own level is applied
 * when a backend's `notifications/message` is delivered. Stateless-era clients name their
 * level per request and get logs only on that request's stream (`forwarding.ts`).
 */
import type { JsonObject, RequestId } from '../../shared/json.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';
import type { Catalog } from '../catalog/catalog.js';
import type { ProfileViews } from '../catalog/profile-views.js';
import type { ShardPool } from '../pool/shard-pool.js';
import type { Session, Sessions } from '../session/sessions.js';
import { LOG_LEVELS, logLevelRank } from '../session/sessions.js';
import { errorFrame, resultFrame } from '../../shared/jsonrpc.js';
import type { Responder } from './call.js';
import { systemCall } from './system-calls.js';

const log = logger('dispatch');

export class LogLevels {
  readonly #catalog: Catalog;
  readonly #views: ProfileViews;
  readonly #shards: ShardPool;
  readonly #sessions: Sessions;
  /** The level last sent to the backends: the most verbose any session asked for. */
  #backendLogLevel: string | undefined;

  constructor(catalog: Catalog, views: ProfileViews, shards: ShardPool, sessions: Sessions) {
    this.#catalog = catalog;
    this.#views = views;
    this.#shards = shards;
    this.#sessions = sessions;
  }

  /** `logging/setLevel` of a session. */
  setLevel(session: Session, id: RequestId, params: JsonObject, out: Responder): void {
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
    this.apply();
    out.respond(resultFrame(id, '{}'));
  }

  /** A shared backend's log message: to every session that sees the server and wants it. */
  deliver(server: string, method: string, params: JsonObject, level: string): void {
    for (const session of this.#sessions.values()) {
      const sees = this.#views.viewOf(session.profile, session.project).hasServer(server);
      if (sees && session.wantsLog(level)) session.notify(method, params);
    }
  }

  /**
   * Sets the backends to the most verbose level any session asked for (again after a
   * session ended or changed its level); nothing is sent when that level did not change.
   */
  apply(): void {
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
      systemCall(this.#shards, server, 'logging/setLevel', { level: wanted }, wanted, (m) => {
        if (!m.ok)
          log.warn(`server '${server}' refused logging/setLevel ${wanted}: ${m.error.message}`);
      });
    }
  }
}
