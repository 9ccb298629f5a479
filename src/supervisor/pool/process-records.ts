/**
 * No orphans, ever: the process groups of this daemon's stdio backends, written down in the
 * data folder (`<dataDir>/processes/<daemon pid>.json`) so that a daemon that could not stop
 * them (SIGKILL, a crash, a power cut of the terminal) does not leave them running.
 *
 * - Each group is recorded with what identifies its leader beyond its pid: the start time
 *   from `/proc/<pid>/stat` (field 22) and the command line, so a pid the kernel has since
 *   given to another process is never killed.
 * - The file is rewritten (temp file + rename, so a reader never sees half of it) when a
 *   backend starts or stops, never per call; the changes of one event-loop turn are written
 *   once (many per-session instances starting together cost one write). A clean exit
 *   deletes it.
 * - On start, `reapPreviousDaemons` reads the files of daemons that no longer run (pid gone,
 *   or reused: another start time), SIGKILLs every recorded group whose leader is still the
 *   recorded one, or whose leader is gone but whose members remain, and logs one line each.
 * - `armCrashCleanup` kills the recorded groups on the synchronous way out of a crash
 *   (process.kill is synchronous, so nothing needs the event loop any more).
 *
 * Identity comes from procfs; where there is none (not Linux) nothing is recorded and
 * nothing is killed, because nothing could be verified.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isJsonObject } from '../../shared/json.js';
import { logger, type Logger } from '../../shared/log.js';

const log = logger('processes');

/** A running backend's process group, as the shard pool tracks it. */
export interface GroupOwner {
  server: string;
  /** The leader's pid, which is the process group id (children are started detached). */
  pid: number;
}

/** One recorded group, as written to the file. */
interface GroupRecord {
  pgid: number;
  server: string;
  /** Clock ticks after boot (`/proc/<pid>/stat` field 22); null when it could not be read. */
  startTime: number | null;
  cmdline: string;
}

interface DaemonRecord {
  daemon: { pid: number; startTime: number | null };
  groups: GroupRecord[];
}

const PROCFS = existsSync('/proc/self/stat');
const CMDLINE_MAX = 300;

/**
 * The groups of this daemon, by key (server id, or server id and session for a session's
 * own instance); every change is written through to the file.
 */
export class ProcessRecords implements Iterable<[string, GroupOwner]> {
  readonly #file: string | null;
  readonly #owners = new Map<string, GroupOwner>();
  readonly #records = new Map<string, GroupRecord>();
  readonly #daemon: DaemonRecord['daemon'];
  #writeFailed = false;
  #writeScheduled = false;
  /** Closed (clean exit or crash cleanup): the file is gone and is not written again. */
  #closed = false;

  /** `dataDir` null (or no procfs): kept in memory only. */
  constructor(dataDir: string | null) {
    this.#file =
      dataDir === null || !PROCFS ? null : join(processesDir(dataDir), `${process.pid}.json`);
    this.#daemon = { pid: process.pid, startTime: procStat(process.pid)?.startTime ?? null };
  }

  /** The file this daemon writes, or null. */
  get file(): string | null {
    return this.#file;
  }

  get size(): number {
    return this.#owners.size;
  }

  [Symbol.iterator](): Iterator<[string, GroupOwner]> {
    return this.#owners.entries();
  }

  set(key: string, owner: GroupOwner): void {
    const current = this.#owners.get(key);
    if (current !== undefined && current.pid === owner.pid && current.server === owner.server) {
      return; // the same process announced again (starting, then ready)
    }
    this.#owners.set(key, owner);
    const stat = PROCFS ? procStat(owner.pid) : null;
    this.#records.set(key, {
      pgid: owner.pid,
      server: owner.server,
      startTime: stat?.startTime ?? null,
      cmdline: PROCFS ? readCmdline(owner.pid) : '',
    });
    this.#scheduleWrite();
  }

  delete(key: string): boolean {
    if (!this.#owners.delete(key)) return false;
    this.#records.delete(key);
    this.#scheduleWrite();
    return true;
  }

  /** SIGKILLs every recorded group and deletes the file; synchronous, for the way out. */
  killAll(): void {
    for (const { pid } of this.#owners.values()) killGroup(pid);
    this.#owners.clear();
    this.#records.clear();
    this.close();
  }

  /** A clean exit: every backend was stopped, so the record goes. */
  close(): void {
    this.#closed = true;
    try {
      if (this.#file !== null) rmSync(this.#file, { force: true });
    } catch {
      // On the way out (also after a crash): a record that cannot go is found stale next time.
    }
  }

  #scheduleWrite(): void {
    if (this.#writeScheduled || this.#closed || this.#file === null) return;
    this.#writeScheduled = true;
    setImmediate(() => {
      this.#writeScheduled = false;
      this.#write();
    }).unref();
  }

  #write(): void {
    const file = this.#file;
    if (file === null || this.#closed) return;
    const record: DaemonRecord = { daemon: this.#daemon, groups: [...this.#records.values()] };
    const temp = `${file}.tmp`;
    try {
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(temp, JSON.stringify(record));
      renameSync(temp, file);
      this.#writeFailed = false;
    } catch (error) {
      // The daemon serves on; only the after-crash cleanup is weaker. Said once per streak.
      if (!this.#writeFailed) {
        log.warn(`cannot record backend processes in ${file}: ${(error as Error).message}`);
      }
      this.#writeFailed = true;
    }
  }
}

/**
 * Kills the recorded groups on the synchronous way out: `exit` (process.exit after a fatal
 * error) and an uncaught exception that nothing handles (Node exits without emitting
 * `exit`). Returns the function that disarms it, for a clean close.
 */
export function armCrashCleanup(records: ProcessRecords): () => void {
  const onExit = (): void => records.killAll();
  const onFatal = (): void => {
    // A handler of 'uncaughtException' keeps the process alive: then it is not the way out.
    if (process.listenerCount('uncaughtException') === 0) records.killAll();
  };
  process.on('exit', onExit);
  process.on('uncaughtExceptionMonitor', onFatal);
  return () => {
    process.off('exit', onExit);
    process.off('uncaughtExceptionMonitor', onFatal);
  };
}

/**
 * Kills what daemons that no longer run left behind, deletes their records, and returns how
 * many groups were killed. Call before any backend starts.
 */
export function reapPreviousDaemons(dataDir: string, logTo: Logger = log): number {
  if (!PROCFS) return 0;
  const dir = processesDir(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0; // no folder: no daemon ever recorded anything here
  }
  let killed = 0;
  for (const name of names) {
    const file = join(dir, name);
    if (name.endsWith('.json.tmp')) {
      // A write cut short; the .json beside it (if any) is the last complete one.
      const owner = Number(name.slice(0, -'.json.tmp'.length));
      if (!isRunningDaemon(owner, undefined)) rmSync(file, { force: true });
      continue;
    }
    if (!/^\d+\.json$/.test(name)) continue;
    const record = readRecord(file);
    if (record === null) {
      logTo.warn(`ignored ${file}: not a process record`);
      continue;
    }
    const { pid, startTime } = record.daemon;
    if (pid !== process.pid && isRunningDaemon(pid, startTime)) continue; // still alive
    for (const group of record.groups) {
      if (!reapGroup(group)) continue;
      killed++;
      logTo.warn(
        `killed process group ${group.pgid} left by a previous daemon (pid ${pid}): ${group.cmdline || group.server}`,
      );
    }
    rmSync(file, { force: true });
  }
  return killed;
}

function processesDir(dataDir: string): string {
  return join(dataDir, 'processes');
}

/** Kills a recorded group if it is still the one recorded; true when it did. */
function reapGroup(group: GroupRecord): boolean {
  if (group.startTime === null) return false; // never identified: cannot be verified
  const leader = procStat(group.pgid);
  if (leader !== null) {
    // The pid was given to another process since: not ours to kill.
    if (leader.startTime !== group.startTime) return false;
    return killGroup(group.pgid);
  }
  // The leader is gone. A pgid stays taken while any member lives, so members that carry
  // it (and started after the leader) are what is left of that very group.
  const recordedStart = group.startTime;
  const member = groupMembers(group.pgid).some((stat) => stat.startTime >= recordedStart);
  return member && killGroup(group.pgid);
}

function killGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false; // ESRCH: already gone
  }
}

/** Whether `pid` runs and is the daemon that wrote the record (same start time). */
function isRunningDaemon(pid: number, startTime: number | null | undefined): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const stat = procStat(pid);
  if (stat === null) return false;
  return startTime === undefined || startTime === null || stat.startTime === startTime;
}

interface ProcStat {
  pgid: number;
  startTime: number;
}

/** Fields 5 (pgid) and 22 (start time) of `/proc/<pid>/stat`; null if it does not exist. */
function procStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): field n is fields[n - 3]. A zombie is already dead.
  if (fields[0] === 'Z') return null;
  const pgid = Number(fields[2]);
  const startTime = Number(fields[19]);
  return Number.isFinite(pgid) && Number.isFinite(startTime) ? { pgid, startTime } : null;
}

function readCmdline(pid: number): string {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return text.length > CMDLINE_MAX ? `${text.slice(0, CMDLINE_MAX)}…` : text;
  } catch {
    return '';
  }
}

/** Every live process whose process group is `pgid`. */
function groupMembers(pgid: number): ProcStat[] {
  const members: ProcStat[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return members;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat !== null && stat.pgid === pgid) members.push(stat);
  }
  return members;
}

/** A record file's content, type-checked field by field; null if it is not one. */
function readRecord(file: string): DaemonRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  if (!isJsonObject(value) || !isJsonObject(value['daemon']) || !Array.isArray(value['groups'])) {
    return null;
  }
  const daemon = value['daemon'];
  const pid = daemon['pid'];
  if (typeof pid !== 'number') return null;
  const groups: GroupRecord[] = [];
  for (const group of value['groups']) {
    if (!isJsonObject(group)) continue;
    const { pgid, server, startTime, cmdline } = group;
    // A pgid of 0 or 1 would signal this daemon's own group or every process: never.
    if (typeof pgid !== 'number' || !Number.isInteger(pgid) || pgid <= 1) continue;
    groups.push({
      pgid,
      server: typeof server === 'string' ? server : '?',
      startTime: typeof startTime === 'number' ? startTime : null,
      cmdline: typeof cmdline === 'string' ? cmdline : '',
    });
  }
  return {
    daemon: {
      pid,
      startTime: typeof daemon['startTime'] === 'number' ? daemon['startTime'] : null,
    },
    groups,
  };
}

/**
 * Kills the recorded process groups of the servers `which` selects: what a dead shard, a
 * removal that timed out or a stop left behind.
 */
export function killOrphans(pids: ProcessRecords, which: (server: string) => boolean): void {
  for (const [key, { server, pid }] of pids) {
    if (!which(server)) continue;
    pids.delete(key);
    try {
      process.kill(-pid, 'SIGKILL');
      log.warn(`killed the process group ${pid} of server '${server}' left behind by its worker`);
    } catch {
      // Already gone: the worker stopped it.
    }
  }
}
