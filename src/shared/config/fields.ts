/**
 * The leaves the config schemas are built from. Each states what it expects ("an integer
 * from 0 to 65535"), so every problem reads `expected X, found Y`.
 */
import { z } from 'zod';

/** setTimeout fires at once for delays above 2^31-1 ms, so longer timeouts would never wait. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** Request bodies are buffered whole before parsing; more than 1 GiB is surely a typo. */
export const MAX_BODY_BYTES = 2 ** 30;

export function integer(min: number, max?: number) {
  const expected =
    max === undefined ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  const atLeast = z.int({ error: expected }).min(min, { error: expected });
  return max === undefined ? atLeast : atLeast.max(max, { error: expected });
}

export function nonEmptyString() {
  const expected = 'a non-empty string';
  return z.string({ error: expected }).min(1, { error: expected });
}
