/**
 * The dashboard's only way to the daemon: `/api` on its own origin, every request carrying the
 * admin token the user entered (README "Dashboard"). The page keeps nothing else: what it
 * shows is read from the API each time.
 */
const TOKEN_KEY = 'mcp-director.token';

/** The token: this tab's (sessionStorage), else the remembered one (localStorage). */
export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string, remember: boolean): void {
  forgetToken();
  (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
}

/** The API said no (401, 403) or failed; `status` 0 when the daemon could not be reached. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = storedToken();
  return token === null ? extra : { ...extra, Authorization: `Bearer ${token}` };
}

async function parse<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: text };
  }
  if (!response.ok) {
    const error = (body as { error?: unknown }).error;
    throw new ApiError(response.status, typeof error === 'string' ? error : text);
  }
  return body as T;
}

/** Handlers the app installs: an answer of 401/403 asks for the token again. */
let onAuthFailure: (error: ApiError) => void = () => {};
export function whenUnauthorized(handler: (error: ApiError) => void): void {
  onAuthFailure = handler;
}

async function request<T>(path: string, init: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, credentials: 'omit', cache: 'no-store' });
  } catch (error) {
    throw new ApiError(0, String(error));
  }
  try {
    return await parse<T>(response);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      onAuthFailure(error);
    }
    throw error;
  }
}

export function apiGet<T>(path: string): Promise<T> {
  return request<T>(path, { headers: headers() });
}

/** An action: POST with a JSON body (the daemon refuses other content types, 415). */
export function apiPost<T>(path: string, body: object = {}): Promise<T> {
  return request<T>(path, {
    method: 'POST',
    headers: headers({ 'Content-Type': 'application/json' }),
    body: JSON.stringify(body),
  });
}

/** A GET that may not exist yet (404) or be refused: undefined instead of an error. */
export async function apiTry<T>(path: string): Promise<T | undefined> {
  try {
    const response = await fetch(path, { headers: headers(), cache: 'no-store' });
    if (!response.ok) return undefined;
    return (await response.json()) as T;
  } catch {
    return undefined;
  }
}

/**
 * Reads `/api/events` (SSE) with the token; EventSource cannot send a header, so the stream
 * is read with fetch. Resolves when the stream ends or `signal` aborts it.
 */
export async function readEvents(
  signal: AbortSignal,
  onOpen: () => void,
  onEvent: (name: string, data: unknown) => void,
): Promise<void> {
  const response = await fetch('/api/events', {
    headers: headers({ Accept: 'text/event-stream' }),
    signal,
    cache: 'no-store',
  });
  if (!response.ok || response.body === null) {
    throw new ApiError(response.status, `/api/events answered ${response.status}`);
  }
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    // Events end with a blank line (https://html.spec.whatwg.org/multipage/server-sent-events.html).
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      let name = 'message';
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length === 0) continue;
      try {
        onEvent(name, JSON.parse(data.join('\n')));
      } catch {
        // not JSON: not an event of this API
      }
    }
  }
}
