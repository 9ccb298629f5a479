/**
 * The dashboard's pages: the browser routes by these paths, and the build writes them to
 * `routes.json` so the daemon answers each with index.html (src/supervisor/admin/dashboard.ts).
 */
export const PAGES = [
  { path: '/', id: 'overview' },
  { path: '/servers', id: 'servers' },
  { path: '/tools', id: 'tools' },
  { path: '/sessions', id: 'sessions' },
  { path: '/calls', id: 'calls' },
  { path: '/config', id: 'config' },
] as const;

export type PageId = (typeof PAGES)[number]['id'];
