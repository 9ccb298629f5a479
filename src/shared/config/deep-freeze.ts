/**
 * The loaded config is shared by every module of the supervisor; freezing it all the way
 * down turns an accidental write (which would desync the workers' copies) into a TypeError.
 */
export function deepFreeze<T>(value: T): T {
  // Recurses even into frozen objects: a shallow-frozen parent may hold unfrozen children.
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
