/**
 * The `initialize` handshake of the session revisions, shared by the HTTP endpoint and the
 * stdio mode: version negotiation, the session, and the router's own capabilities.
 */
import type { Project } from '../session/projects.js';
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import { instanceMeta } from '../../shared/instance.js';
import { Session, type SessionTransport } from '../session/sessions.js';

/** Newest first: `initialize` gets the client's version if listed here, else the first. */
export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

/** A router's lists change whenever a backend does, so every listChanged is declared. */
export const DIRECTOR_CAPABILITIES: JsonObject = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  logging: {},
  completions: {},
};

/** What the director does with tasks for its backends: list, cancel, task-augmented calls. */
const TASK_CAPABILITIES: JsonObject = {
  list: {},
  cancel: {},
  requests: { tools: { call: {} } },
};

export interface ServerIdentity {
  serverInfo: JsonObject;
  /** A new session id (`ClusterNode.sessionId`). */
  sessionId: () => string;
  /** This daemon's instance id, in every initialize and discover result's `_meta`. */
  instance: string;
  /** Text for `InitializeResult.instructions`, from the backends the profile sees. */
  instructions: (profile: string, project?: Project | null) => string | undefined;
  /** Whether any backend offers 2025-11-25 tasks (then the director routes them). */
  tasks: () => boolean;
}

export function initializeSession(
  params: JsonObject,
  identity: ServerIdentity,
  who: { profile: string; identity: string | null },
  transport: SessionTransport,
  /** Where the client works (session/projects.ts), or why the folder it named is none. */
  place: { project: Project | null; refused?: string | undefined; hint?: 'explicit' | 'cwd' } = {
    project: null,
  },
): { session: Session; result: JsonObject } {
  const requested = params['protocolVersion'];
  const version =
    typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested)
      ? requested
      : (SUPPORTED_PROTOCOL_VERSIONS[0] as string);
  const clientInfo = isJsonObject(params['clientInfo']) ? params['clientInfo'] : {};
  const capabilities = isJsonObject(params['capabilities']) ? params['capabilities'] : {};
  const session = new Session(
    identity.sessionId(),
    version,
    clientInfo,
    capabilities,
    who,
    transport,
  );
  // The folder `connect` runs in comes after the client's roots (README: Projects).
  if (place.hint === 'cwd' && capabilities['roots'] !== undefined) {
    session.projectFallback = place.project;
  } else {
    session.project = place.project;
    session.projectRefused = place.refused;
  }
  const result: JsonObject = {
    protocolVersion: version,
    capabilities: identity.tasks()
      ? { ...DIRECTOR_CAPABILITIES, tasks: TASK_CAPABILITIES }
      : DIRECTOR_CAPABILITIES,
    serverInfo: identity.serverInfo,
    _meta: instanceMeta(identity.instance),
  };
  const instructions = identity.instructions(who.profile, session.project);
  if (instructions !== undefined) result['instructions'] = instructions;
  return { session, result };
}
