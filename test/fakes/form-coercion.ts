/**
 * Multipart fields are all strings on the wire; this turns them into the JSON types the schema
 * declares before validation ("0.2" -> 0.2, "true" -> true, and "null" -> null as the SDK
 * documents), following `$ref`, `anyOf`, `oneOf` and `allOf`. A string the schema also accepts
 * as a string is left alone. ajv's own `coerceTypes` is not used: inside `anyOf` it evaluates the
 * later `{type: 'null'}` branch too and turns an already-coerced `false` into `null`.
 */
import type { JsonObject } from './openapi-spec.js';

export type ResolveSchema = (schema: JsonObject) => JsonObject;

const NUMERIC = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Returns a coerced copy of `value` (files, already strings here, pass through). */
export function coerceToSchema(
  value: unknown,
  schema: JsonObject,
  resolve: ResolveSchema,
): unknown {
  const branches = flatten(schema, resolve);
  if (typeof value === 'string') return coerceString(value, branches);
  if (Array.isArray(value)) {
    const items = branches.find((b) => typeOf(b).includes('array') && b['items'])?.['items'];
    return items ? value.map((item) => coerceToSchema(item, items as JsonObject, resolve)) : value;
  }
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value as JsonObject)) {
      const owner = branches.find((b) => (b['properties'] as JsonObject | undefined)?.[key]);
      const childSchema = (owner?.['properties'] as JsonObject | undefined)?.[key];
      out[key] = childSchema ? coerceToSchema(child, childSchema as JsonObject, resolve) : child;
    }
    return out;
  }
  return value;
}

function coerceString(value: string, branches: JsonObject[]): unknown {
  const types = new Set(branches.flatMap(typeOf));
  if (types.has('string')) return value;
  if ((types.has('number') || types.has('integer')) && NUMERIC.test(value)) return Number(value);
  if (types.has('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  if (types.has('null') && value === 'null') return null;
  return value;
}

/** The schema and every schema reachable through `$ref` / `anyOf` / `oneOf` / `allOf`. */
function flatten(schema: JsonObject, resolve: ResolveSchema, depth = 0): JsonObject[] {
  const resolved = resolve(schema);
  if (depth > 8) return [resolved];
  const nested = ['anyOf', 'oneOf', 'allOf'].flatMap((key) => {
    const list = resolved[key];
    return Array.isArray(list) ? (list as JsonObject[]) : [];
  });
  return [resolved, ...nested.flatMap((branch) => flatten(branch, resolve, depth + 1))];
}

function typeOf(schema: JsonObject): string[] {
  const type = schema['type'];
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? (type as string[]) : [];
}
