/**
 * Where a backend's notifications go, other than those of one call (progress, a call's log
 * lines: those follow the call). A caller's own instance speaks to the sessions that own it
 * only; a shared backend's log lines go by each session's level, task status to the task's
 * owner, resource updates to the subscribers.
 */
import type { JsonObject, JsonValue } from '../../shared/json.js';
import type { ServerNotificationMessage } from '../../shared/messages.js';
import { logger } from '../../shared/log.js';
import type { ProfileViews } from '../catalog/profile-views.js';
import type { Session, Sessions } from '../session/sessions.js';
import type { LogLevels } from './log-levels.js';
import type { Subscriptions } from './subscriptions.js';
import type { TaskRequests } from './task-requests.js';

const log = logger('dispatch');

export interface ServerNotificationDeps {
  sessions: Sessions;
  views: ProfileViews;
  logLevels: LogLevels;
  tasks: TaskRequests;
  subscriptions: Subscriptions;
}

export class ServerNotifications {
  readonly #deps: ServerNotificationDeps;

  constructor(deps: ServerNotificationDeps) {
    this.#deps = deps;
  }

  deliver(message: ServerNotificationMessage): void {
    const { method, params } = message;
    if (message.session !== undefined) {
      // From a session's own instance: nobody else's business.
      const session = this.#deps.sessions.get(message.session);
      if (session !== undefined) this.#notifyOwn(session, method, params);
      return;
    }
    const { identity, project } = message;
    if ((identity ?? project) !== undefined && method !== 'notifications/tasks/status') {
      // From an identity's or a project's own instance: for its sessions that see the server.
      for (const session of this.#deps.sessions.values()) {
        const owns =
          identity !== undefined ? session.identity === identity : session.project?.dir === project;
        if (
          owns &&
          this.#deps.views.viewOf(session.profile, session.project).hasServer(message.server)
        ) {
          this.#notifyOwn(session, method, params);
        }
      }
      return;
    }
    if (method === 'notifications/message') {
      // Stateless-era clients get logs only on the stream of the request that asked.
      this.#deps.logLevels.deliver(message.server, method, params, stringOf(params['level']));
    } else if (method === 'notifications/tasks/status') {
      this.#deps.tasks.statusChanged(message.server, method, params);
    } else if (method === 'notifications/resources/updated') {
      this.#deps.subscriptions.resourceUpdated(stringOf(params['uri']), method, params);
    } else {
      log.debug(
        `dropped ${method} from server '${message.server}': not forwarded by a shared backend`,
      );
    }
  }

  /** A notification of a caller's own instance, to one session that owns it. */
  #notifyOwn(session: Session, method: string, params: JsonObject): void {
    if (method === 'notifications/message' && !session.wantsLog(stringOf(params['level']))) return;
    if (
      method === 'notifications/resources/updated' &&
      !session.subscriptions.has(stringOf(params['uri']))
    ) {
      return;
    }
    session.notify(method, params);
  }
}

/** A backend's field as a string; a backend is as untrusted as a client, so no `String()`. */
function stringOf(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : '';
}
