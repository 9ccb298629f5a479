/** Numeric command-line flags of the repository's bench scripts (soak, thread encoding). */
export function numberFlag(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new RangeError(`not a number: ${value}`);
  return parsed;
}
