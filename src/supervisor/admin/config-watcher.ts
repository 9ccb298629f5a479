/**
 * Watches the config file for hot reload (docs/architecture.md#config-and-hot-reload): each
 * settled change is read, loaded (validated and normalized by the caller's `load`) and handed
 * to `onConfig`; a bad edit goes to `onInvalid` and the running config stays.
 *
 * Two mechanisms feed one debounced check, which reads the file and compares its text with
 * the last one applied, so a change seen by both (or a save that rewrites the same bytes)
 * is applied once:
 * - `fs.watch` on the parent folder, filtered by file name: prompt (inotify/FSEvents), and a
 *   folder watch, unlike a watch on the file itself, survives editors that save by writing a
 *   temporary file and renaming it over the original (vim, VS Code, JetBrains: the original
 *   inode, and a file watch with it, is gone) and the file being deleted and created again.
 * - `fs.watchFile`, a stat poll of the path: the backstop where `fs.watch` sees nothing
 *   (network and some container bind mounts, a config that is a symlink into a dotfiles
 *   repository: the folder watch sees the link, the poll follows it) or cannot start (the
 *   folder does not exist yet; the folder watch is armed again once the file is seen).
 * Both are non-persistent: the daemon lives for its listener, not for this watcher.
 *
 * Bursts of writes (an editor writing in pieces, a script rewriting the file) are debounced:
 * only the text present `debounceMs` after the last event is loaded. Changes that arrive
 * while `onConfig` is still applying one (it may return a promise) are checked after it.
 * A missing file is not an error (it is mid-save or about to be recreated): nothing happens
 * until it is back. No callback throws out of the watcher.
 *
 * A config may read other files as it loads: the projects' own `.mcp.json`
 * (config/project-files.ts). Those are polled too, and their texts count as part of the
 * config's: a change to one loads the config again, with the same text.
 */
import { type FSWatcher, type Stats, readFileSync, unwatchFile, watch, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { ConfigError } from '../../shared/config/problems.js';
import type { DirectorConfig } from '../../shared/config/types.js';
import { logger } from '../../shared/log.js';

const log = logger('config');

export interface ConfigWatcherOptions {
  /** Parses, validates and normalizes the file's text; throws (a `ConfigError`) if it is bad. */
  load: (text: string) => DirectorConfig;
  /**
   * A changed, valid config. While a returned promise is pending, later changes wait (the
   * last of them is checked once it settles). Errors it throws are logged.
   */
  onConfig: (config: DirectorConfig, text: string) => void | Promise<void>;
  /** The file changed but cannot be used: what `load` threw, or why it cannot be read. */
  onInvalid: (error: Error) => void;
  /** Quiet time after the last event before the file is read. Default 150 ms. */
  debounceMs?: number;
  /** Interval of the stat poll backing up `fs.watch`. Default 1000 ms. */
  pollMs?: number;
  /**
   * The text of the config in force, which a change must differ from. Default: the file's
   * text when the watch starts (the daemon loaded it a moment before).
   */
  initialText?: string;
  /** The other files a config reads as it loads (watched and compared with its text). */
  relatedFiles?: (config: DirectorConfig) => readonly string[];
  /** The config in force, whose related files are watched from the start. */
  initialConfig?: DirectorConfig;
}

export interface ConfigWatcher {
  /** Reads the file now, without waiting for an event or the debounce (SIGHUP). */
  checkNow(): void;
  /** Stops watching; no callback is called afterwards (one already running completes). */
  close(): void;
}

export function watchConfigFile(file: string, options: ConfigWatcherOptions): ConfigWatcher {
  return new Watcher(path.resolve(file), options);
}

class Watcher implements ConfigWatcher {
  readonly #file: string;
  readonly #name: string;
  readonly #options: ConfigWatcherOptions;
  readonly #debounceMs: number;
  /** The text of the config in force, followed by its related files' (`#relatedText`). */
  #applied: string | undefined;
  /** The files the config in force read as it loaded, polled for changes. */
  #related: readonly string[] = [];
  /** The last text (or read error) reported invalid: reported once, not at every event. */
  #rejected: string | undefined;
  #timer: NodeJS.Timeout | null = null;
  #folderWatch: FSWatcher | null = null;
  /** A check (or the `onConfig` it called) is running; `#again`: an event came meanwhile. */
  #busy = false;
  #again = false;
  #closed = false;
  readonly #onPoll = (current: Stats, previous: Stats): void => {
    if (
      current.mtimeMs === previous.mtimeMs &&
      current.ino === previous.ino &&
      current.size === previous.size
    ) {
      return;
    }
    this.#watchFolder();
    this.#schedule();
  };

  constructor(file: string, options: ConfigWatcherOptions) {
    this.#file = file;
    this.#name = path.basename(file);
    this.#options = options;
    this.#debounceMs = options.debounceMs ?? 150;
    this.#watchRelated(
      options.initialConfig === undefined
        ? []
        : (options.relatedFiles?.(options.initialConfig) ?? []),
    );
    const initial = options.initialText ?? readIfExists(file);
    this.#applied = initial === undefined ? undefined : initial + this.#relatedText();
    this.#watchFolder();
    watchFile(file, { persistent: false, interval: options.pollMs ?? 1000 }, this.#onPoll);
    // The poll's first stat, taken in the background, is its baseline: a change made between
    // reading `#applied` and that stat would go unseen. One check after the debounce closes
    // that gap (it costs a read and applies nothing when the text is the same).
    this.#schedule();
  }

  checkNow(): void {
    if (this.#closed) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    void this.#check();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#folderWatch?.close();
    this.#folderWatch = null;
    unwatchFile(this.#file, this.#onPoll);
    this.#watchRelated([]);
  }

  /** Polls `files` instead of the related files polled so far. */
  #watchRelated(files: readonly string[]): void {
    const interval = this.#options.pollMs ?? 1000;
    for (const file of this.#related) if (!files.includes(file)) unwatchFile(file, this.#onPoll);
    for (const file of files) {
      if (!this.#related.includes(file))
        watchFile(file, { persistent: false, interval }, this.#onPoll);
    }
    this.#related = files;
  }

  /** The related files' texts, each after its name (a missing one counts as such). */
  #relatedText(): string {
    return this.#related
      .map((file) => `\u0000${file}\u0000${readIfExists(file) ?? '\u0001missing'}`)
      .join('');
  }

  #watchFolder(): void {
    if (this.#folderWatch !== null || this.#closed) return;
    try {
      const watcher = watch(path.dirname(this.#file), { persistent: false }, (_event, name) => {
        // Some platforms do not say which file changed: check ours then.
        if (name === null || name === this.#name) this.#schedule();
      });
      watcher.on('error', (error) => {
        // The folder itself went away (or the watch broke): the poll carries on and arms
        // the folder watch again when the file is back.
        log.debug(`folder watch of ${this.#file} ended: ${error.message}`);
        watcher.close();
        if (this.#folderWatch === watcher) this.#folderWatch = null;
      });
      this.#folderWatch = watcher;
    } catch (error) {
      log.debug(`cannot watch the folder of ${this.#file} (polling it): ${String(error)}`);
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#check(), this.#debounceMs);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    this.#timer = null;
    if (this.#closed) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = true;
    try {
      await this.#checkOnce();
    } catch (error) {
      log.error(`config reload failed: ${(error as Error).stack ?? String(error)}`);
    } finally {
      this.#busy = false;
      if (this.#again) {
        this.#again = false;
        this.#schedule();
      }
    }
  }

  async #checkOnce(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      // Between a delete and a rename (or a re-create) the file is briefly missing.
      if (code === 'ENOENT') {
        log.debug(`${this.#file} is missing; waiting for it`);
      } else {
        const problem = { path: '', message: `cannot read the config file: ${message}` };
        this.#invalid(`\u0000${message}`, new ConfigError(this.#file, [problem]));
      }
      return;
    }
    if (this.#closed) return;
    this.#watchFolder(); // the file is there, so its folder is too (it may be new)
    const key = text + this.#relatedText();
    if (key === this.#applied) {
      this.#rejected = undefined; // back to the running config: a bad edit is news again
      return;
    }
    if (key === this.#rejected) return;
    let config: DirectorConfig;
    try {
      config = this.#options.load(text);
    } catch (error) {
      this.#invalid(key, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    // The new config may read other files: watch those, and count their texts from now.
    const related = this.#options.relatedFiles?.(config) ?? [];
    const same =
      related.length === this.#related.length && related.every((f, i) => f === this.#related[i]);
    this.#watchRelated(related);
    this.#applied = same ? key : text + this.#relatedText();
    this.#rejected = undefined;
    try {
      await this.#options.onConfig(config, text);
    } catch (error) {
      log.error(`applying the new config failed: ${(error as Error).stack ?? String(error)}`);
    }
  }

  #invalid(key: string, error: Error): void {
    if (this.#closed || key === this.#rejected) return;
    this.#rejected = key;
    try {
      this.#options.onInvalid(error);
    } catch (thrown) {
      log.error(`onInvalid threw: ${(thrown as Error).stack ?? String(thrown)}`);
    }
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
