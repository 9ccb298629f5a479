/** JSON values as they cross threads and the wire. Payloads are kept as plain data. */
export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * A numeric request id that JSON.parse could not hold exactly (an integer beyond 2^53): its
 * source text, so the response carries the id exactly as the client sent it.
 */
export class ExactNumber {
  constructor(readonly text: string) {}
  /** Where an id is serialized as a value (logs), the nearest number. */
  toJSON(): number {
    return Number(this.text);
  }
}

/** A JSON-RPC request id: string or number (never null for a request). */
export type RequestId = string | number | ExactNumber;

/** The id as a JSON value (an exact big id becomes its nearest number). */
export function idValue(id: RequestId): string | number {
  return id instanceof ExactNumber ? Number(id.text) : id;
}

/** The id as JSON text, exactly as the client sent it. */
export function idJson(id: RequestId | null): string {
  return id instanceof ExactNumber ? id.text : JSON.stringify(id);
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `object[key]` for a key that came from outside (a client, a backend): only the object's
 * own members, never what `Object.prototype` has under that name (`constructor`, …).
 */
export function ownMember(object: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** A shallow copy of an object without the given keys. */
export function omit(object: JsonObject, keys: readonly string[]): JsonObject {
  const copy: JsonObject = { ...object };
  for (const key of keys) delete copy[key];
  return copy;
}
