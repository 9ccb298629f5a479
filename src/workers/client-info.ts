/** How the director introduces itself to backends in `initialize`. */
import { DIRECTOR_VERSION, PACKAGE_NAME } from '../shared/version.js';

/** The protocol revision the director asks backends for (the newest legacy-era one). */
export const BACKEND_PROTOCOL_VERSION = '2025-11-25';

export const CLIENT_INFO = { name: PACKAGE_NAME, version: DIRECTOR_VERSION } as const;

/**
 * What the director declares to a backend it shares among clients. It can route these
 * requests to the client whose call caused them; a request whose client did not declare
 * the capability itself is refused by the supervisor at that point.
 */
export const BACKEND_CLIENT_CAPABILITIES = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: {},
} as const;
