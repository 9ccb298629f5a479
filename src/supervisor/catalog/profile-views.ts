/**
 * Every profile's view (`profile-view.ts`), kept in step with the catalog and the config;
 * and for a project with servers of its own `.mcp.json` (README: Projects), one view per
 * profile used there: the profile's view with the project's servers added. A view's list
 * changes are reported under its `key`, so only the clients that use that view hear
 * `list_changed`. Project views exist only for the config's projects (a client cannot make
 * more by naming folders), and are made when a session there first asks.
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
    if (project == null) return view;
    const key = projectKey(profile, project.dir);
    const known = this.#projectViews.get(key);
    if (known !== undefined) return known;
    const own = this.#catalog.projectServers(project.dir);
    if (own.length === 0) return view;
    const made = this.#projectView(view.config, project.dir, own);
    this.#projectViews.set(key, made);
    return made;
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
   * A (re)loaded config: views are rebuilt from it; the result says which lists changed
   * for each view that existed before (a new profile has no clients yet). A project's view
   * is made again with the project's servers now; one whose project has none left goes, and
   * its clients hear that their lists changed.
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
    for (const [key, before] of this.#projectViews) {
      const profile = views.get(before.config.name);
      const dir = key.slice(key.indexOf('\n') + 1);
      const own = this.#catalog.projectServers(dir);
      if (profile === undefined) continue;
      const view = own.length === 0 ? profile : this.#projectView(profile.config, dir, own);
      if (own.length > 0) projectViews.set(key, view);
      noteChanges(before, view, changed, key);
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

/** Which lists of `before` read differently in `after`, under `key`. */
function noteChanges(
  before: ProfileView | undefined,
  after: ProfileView,
  changed: Map<string, Set<ListKind>>,
  key = after.key,
): void {
  if (before === undefined) return;
  const kinds = new Set(KINDS.filter((kind) => before.pageText(kind) !== after.pageText(kind)));
  const toolsOf = (v: ProfileView): string => JSON.stringify(v.tools());
  if (before.meta !== after.meta || toolsOf(before) !== toolsOf(after)) kinds.add('tools');
  if (kinds.size > 0) changed.set(key, kinds);
}
