/**
 * What a client declared it can be asked: a backend's sampling, elicitation and roots
 * requests are sent only to clients that declared the matching capability.
 */
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';

/** The capability a client must have declared to be sent `method`, if it lacks it. */
export function missingCapability(
  capabilities: JsonObject,
  method: string,
  params: JsonObject,
): string | undefined {
  switch (method) {
    case 'sampling/createMessage':
      return isJsonObject(capabilities['sampling']) ? undefined : 'sampling';
    case 'roots/list':
      return isJsonObject(capabilities['roots']) ? undefined : 'roots';
    case 'elicitation/create': {
      const elicitation = capabilities['elicitation'];
      if (!isJsonObject(elicitation)) return 'elicitation';
      // 2025-06-18 clients declare `elicitation: {}`, which means form mode.
      const mode = params['mode'] === 'url' ? 'url' : 'form';
      const declaresModes = elicitation['form'] !== undefined || elicitation['url'] !== undefined;
      if (mode === 'form' && declaresModes && elicitation['form'] === undefined)
        return 'elicitation.form';
      if (mode === 'url' && elicitation['url'] === undefined) return 'elicitation.url';
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Whether the client can run a tool call as a task (2025-11-25 `tasks.requests.tools.call`).
 * The director does not carry the 2026-07-28 tasks extension, so a stateless client cannot.
 */
export function canCallToolsAsTasks(era: 'legacy' | 'modern', capabilities: JsonObject): boolean {
  if (era === 'modern') return false;
  const tasks = capabilities['tasks'];
  const requests = isJsonObject(tasks) ? tasks['requests'] : undefined;
  const tools = isJsonObject(requests) ? requests['tools'] : undefined;
  return isJsonObject(tools) && tools['call'] !== undefined;
}

/** Whether the client declared any capability a backend could send it a request for. */
export function canBeAsked(capabilities: JsonObject): boolean {
  return (
    capabilities['sampling'] !== undefined ||
    capabilities['elicitation'] !== undefined ||
    capabilities['roots'] !== undefined
  );
}
