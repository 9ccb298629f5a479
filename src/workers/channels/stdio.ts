/**
 * One stdio child process and its newline-delimited JSON-RPC framing
 * (https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#stdio).
 *
 * Hand-written rather than the SDK's StdioClientTransport for two reasons: that transport
 * signals only the child it spawned, so an `npx`-style launcher's grandchildren survive a
 * stop, while here the child leads its own process group and every signal goes to the
 * group; and it validates every incoming message with zod, which costs more than the rest
 * of the hop on the hot path (docs/architecture.md#hand-written-stdio-framing). Here each line
 * is parsed once with JSON.parse and handed over as-is.
 *
 * Lifecycle: `start()` spawns; the handler hears every message and, exactly once, the exit.
 * `stop()` closes stdin, then after a grace period sends SIGTERM to the group, then
 * SIGKILL. When the leader exits for any reason, whatever is left of its group is killed
 * (no orphans, docs/architecture.md#processes-and-failure). Timers are unref'd: they must never
 * keep a thread alive.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { childEnvironment } from './child-env.js';
import { StderrTail } from './stderr-tail.js';
import { CONFIG_DEFAULTS } from '../../shared/config/defaults.js';
import { logger, type Logger } from '../../shared/log.js';
import { nestsDeeperThan } from '../../shared/json-text.js';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES, bad cwd…). */
  spawnError?: NodeJS.ErrnoException;
  /** Set when a remote server's connection was lost (channels/streamable-http.ts), in words. */
  transportError?: string;
  /**
   * Set when the channel ended the backend for exceeding a limit (a stdout line, or a
   * remote message, over `limits.maxBackendMessageBytes`), in words naming the limit.
   */
  limitExceeded?: string;
  /**
   * Set when a remote server refused us for want of a sign-in (channels/authorized-fetch.ts),
   * in words naming the command that signs in.
   */
  needsAuth?: string;
}

export interface ChannelHandler {
  /**
   * One parsed JSON value per stdout line; not validated. `relatedId`: the id of the
   * request on whose HTTP response stream it came (stateless-era HTTP only).
   * `deeperThanLimit`: whether its text nests deeper than `limits.maxJsonDepth`, when the
   * channel checked the text (cheaper than walking the parsed value); else undefined.
   */
  onChannelMessage(message: unknown, relatedId?: number, deeperThanLimit?: boolean): void;
  /** The child has exited and its pipes are drained; called exactly once per start. */
  onChannelExit(exit: ChildExit): void;
  /** A remote server's session was replaced by a new one: session state must be re-applied. */
  onChannelRenewed?(): void;
}

export interface StdioChannelOptions {
  /** The server id, for log lines. */
  id: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** How long each stop step (stdin close, SIGTERM, SIGKILL) waits for the exit. */
  stopGraceMs?: number;
  /** Longest stdout line (one message) before the child is killed: `limits.maxBackendMessageBytes`. */
  maxMessageBytes?: number;
  /** Stderr kept, the tail in bytes: `limits.maxStderrBytes`. */
  maxStderrBytes?: number;
  /** Deepest JSON nesting of a line before the handler is told: `limits.maxJsonDepth`. */
  maxJsonDepth?: number;
}

const DEFAULT_STOP_GRACE_MS = 2000;
/** After the leader exits, how long to wait for its pipes to close before giving up on them. */
const PIPE_DRAIN_MS = 1000;
/** Non-JSON stdout lines logged at warn before the rest drop to debug. */
const NOISE_WARNINGS = 3;
const NEWLINE = 0x0a;

export class StdioChannel {
  readonly #options: StdioChannelOptions;
  readonly #handler: ChannelHandler;
  readonly #log: Logger;
  #child: ChildProcessWithoutNullStreams | null = null;
  #started = false;
  #exit: ChildExit | null = null;
  #finished = false;
  #stopping: Promise<void> | null = null;
  #closed: Promise<void>;
  #resolveClosed: () => void = () => {};
  #exited: Promise<void>;
  #resolveExited: () => void = () => {};
  // stdout framing: bytes of an unfinished line, decoded only once the line is complete so
  // a UTF-8 sequence split across chunks is never mangled.
  #partial: Buffer[] = [];
  #partialLength = 0;
  // stdin: lines written in one tick go out as one write; while the pipe is full they wait.
  #outbox: string[] = [];
  #flushScheduled = false;
  #awaitingDrain = false;
  readonly #maxMessageBytes: number;
  /** Set once a line passed the cap: the rest of the output is ignored until the exit. */
  #limitExceeded: string | undefined;
  readonly #stderr: StderrTail;
  #noiseCount = 0;

  constructor(options: StdioChannelOptions, handler: ChannelHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#log = logger(`server:${options.id}`);
    this.#maxMessageBytes =
      options.maxMessageBytes ?? CONFIG_DEFAULTS.limits.maxBackendMessageBytes;
    this.#stderr = new StderrTail(options.maxStderrBytes ?? CONFIG_DEFAULTS.limits.maxStderrBytes);
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#exited = new Promise((resolve) => (this.#resolveExited = resolve));
  }

  /** Process id, which is also the process group id (the child is detached). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The last lines the child wrote on stderr, to explain a failed start. */
  get stderrTail(): readonly string[] {
    return this.#stderr.lines();
  }

  start(): void {
    if (this.#started) throw new Error(`channel for '${this.#options.id}' already started`);
    const { command, args, env, cwd } = this.#options;
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(command, args, {
        cwd,
        env: childEnvironment(env),
        stdio: ['pipe', 'pipe', 'pipe'],
        // Own process group: signals to -pid reach the launcher's grandchildren too.
        detached: true,
        windowsHide: true,
      });
    } catch (error) {
      // Invalid arguments (e.g. a NUL byte) throw instead of emitting 'error'.
      this.#started = true;
      this.#onError(error as NodeJS.ErrnoException);
      return;
    }
    this.#started = true;
    this.#child = child;
    child.on('error', (error: NodeJS.ErrnoException) => this.#onError(error));
    child.on('exit', (code, signal) => this.#onExit(code, signal));
    child.on('close', () => this.#finish());
    child.stdout.on('data', (chunk: Buffer) => this.#onStdout(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => this.#onStderr(text));
    // EPIPE after the child died is reported through 'exit'; the stream errors are noise.
    child.stdin.on('error', (error) => this.#log.debug(`stdin: ${error.message}`));
    child.stdout.on('error', (error) => this.#log.debug(`stdout: ${error.message}`));
    child.stderr.on('error', (error) => this.#log.debug(`stderr: ${error.message}`));
  }

  /** Queues one serialized JSON-RPC message (no trailing newline). Dropped once stopping. */
  send(json: string): void {
    if (this.#exit !== null || this.#stopping !== null || this.#child === null) return;
    this.#outbox.push(json, '\n');
    if (!this.#flushScheduled && !this.#awaitingDrain) {
      this.#flushScheduled = true;
      process.nextTick(flushOutbox, this);
    }
  }

  /** Writes what is queued, unless the pipe asked us to wait for 'drain'. */
  flush(): void {
    this.#flushScheduled = false;
    const child = this.#child;
    if (this.#awaitingDrain || this.#outbox.length === 0 || child === null) return;
    const data = this.#outbox.join('');
    this.#outbox = [];
    if (!child.stdin.write(data)) {
      this.#awaitingDrain = true;
      child.stdin.once('drain', () => {
        this.#awaitingDrain = false;
        this.flush();
      });
    }
  }

  /**
   * Stops the child: stdin close, SIGTERM to the group, SIGKILL to the group, each step
   * after a grace period. Resolves when the child is gone (or could not be reaped).
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#escalate();
    return this.#stopping;
  }

  async #escalate(): Promise<void> {
    const child = this.#child;
    if (!this.#started || this.#finished) return;
    const grace = this.#options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    if (child !== null && this.#exit === null) {
      this.flush();
      child.stdin.end();
      if (!(await this.#waitFor(this.#exited, grace))) {
        this.#log.debug(`did not exit ${grace} ms after stdin closed; sending SIGTERM`);
        this.#signalGroup('SIGTERM');
        if (!(await this.#waitFor(this.#exited, grace))) {
          this.#log.warn(`ignored SIGTERM for ${grace} ms; sending SIGKILL`);
          this.#signalGroup('SIGKILL');
        }
      }
    }
    if (!(await this.#waitFor(this.#closed, grace))) {
      this.#log.warn(`pid ${child?.pid ?? '?'} could not be reaped; giving up on it`);
      this.#finish();
    }
  }

  #waitFor(event: Promise<void>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms, false);
      timer.unref();
      void event.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      if (process.platform === 'win32') this.#child?.kill(signal);
      else process.kill(-pid, signal);
    } catch (error) {
      // ESRCH: the whole group is already gone, which is what we wanted.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
        this.#log.warn(`cannot send ${signal} to process group ${pid}: ${String(error)}`);
      }
    }
  }

  #onError(error: NodeJS.ErrnoException): void {
    if (this.#child?.pid !== undefined) {
      this.#log.debug(`child process error: ${error.message}`);
      return;
    }
    // Spawn failed: no 'exit' will come; 'close' normally follows, the timer covers the rest.
    this.#exit = { code: null, signal: null, spawnError: error };
    this.#resolveExited();
    setTimeout(() => this.#finish(), PIPE_DRAIN_MS).unref();
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.#exit =
      this.#limitExceeded === undefined
        ? { code, signal }
        : { code, signal, limitExceeded: this.#limitExceeded };
    this.#resolveExited();
    // The leader is gone; anything it left in its group is an orphan.
    this.#signalGroup('SIGKILL');
    // Lines still in the pipe are delivered before 'close'; a grandchild that escaped the
    // group could hold the pipe open forever, so stop waiting after a while.
    setTimeout(() => {
      if (this.#finished) return;
      this.#child?.stdout.destroy();
      this.#child?.stderr.destroy();
      this.#finish();
    }, PIPE_DRAIN_MS).unref();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#outbox = [];
    this.#stderr.end();
    this.#resolveClosed();
    const exit = this.#exit ?? { code: null, signal: null };
    this.#handler.onChannelExit(exit);
  }

  /**
   * Splits stdout into lines. Every line is checked against the cap before it is kept, so
   * a child that writes without end (with or without newlines) costs at most the cap.
   */
  #onStdout(chunk: Buffer): void {
    if (this.#limitExceeded !== undefined) return;
    const max = this.#maxMessageBytes;
    let start = 0;
    let newline = chunk.indexOf(NEWLINE);
    if (newline === -1) {
      if (this.#partialLength + chunk.length > max) return this.#overflow();
      this.#partial.push(chunk);
      this.#partialLength += chunk.length;
      return;
    }
    if (this.#partialLength > 0) {
      if (this.#partialLength + newline > max) return this.#overflow();
      this.#partial.push(chunk.subarray(0, newline));
      const line = Buffer.concat(this.#partial, this.#partialLength + newline);
      this.#partial = [];
      this.#partialLength = 0;
      this.#deliver(line.toString('utf8'));
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    while (newline !== -1) {
      if (newline - start > max) return this.#overflow();
      this.#deliver(chunk.toString('utf8', start, newline));
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) {
      if (chunk.length - start > max) return this.#overflow();
      this.#partial.push(chunk.subarray(start));
      this.#partialLength = chunk.length - start;
    }
  }

  /**
   * A message over the cap: its bytes are dropped at once (the memory goes back), stdout
   * is no longer read, and the process group is killed; the exit names the cap, and the
   * owner restarts the backend as after any exit.
   */
  #overflow(): void {
    this.#partial = [];
    this.#partialLength = 0;
    this.#limitExceeded = `server '${this.#options.id}' sent a message over ${this.#maxMessageBytes} bytes (limits.maxBackendMessageBytes)`;
    this.#log.error(`${this.#limitExceeded}; killing it`);
    // Kill first: with its stdout closed first, a busy child could die of EPIPE on its own
    // (exit code 1, no signal) before the kill landed (seen once under load).
    this.#signalGroup('SIGKILL');
    this.#child?.stdout.destroy();
  }

  #deliver(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      if (line.trim() === '') return;
      const level = this.#noiseCount++ < NOISE_WARNINGS ? 'warn' : 'debug';
      this.#log[level](
        `wrote a non-JSON line on stdout (only MCP belongs there): ${line.slice(0, 200)}`,
      );
      return;
    }
    try {
      const maxDepth = this.#options.maxJsonDepth ?? CONFIG_DEFAULTS.limits.maxJsonDepth;
      this.#handler.onChannelMessage(message, undefined, nestsDeeperThan(line, maxDepth));
    } catch (error) {
      this.#log.error(`failed to handle a message: ${(error as Error).stack ?? String(error)}`);
    }
  }

  #onStderr(text: string): void {
    for (const line of this.#stderr.write(text)) this.#log.debug(`stderr: ${line}`);
  }
}

/** A shared function (not a closure per send) for the nextTick flush. */
function flushOutbox(channel: StdioChannel): void {
  channel.flush();
}
