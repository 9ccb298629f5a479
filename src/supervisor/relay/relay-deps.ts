/** What the relay (dispatch.ts, forwarding.ts) is built from, in supervisor/index.ts. */
import type { JsonObject } from '../../shared/json.js';
import type { Catalog } from '../catalog/catalog.js';
import type { ProfileViews } from '../catalog/profile-views.js';
import type { ShardPool } from '../pool/shard-pool.js';
import type { RequestStateSealer } from '../session/request-state.js';
import type { Sessions } from '../session/sessions.js';
import type { Projects } from '../session/projects.js';
import type { ReadonlyOwnInstances } from './own-instances.js';

export interface RelayDeps {
  catalog: Catalog;
  views: ProfileViews;
  shards: ShardPool;
  sessions: Sessions;
  /** Servers whose callers have instances of their own (kept current by reload). */
  ownInstances: ReadonlyOwnInstances;
  serverInfo: JsonObject;
  /** Seals and opens the `requestState` of parked calls (session/request-state.ts). */
  sealer: RequestStateSealer;
  /** Which folders may be projects (session/projects.ts), for a client's roots. */
  projects: Projects;
}
