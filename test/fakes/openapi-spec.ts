/**
 * Loads OpenAI's published OpenAPI document and rewrites the OpenAPI-only parts of its schemas
 * into plain JSON Schema 2020-12 that ajv understands. The document is OpenAPI 3.1 but still uses
 * the 3.0 keyword `nullable` (sometimes next to `$ref` or `oneOf`, where ajv's own `nullable`
 * support refuses to compile), puts `discriminator` on `anyOf` as well as `oneOf`, and carries
 * many `x-*` extension keys.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type JsonObject = { [key: string]: unknown };

export interface OpenApiOperation {
  /** e.g. `createSpeech`. */
  operationId: string;
  /** JSON pointer (without `#`) to the operation object inside the document. */
  pointer: string;
  /** Request body media types the spec declares, e.g. `['application/json']`. */
  mediaTypes: string[];
  bodyRequired: boolean;
}

export interface OpenApiSpec {
  /** The normalised document (safe to hand to ajv). */
  document: JsonObject;
  /** Path prefix of the first server URL, e.g. `/v1`. */
  basePath: string;
  /** Formats named anywhere in the schemas (ajv must know them all). */
  formats: Set<string>;
  findOperation(method: string, pathname: string): OpenApiOperation | undefined;
}

/**
 * Where the spec lives: `OPENAI_SPEC_PATH` if set, else `<repo>/../shared/…` (CI clones the repo
 * with `shared/` beside it).
 */
export function resolveSpecPath(): string {
  const override = process.env['OPENAI_SPEC_PATH'];
  if (override) return path.resolve(override);
  const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
  return path.resolve(repoRoot, '../shared/openai-openapi-audio-chat.json');
}

export async function loadSpec(specPath: string = resolveSpecPath()): Promise<OpenApiSpec> {
  let raw: string;
  try {
    raw = await readFile(specPath, 'utf8');
  } catch (err) {
    throw new Error(
      `fake-openai: cannot read the OpenAPI spec at ${specPath} (set OPENAI_SPEC_PATH to override)`,
      { cause: err },
    );
  }
  const formats = new Set<string>();
  const document = normalise(JSON.parse(raw), formats) as JsonObject;
  const basePath = serverBasePath(document);
  return {
    document,
    basePath,
    formats,
    findOperation: (method, pathname) => findOperation(document, basePath, method, pathname),
  };
}

function serverBasePath(document: JsonObject): string {
  const servers = document['servers'];
  const first = Array.isArray(servers) ? (servers[0] as JsonObject | undefined) : undefined;
  const url = typeof first?.['url'] === 'string' ? first['url'] : '';
  return url ? new URL(url, 'http://placeholder').pathname.replace(/\/$/, '') : '';
}

function findOperation(
  document: JsonObject,
  basePath: string,
  method: string,
  pathname: string,
): OpenApiOperation | undefined {
  if (!pathname.startsWith(basePath)) return undefined;
  const specPath = pathname.slice(basePath.length);
  const paths = document['paths'] as Record<string, JsonObject> | undefined;
  // The three operations we fake have no path parameters, so an exact match is enough.
  const op = paths?.[specPath]?.[method.toLowerCase()] as JsonObject | undefined;
  if (!op) return undefined;
  const body = op['requestBody'] as JsonObject | undefined;
  const content = (body?.['content'] ?? {}) as JsonObject;
  return {
    operationId: String(op['operationId']),
    pointer: `/paths/${escapePointer(specPath)}/${method.toLowerCase()}`,
    mediaTypes: Object.keys(content),
    bodyRequired: body?.['required'] === true,
  };
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Keys whose value is a map of names to schemas: their keys are names, never keywords. */
const NAME_MAPS = new Set(['properties', 'patternProperties', '$defs']);

/**
 * Returns a copy with `nullable: true` turned into `anyOf: [schema, {type: 'null'}]`,
 * `discriminator` kept only where it sits next to `oneOf` (the only place ajv accepts it) and
 * `x-*` extension keys dropped. Collects every `format` it sees into `formats`.
 */
function normalise(node: unknown, formats: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((item) => normalise(item, formats));
  if (node === null || typeof node !== 'object') return node;
  const out: JsonObject = {};
  const source = node as JsonObject;
  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith('x-') || key === 'nullable') continue;
    if (key === 'discriminator' && !('oneOf' in source)) continue;
    if (key === 'format' && typeof value === 'string') formats.add(value);
    out[key] = NAME_MAPS.has(key) ? normaliseMap(value, formats) : normalise(value, formats);
  }
  if (source['nullable'] !== true) return out;
  // Annotations stay on the outside; everything else becomes the non-null branch.
  const { description, default: defaultValue, deprecated, title, ...schema } = out;
  const wrapped: JsonObject = { anyOf: [schema, { type: 'null' }] };
  if (description !== undefined) wrapped['description'] = description;
  if (defaultValue !== undefined) wrapped['default'] = defaultValue;
  if (deprecated !== undefined) wrapped['deprecated'] = deprecated;
  if (title !== undefined) wrapped['title'] = title;
  return wrapped;
}

function normaliseMap(value: unknown, formats: Set<string>): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value as JsonObject).map(([name, schema]) => [name, normalise(schema, formats)]),
  );
}
