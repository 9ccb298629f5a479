/**
 * The fields of a "try it" form, from a tool's input schema (JSON Schema, as MCP tools declare
 * it: https://modelcontextprotocol.io/specification/2025-11-25/server/tools#tool). Plain
 * properties get inputs of their type; anything else (objects, arrays, unions) is typed as JSON.
 */
export interface Field {
  name: string;
  kind: 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';
  required: boolean;
  description: string;
  options: string[];
}

export function fieldsOf(schema: unknown): Field[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const { properties, required } = schema as { properties?: unknown; required?: unknown };
  if (typeof properties !== 'object' || properties === null) return [];
  const needed = new Set(
    Array.isArray(required) ? required.filter((r) => typeof r === 'string') : [],
  );
  return Object.entries(properties as Record<string, unknown>).map(([name, raw]) => {
    const property = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<
      string,
      unknown
    >;
    const type = property['type'];
    const options = Array.isArray(property['enum']) ? property['enum'].map(String) : [];
    const kind: Field['kind'] =
      options.length > 0
        ? 'enum'
        : type === 'string' || type === 'number' || type === 'integer' || type === 'boolean'
          ? type
          : 'json';
    return {
      name,
      kind,
      required: needed.has(name),
      description: typeof property['description'] === 'string' ? property['description'] : '',
      options,
    };
  });
}

/** The arguments object from the form's values; an error message for a value that is not valid. */
export function argumentsOf(
  fields: Field[],
  values: Record<string, string | boolean>,
): { ok: true; arguments: Record<string, unknown> } | { ok: false; error: string } {
  const args: Record<string, unknown> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (field.kind === 'boolean') {
      if (value === true || field.required) args[field.name] = value === true;
      continue;
    }
    if (typeof value !== 'string' || value === '') continue;
    if (field.kind === 'number' || field.kind === 'integer') {
      const number = Number(value);
      if (Number.isNaN(number)) return { ok: false, error: `${field.name}: ${value}` };
      args[field.name] = number;
    } else if (field.kind === 'json') {
      try {
        args[field.name] = JSON.parse(value);
      } catch (error) {
        return { ok: false, error: `${field.name}: ${String(error)}` };
      }
    } else {
      args[field.name] = value;
    }
  }
  return { ok: true, arguments: args };
}
