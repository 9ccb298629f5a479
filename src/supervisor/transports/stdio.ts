/**
 * Single-client mode: the daemon's own stdin/stdout speak MCP (newline-delimited JSON-RPC),
 * so a client that only launches commands (Claude Desktop's `command`) can use the daemon
 * directly. The client gets a session like an HTTP client's, whose channel is stdout.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Dispatcher } from '../relay/dispatch.js';
import { initializeSession } from './initialize.js';
import type { ServerIdentity } from './initialize.js';
import {
  classify,
  errorFrame,
  invalidRequest,
  parseMessage,
  resultFrame,
} from '../../shared/jsonrpc.js';
import type { Session, Sessions } from '../session/sessions.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';

const log = logger('stdio');
import { type Drain, shuttingDown } from '../ingress/shutdown.js';
import { DEFERRED, rateLimitedError, type Admitted, type Decision } from '../ingress/rate-limit.js';

/** What single-client mode serves with: the daemon's own parts. */
export interface StdioClientDeps {
  dispatcher: Dispatcher;
  sessions: Sessions;
  identity: ServerIdentity;
  maxJsonDepth: number;
  drain: Drain;
  /** Counts a request against the profile's rate limit (there is no token on stdio). */
  admit?: (method: string, later: Admitted) => Decision;
}

/** Serves one client on `input`/`output`; resolves when the input ends (the client left). */
export function serveStdioClient(
  input: Readable,
  output: Writable,
  profile: string,
  deps: StdioClientDeps,
): Promise<void> {
  const { dispatcher, sessions, identity, maxJsonDepth, drain } = deps;
  const admit = deps.admit ?? ((): Decision => undefined);
  let session: Session | undefined;
  let closed = false;
  const write = (frame: string): void => {
    if (!closed) output.write(`${frame}\n`);
  };
  const channel = {
    send: write,
    end: () => undefined,
    get closed() {
      return closed;
    },
    get connected() {
      return !closed;
    },
  };
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    try {
      receive(line);
    } catch (error) {
      // One bad line costs its own answer, never the daemon.
      log.error(
        `a stdin line failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      write(
        errorFrame(
          null,
          rpcError(
            JsonRpcCode.InternalError,
            'Internal error: the line could not be handled; the cause is in the daemon log',
          ),
        ),
      );
    }
  });
  const receive = (line: string): void => {
    if (line.trim() === '') return;
    const parsed = parseMessage(line, 'line', maxJsonDepth);
    if (!parsed.ok) {
      write(errorFrame(null, parsed.error));
      return;
    }
    const message = classify(parsed.value);
    switch (message.kind) {
      case 'invalid':
        write(errorFrame(message.id, invalidRequest(message.reason)));
        return;
      case 'response':
        if (session !== undefined) dispatcher.response(session, message.id, message.message);
        return;
      case 'notification':
        if (session !== undefined) dispatcher.notification(session, message.method, message.params);
        return;
      case 'request':
        if (drain.draining) {
          write(errorFrame(message.id, shuttingDown('it takes no new requests')));
        } else if (message.method === 'initialize') {
          if (session !== undefined) sessions.end(session.id);
          const started = initializeSession(
            message.params,
            identity,
            // No token on stdio: its identity-shared servers use their own sign-in.
            { profile, identity: '' },
            'stdio',
          );
          session = started.session;
          session.channel = channel;
          sessions.add(session);
          write(resultFrame(message.id, JSON.stringify(started.result)));
        } else if (session === undefined) {
          write(errorFrame(message.id, invalidRequest('send initialize first')));
        } else {
          const admitted = session;
          const go: Admitted = (limited) => {
            if (limited !== undefined) write(errorFrame(message.id, rateLimitedError(limited)));
            else
              dispatcher.request(admitted, message.id, message.method, message.params, {
                respond: write,
                notify: write,
              });
          };
          const decision = admit(message.method, go);
          if (decision !== DEFERRED) go(decision);
        }
    }
  };
  return new Promise((resolve) => {
    lines.once('close', () => {
      closed = true;
      if (session !== undefined) sessions.end(session.id);
      resolve();
    });
  });
}
