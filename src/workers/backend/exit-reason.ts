/**
 * Why a backend is not running, in words a user can act on: shown in `server-state`
 * errors (hence in /api and the dashboard) and in the errors of calls it could not serve.
 */
import { existsSync } from 'node:fs';
import type { InFlight } from './backend-peer.js';
import type { ChildExit } from '../channels/stdio.js';
import { DirectorErrorCode, directorError } from '../../shared/errors.js';
import type { WireError } from '../../shared/errors.js';

/** Short form for call errors: `code 1`, `signal SIGKILL`, `spawn error ENOENT`. */
export function exitSummary(exit: ChildExit): string {
  if (exit.limitExceeded !== undefined) return 'killed: over limits.maxBackendMessageBytes';
  if (exit.needsAuth !== undefined) return 'needs a sign-in';
  if (exit.transportError !== undefined) return 'connection lost';
  if (exit.spawnError !== undefined) return `spawn error ${exit.spawnError.code ?? 'unknown'}`;
  if (exit.signal !== null) return `signal ${exit.signal}`;
  return `code ${exit.code ?? 'unknown'}`;
}

/** What was launched: a stdio command (the cause names it), or a remote server. */
export type LaunchSpec =
  { transport: 'stdio'; command: string; cwd: string } | { transport: 'http' };

/** Long form for `server-state` and logs: the cause, then the last stderr lines if any. */
export function withStderr(cause: string, stderrTail: readonly string[]): string {
  if (stderrTail.length === 0) return cause;
  return `${cause}; last stderr lines:\n${stderrTail.map((line) => `  ${line}`).join('\n')}`;
}

/** One line saying why the process ended (or never started). */
export function exitCause(exit: ChildExit, launch: LaunchSpec): string {
  if (exit.limitExceeded !== undefined) return exit.limitExceeded;
  if (exit.needsAuth !== undefined) return exit.needsAuth;
  if (exit.transportError !== undefined || launch.transport === 'http') {
    return exit.transportError ?? 'the remote server closed the connection';
  }
  const { command, cwd } = launch;
  const error = exit.spawnError;
  if (error !== undefined) {
    // spawn reports a missing working directory as ENOENT of the command too.
    if (error.code === 'ENOENT' && !existsSync(cwd)) {
      return `working directory '${cwd}' does not exist`;
    }
    if (error.code === 'ENOENT') {
      return `command '${command}' was not found: check that it is installed and on the PATH (or give an absolute path)`;
    }
    if (error.code === 'EACCES') {
      return `command '${command}' could not be executed (permission denied)`;
    }
    return `command '${command}' could not be started: ${error.message}`;
  }
  if (exit.signal !== null) return `process was killed by ${exit.signal}`;
  return `process exited with code ${exit.code ?? 'unknown'}`;
}

/** The error of a call that was in flight when its server's process ended (`summary`). */
export function inFlightError(
  server: string,
  exit: ChildExit,
  summary: string,
  stopped: boolean,
  { method, target }: InFlight,
): WireError {
  if (exit.needsAuth !== undefined) {
    return directorError(
      DirectorErrorCode.BackendUnavailable,
      `${exit.needsAuth} (while handling ${method} '${target}')`,
      { server, state: 'needs-auth' },
    );
  }
  return exit.limitExceeded !== undefined
    ? directorError(
        DirectorErrorCode.BackendExited,
        `${exit.limitExceeded} while handling ${method} '${target}'; it was killed and is being restarted`,
        { server },
      )
    : stopped
      ? directorError(
          DirectorErrorCode.ShuttingDown,
          `Server '${server}' was stopped while handling ${method} '${target}'`,
          { server },
        )
      : directorError(
          DirectorErrorCode.BackendExited,
          `Server '${server}' exited (${summary}) while handling ${method} '${target}'; it is being restarted`,
          { server },
        );
}

/** The error of a call still queued (never sent) when its server's process ended. */
export function queuedCallError(
  server: string,
  summary: string,
  stopped: boolean,
  needsAuth?: string,
): WireError {
  if (needsAuth !== undefined) {
    return directorError(DirectorErrorCode.BackendUnavailable, needsAuth, {
      server,
      state: 'needs-auth',
    });
  }
  return stopped
    ? directorError(DirectorErrorCode.ShuttingDown, `Server '${server}' was stopped`, { server })
    : directorError(
        DirectorErrorCode.BackendUnavailable,
        `Server '${server}' exited (${summary}) before this queued call could be sent; it is being restarted`,
        { server },
      );
}
