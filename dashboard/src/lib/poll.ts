/**
 * Runs `load` now (unless `immediate` is false) and every `ms` while the tab is visible: a
 * dashboard left open in a background tab asks the daemon nothing (each poll is an `/api`
 * request the supervisor thread answers).
 */
export function poll(ms: number, load: () => unknown, immediate = true): () => void {
  if (immediate) void load();
  const timer = setInterval(() => {
    if (!document.hidden) void load();
  }, ms);
  const visible = (): void => {
    if (!document.hidden) void load();
  };
  document.addEventListener('visibilitychange', visible);
  return () => {
    clearInterval(timer);
    document.removeEventListener('visibilitychange', visible);
  };
}
