/**
 * The globs of profiles' allow and deny lists. They match tool and prompt names and resource
 * URIs, not paths, so `*` matches any run of characters including `/` (path globbers such as
 * picomatch stop `*` at `/`, which would make `file:///home/*` useless), and `?` matches one.
 */
export type Matcher = (value: string) => boolean;

export function globMatcher(globs: readonly string[]): Matcher {
  if (globs.length === 0) return () => false;
  const source = globs
    .map((glob) =>
      glob
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
        .join(''),
    )
    .join('|');
  const pattern = new RegExp(`^(?:${source})$`, 's');
  return (value) => pattern.test(value);
}

/** allow (null: everything) minus deny; deny wins. */
export function allowDenyMatcher(rules: {
  allow: readonly string[] | null;
  deny: readonly string[];
}): Matcher {
  const allowed = rules.allow === null ? () => true : globMatcher(rules.allow);
  const denied = globMatcher(rules.deny);
  return (value) => allowed(value) && !denied(value);
}
