/**
 * Every profile's view (`profile-view.ts`), kept in step with the catalog and the config;
 * and for a project with servers of its own `.mcp.json` (README: Projects), one view per
 * profile: the profile's view with the project's servers added. A view's list changes are
 * reported under its `key`, so only the clients that use that view hear `list_changed`.
 * Project views exist only for the config's projects with servers of their own (a client
 * cannot make more by naming folders): profiles × such projects of them.
 */
import { unrestrictedProfile } from '../../shared/config/defaults.js';
import type { ProfileConfig } from '../../shared/config/types.js';
import type { Catalog, ListKind } from './catalog.js';
import { KINDS, ProfileView, type ServerStateOf } from './profile-view.js';

/** Where a caller works, as far as views care: its project's real folder. */
export interface ViewPlace {
  dir: string;
}

export class ProfileViews {
  readonly #catalog: Catalog;
  readonly #stateOf: ServerStateOf;
  #views = new Map<string, ProfileView>();
  /** By `projectKey`: the views of projects with servers of their own. */
  #projectViews = new Map<string, ProfileView>();
  #pageSize: number;
  readonly #none: ProfileView;

  constructor(
    catalog: Catalog,
    profiles: Readonly<Record<string, ProfileConfig>>,
    pageSize: number,
    stateOf: ServerStateOf,
  ) {
    this.#catalog = catalog;
    this.#stateOf = stateOf;
    this.#pageSize = pageSize;
    const nothing = { ...unrestrictedProfile('(removed)', []), restricted: true };
    this.#none = new ProfileView(nothing, catalog, pageSize, stateOf);
    this.configure(profiles, pageSize);
  }

  get(profile: string): ProfileView | undefined {
    return this.#views.get(profile);
  }

  /**
   * The view of a caller with `profile` working in `project`: the profile's, or the
   * project's when it has servers of its own. A profile removed by a reload while its
   * clients still had requests on the way sees nothing (their next request is refused at
   * the door).
   */
  viewOf(profile: string, project?: ViewPlace | null): ProfileView {
    const view = this.#views.get(profile);
    if (view === undefined) return this.#none;
    if (project == null || this.#projectViews.size === 0) return view;
    return this.#projectViews.get(projectKey(profile, project.dir)) ?? view;
  }

  values(): IterableIterator<ProfileView> {
    return [...this.#views.values(), ...this.#projectViews.values()].values();
  }

  /** After a catalog change: each view's list kinds that changed (empty ones left out). */
  rebuild(): Map<string, Set<ListKind>> {
    const changed = new Map<string, Set<ListKind>>();
    for (const view of this.values()) {
      const kinds = view.rebuild();
      if (kinds.size > 0) changed.set(view.key, kinds);
    }
    return changed;
  }

  /**
   * A (re)loaded config: views are rebuilt from it; the result says which lists changed for
   * each view's clients, compared with what they saw before (a new profile has none yet).
   * Every profile has a view in each project with servers of its own: the clients of a
   * project that gains its first hear of it under the new view's key, and those of one that
   * loses its last under the profile's (with its other clients: one notice too many, no
   * change missed).
   */
  configure(
    profiles: Readonly<Record<string, ProfileConfig>>,
    pageSize: number,
  ): Map<string, Set<ListKind>> {
    this.#pageSize = pageSize;
    const changed = new Map<string, Set<ListKind>>();
    const views = new Map<string, ProfileView>();
    for (const config of Object.values(profiles)) {
      const view = new ProfileView(config, this.#catalog, pageSize, this.#stateOf);
      views.set(config.name, view);
      noteChanges(this.#views.get(config.name), view, changed);
    }
    const projectViews = new Map<string, ProfileView>();
    for (const dir of this.#catalog.projectDirs()) {
      const own = this.#catalog.projectServers(dir);
      for (const profile of views.values()) {
        const view = this.#projectView(profile.config, dir, own);
        projectViews.set(view.key, view);
        const before = this.#projectViews.get(view.key) ?? this.#views.get(profile.name);
        noteChanges(before, view, changed);
      }
    }
    for (const [key, before] of this.#projectViews) {
      const profile = views.get(before.config.name);
      if (!projectViews.has(key) && profile !== undefined) {
        noteChanges(before, profile, changed);
      }
    }
    this.#views = views;
    this.#projectViews = projectViews;
    return changed;
  }

  #projectView(profile: ProfileConfig, dir: string, own: readonly string[]): ProfileView {
    // Its lists are this project's, so never shared caches (`restricted` makes them private).
    const config = { ...profile, servers: [...profile.servers, ...own], restricted: true };
    const key = projectKey(profile.name, dir);
    return new ProfileView(config, this.#catalog, this.#pageSize, this.#stateOf, key);
  }
}

/** A project view's key: no profile name has a line break, so it names one view. */
function projectKey(profile: string, dir: string): string {
  return `${profile}\n${dir}`;
}

/** Which lists of `before` read differently in `after`, added under `after`'s key. */
function noteChanges(
  before: ProfileView | undefined,
  after: ProfileView,
  changed: Map<string, Set<ListKind>>,
): void {
  if (before === undefined) return;
  // New servers, when lazy, list nothing until a list request starts them: their clients are
  // told to ask (docs/architecture.md#config-and-hot-reload), and hear again once they list.
  const serversChanged = before.config.servers.join('\n') !== after.config.servers.join('\n');
  const kinds = new Set(
    KINDS.filter((kind) => serversChanged || before.pageText(kind) !== after.pageText(kind)),
  );
  const toolsOf = (v: ProfileView): string => JSON.stringify(v.tools());
  if (before.meta !== after.meta || toolsOf(before) !== toolsOf(after)) kinds.add('tools');
  if (kinds.size === 0) return;
  const known = changed.get(after.key);
  if (known === undefined) changed.set(after.key, kinds);
  else for (const kind of kinds) known.add(kind);
}
