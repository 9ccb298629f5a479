/**
 * The project of a call to a `share: "project"` server (README: Projects). A caller that
 * named its folder has it (session/projects.ts). A session that did not, whose client
 * declared `roots`, is asked `roots/list` once, on the stream of the call that needs it (as
 * a backend's question would be), and the first root that is an allowed folder becomes its
 * project; `notifications/roots/list_changed` makes the next such call ask again. Calls that
 * arrive while the answer is awaited wait for the same answer. Anyone else gets an error
 * that says how to name a project.
 */
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { ClientOutcome } from '../../shared/messages.js';
import type { ProjectDecision, Projects } from '../session/projects.js';
import { Session } from '../session/sessions.js';
import type { ClientLeg } from './call.js';

/** How long a client may take to answer `roots/list` before the call is refused. */
const ROOTS_TIMEOUT_MS = 10_000;

/** The caller's project, or why it has none (words for the refusal). */
export type ProjectOutcome = { ok: true } | { ok: false; why: string | undefined };

export class ProjectLookup {
  readonly #projects: Projects;
  /** Sessions whose client is being asked for its roots, with the calls waiting for them. */
  readonly #asking = new WeakMap<Session, Array<(outcome: ProjectOutcome) => void>>();
  /** Sessions already asked (until their roots change): not asked again per call. */
  readonly #asked = new WeakSet<Session>();

  constructor(projects: Projects) {
    this.#projects = projects;
  }

  /** Calls `then` once the leg's caller has a project, or with why it has none. */
  resolve(leg: ClientLeg, then: (outcome: ProjectOutcome) => void): void {
    const { caller } = leg;
    if (caller.project !== null) return then({ ok: true });
    if (!(caller instanceof Session) || caller.clientCapabilities['roots'] === undefined)
      return then({ ok: false, why: caller.projectRefused });
    if (this.#asked.has(caller)) return then({ ok: false, why: caller.projectRefused });
    const waiting = this.#asking.get(caller);
    if (waiting !== undefined) {
      waiting.push(then);
      return;
    }
    this.#asking.set(caller, [then]);
    this.#ask(caller, leg.out.notify);
  }

  /** The session's client says its roots changed: its next call asks again. */
  rootsChanged(session: Session): void {
    this.#asked.delete(session);
    if (session.projectFromRoots) {
      session.project = null;
      session.projectFromRoots = false;
    }
  }

  #ask(session: Session, send: (frame: string) => void): void {
    let settled = false;
    const settle = (decision: ProjectDecision | { ok: false; reason: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.#asked.add(session);
      const waiting = this.#asking.get(session) ?? [];
      this.#asking.delete(session);
      if (decision.ok) {
        session.project = decision.project;
        session.projectFromRoots = true;
        session.projectRefused = undefined;
      } else {
        session.projectRefused = decision.reason;
      }
      const outcome: ProjectOutcome = decision.ok
        ? { ok: true }
        : { ok: false, why: decision.reason };
      for (const then of waiting) then(outcome);
    };
    const id = session.ask('roots/list', {}, send, (answer) => settle(this.#fromRoots(answer)));
    const timer = setTimeout(() => {
      session.forget(id);
      settle({
        ok: false,
        reason: `the client did not answer roots/list within ${ROOTS_TIMEOUT_MS / 1000} s`,
      });
    }, ROOTS_TIMEOUT_MS);
    timer.unref();
  }

  /** The first root that is an allowed folder; else why none is. */
  #fromRoots(answer: ClientOutcome): ProjectDecision {
    if (!answer.ok) return { ok: false, reason: `roots/list failed: ${answer.error.message}` };
    const roots = (answer.result as JsonObject)['roots'];
    if (!Array.isArray(roots) || roots.length === 0)
      return { ok: false, reason: 'the client lists no roots' };
    let first: ProjectDecision | undefined;
    for (const root of roots) {
      const decision = this.#projects.decideRoot(isJsonObject(root) ? root['uri'] : undefined);
      if (decision.ok) return decision;
      first ??= decision;
    }
    return first as ProjectDecision;
  }
}
