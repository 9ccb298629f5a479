/**
 * The project of a call to a `share: "project"` server, or of a list when some project has
 * servers of its own (README: Projects). A caller that
 * named its folder has it (session/projects.ts), checked again against the config in force
 * (a reload may have narrowed `projectRoots`). A session that did not, whose client declared
 * `roots`, is asked `roots/list` on the stream of the call that needs it (as a backend's
 * question would be); the first root that is an allowed folder becomes its project, else the
 * folder `connect` runs in, if allowed. Calls that arrive while the answer is awaited wait
 * for the same answer. A client is asked once until it says its roots changed; one that did
 * not answer in time is asked again by its next call. Anyone else gets an error that says how
 * to name a project. A session whose project changes here is reported (`moved`): the project
 * may have servers of its own, which its client must then list.
 */
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { ClientOutcome } from '../../shared/messages.js';
import type { Project, ProjectDecision, Projects } from '../session/projects.js';
import { Session } from '../session/sessions.js';
import type { ClientLeg } from './call.js';

/** How long a client may take to answer `roots/list` before the call is refused. */
const ROOTS_TIMEOUT_MS = 10_000;
/** Roots looked at, at most: each is a folder to check on disk. */
const MAX_ROOTS = 32;

/** The caller's project, or why it has none (words for the refusal). */
export type ProjectOutcome = { ok: true } | { ok: false; why: string | undefined };

export class ProjectLookup {
  readonly #projects: Projects;
  /** Sessions whose client is being asked for its roots, with the calls waiting for them. */
  readonly #asking = new WeakMap<Session, Array<(outcome: ProjectOutcome) => void>>();
  /** Sessions whose client answered (until their roots change): not asked again per call. */
  readonly #answered = new WeakSet<Session>();
  /** Roots changes per session: an answer to an older question is not kept. */
  readonly #changes = new WeakMap<Session, number>();

  /** Told when a session's project changed here, with the one it had. */
  readonly #moved: (session: Session, from: Project | null) => void;

  constructor(projects: Projects, moved: (session: Session, from: Project | null) => void) {
    this.#projects = projects;
    this.#moved = moved;
  }

  /** Calls `then` once the leg's caller has a project, or with why it has none. */
  resolve(leg: ClientLeg, then: (outcome: ProjectOutcome) => void): void {
    const { caller } = leg;
    if (caller.project !== null) {
      const still = this.#projects.decide(caller.project.dir);
      return then(still.ok ? { ok: true } : { ok: false, why: still.reason });
    }
    if (!(caller instanceof Session) || caller.clientCapabilities['roots'] === undefined)
      return then({ ok: false, why: caller.projectRefused });
    if (this.#answered.has(caller)) return then({ ok: false, why: caller.projectRefused });
    const waiting = this.#asking.get(caller);
    if (waiting !== undefined) {
      waiting.push(then);
      return;
    }
    this.#asking.set(caller, [then]);
    this.#ask(caller, leg.out.notify);
  }

  /** Whether `resolve` would ask the caller's client for its roots (or wait for its answer). */
  wouldAsk(caller: ClientLeg['caller']): boolean {
    return (
      caller.project === null &&
      caller instanceof Session &&
      caller.clientCapabilities['roots'] !== undefined &&
      !this.#answered.has(caller)
    );
  }

  /** The session's client says its roots changed: its next call asks again. */
  rootsChanged(session: Session): void {
    this.#changes.set(session, (this.#changes.get(session) ?? 0) + 1);
    this.#answered.delete(session);
    if (session.projectFromRoots) {
      session.project = null;
      session.projectFromRoots = false;
    }
  }

  #ask(session: Session, send: (frame: string) => void): void {
    const asked = this.#changes.get(session) ?? 0;
    let settled = false;
    const settle = (decision: ProjectDecision, answered: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const waiting = this.#asking.get(session) ?? [];
      this.#asking.delete(session);
      // Roots that changed meanwhile make this answer stale: the next call asks again.
      const current = (this.#changes.get(session) ?? 0) === asked;
      if (answered && current) this.#answered.add(session);
      const fallback = session.projectFallback;
      const from = session.project;
      if (decision.ok && current) {
        session.project = decision.project;
        session.projectFromRoots = true;
        session.projectRefused = undefined;
      } else if (!decision.ok && fallback !== null && this.#projects.decide(fallback.dir).ok) {
        session.project = fallback;
      } else if (!decision.ok) {
        session.projectRefused = decision.reason;
      }
      if (session.project?.dir !== from?.dir) this.#moved(session, from);
      const outcome: ProjectOutcome =
        session.project !== null ? { ok: true } : { ok: false, why: session.projectRefused };
      for (const then of waiting) then(outcome);
    };
    const id = session.ask('roots/list', {}, send, (answer) =>
      settle(this.#fromRoots(answer), true),
    );
    const timer = setTimeout(() => {
      session.forget(id);
      const reason = `the client did not answer roots/list within ${ROOTS_TIMEOUT_MS / 1000} s`;
      settle({ ok: false, reason }, false);
    }, ROOTS_TIMEOUT_MS);
    timer.unref();
  }

  /** The first root that is an allowed folder; else why none is. */
  #fromRoots(answer: ClientOutcome): ProjectDecision {
    if (!answer.ok) {
      const said = String(answer.error.message).slice(0, 200);
      return { ok: false, reason: `roots/list failed: ${said}` };
    }
    const roots = (answer.result as JsonObject)['roots'];
    if (!Array.isArray(roots) || roots.length === 0)
      return { ok: false, reason: 'the client lists no roots' };
    let first: ProjectDecision | undefined;
    for (const root of roots.slice(0, MAX_ROOTS)) {
      const decision = this.#projects.decideRoot(isJsonObject(root) ? root['uri'] : undefined);
      if (decision.ok) return decision;
      first ??= decision;
    }
    return first as ProjectDecision;
  }
}
