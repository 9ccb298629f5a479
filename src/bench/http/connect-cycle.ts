/**
 * The `connect` workload: what a client does when it connects, as one timed cycle on a kept
 * connection — `initialize`, `notifications/initialized`, every page of `tools/list`, and
 * `DELETE` of the session when the server gave one. It measures what users of a gateway wait
 * for when they open their client (a slow or hung backend shows here first).
 */
import type { Client } from 'undici';
import { judgeHttpResponse, listPageBody, nextCursorOf, readHttpAnswer } from '../workload.js';
import { initializeBody, post, sessionHeaders } from './mcp-http.js';

/** Pages read per cycle at most, so a server that pages forever cannot hold a lane. */
const MAX_PAGES = 1000;

/** One cycle; resolves to null when every step succeeded, else a short reason. */
export async function connectCycle(
  client: Client,
  path: string,
  timeoutMs: number,
  clientName: string,
): Promise<string | null> {
  try {
    const init = await post(
      client,
      path,
      sessionHeaders(undefined),
      initializeBody(clientName),
      timeoutMs,
    );
    const initFailure = judgeHttpResponse(init.status, init.contentType, init.body, 0);
    if (initFailure !== null) return `initialize: ${initFailure}`;
    const headers = sessionHeaders(init.sessionId);
    const initialized = await post(
      client,
      path,
      headers,
      '{"jsonrpc":"2.0","method":"notifications/initialized"}',
      timeoutMs,
    );
    if (initialized.status < 200 || initialized.status > 299) {
      return `notifications/initialized: HTTP ${initialized.status}`;
    }
    let cursor: string | undefined;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const body =
        cursor === undefined
          ? `{"jsonrpc":"2.0","id":${page},"method":"tools/list","params":{}}`
          : listPageBody(page, cursor);
      const answer = await post(client, path, headers, body, timeoutMs);
      const { failure, message } = readHttpAnswer(
        answer.status,
        answer.contentType,
        answer.body,
        page,
      );
      if (failure !== null) return `tools/list: ${failure}`;
      cursor = nextCursorOf(message);
      if (cursor === undefined) break;
    }
    if (init.sessionId !== undefined) {
      const closed = await client.request({
        path,
        method: 'DELETE',
        headers,
        headersTimeout: timeoutMs,
      });
      await closed.body.dump();
    }
    return null;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const name = typeof code === 'string' ? code : (error as Error).name;
    return name.includes('TIMEOUT') ? 'timeout' : `transport ${name}`;
  }
}
