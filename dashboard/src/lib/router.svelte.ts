/** Routing in the browser by path (`/servers`, …); the daemon answers each page path with index.html. */
import { PAGES, type PageId } from '../pages.ts';

function pageOf(path: string): PageId {
  return PAGES.find((page) => page.path === path)?.id ?? 'overview';
}

export const route = $state({ page: pageOf(location.pathname) });

addEventListener('popstate', () => (route.page = pageOf(location.pathname)));

/** Follows a link of the dashboard without reloading the page (modified clicks open tabs). */
export function follow(event: MouseEvent): void {
  const link = event.currentTarget as HTMLAnchorElement;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
    return;
  event.preventDefault();
  if (link.pathname !== location.pathname) history.pushState(null, '', link.pathname);
  route.page = pageOf(link.pathname);
  // As a page load would: the keyboard and screen readers continue at the new page.
  document.getElementById('main')?.focus();
}
