/** Exhaustiveness check for switches over the unions of src/shared/messages.ts. */
export function assertNever(value: never): never {
  throw new Error(`unexpected message: ${JSON.stringify(value)}`);
}
