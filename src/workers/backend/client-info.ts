/** How the director introduces itself to backends: `initialize` (legacy) or `_meta` (modern). */
import { META, MODERN_PROTOCOL_VERSION } from '../../shared/eras.js';
import { isJsonObject, type JsonObject } from '../../shared/json.js';
import { DIRECTOR_VERSION, PACKAGE_NAME } from '../../shared/version.js';

/** The protocol revision the director asks legacy-era backends for (the newest one). */
export const BACKEND_PROTOCOL_VERSION = '2025-11-25';

export const CLIENT_INFO = { name: PACKAGE_NAME, version: DIRECTOR_VERSION } as const;

/**
 * What the director declares in `initialize` to a legacy backend it shares among clients.
 * It can route these requests to the client whose call caused them; a request whose
 * client did not declare the capability itself is refused by the supervisor at that point.
 */
export const BACKEND_CLIENT_CAPABILITIES = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: {},
} as const;

/**
 * The stateless-era request envelope (docs/architecture.md#backend-era): the version, the
 * capabilities of the client the request is for (the director's own requests declare none), our
 * identity and, when a client asked for logs, its level. Keys of the caller's `_meta` are kept.
 */
export function withEnvelope(
  params: JsonObject,
  clientCapabilities: JsonObject,
  logLevel?: string,
): JsonObject {
  const meta = params['_meta'];
  const envelope: JsonObject = {
    ...(isJsonObject(meta) ? meta : {}),
    [META.protocolVersion]: MODERN_PROTOCOL_VERSION,
    [META.clientCapabilities]: clientCapabilities,
    [META.clientInfo]: CLIENT_INFO,
  };
  if (logLevel !== undefined) envelope[META.logLevel] = logLevel;
  return { ...params, _meta: envelope };
}
