/**
 * Checks an HTTP request against the OpenAPI operation it targets: path and method, declared
 * media type, and the request-body schema (compiled with ajv, JSON Schema 2020-12 as OpenAPI 3.1
 * says). JSON bodies are validated as sent, with no type coercion. Multipart fields are strings
 * on the wire, so they are first coerced to the types the schema declares (see form-coercion.ts),
 * and `format: binary` fields must be file parts (and only they may be).
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { coerceToSchema } from './form-coercion.js';
import { isUploadedFile, parseMultipart, type FormFields, type FormValue } from './multipart.js';
import {
  escapePointer,
  loadSpec,
  resolveSpecPath,
  type JsonObject,
  type OpenApiOperation,
  type OpenApiSpec,
} from './openapi-spec.js';

const SPEC_ID = 'openai-openapi.json';

export interface RequestInput {
  method: string;
  /** URL path without the query, e.g. `/v1/audio/speech`. */
  pathname: string;
  contentType: string | undefined;
  body: Buffer;
}

export type RequestCheck =
  | { ok: true; operationId: string; body: unknown }
  | { ok: false; status: 400 | 404; operationId?: string; param: string | null; errors: string[] };

const cache = new Map<string, Promise<OpenApiValidator>>();

export class OpenApiValidator {
  private readonly compiled = new Map<string, ValidateFunction>();

  private constructor(
    private readonly spec: OpenApiSpec,
    private readonly ajv: Ajv2020,
  ) {}

  /** Loads and prepares the spec once per path and process (compiling the chat schema is slow). */
  static load(specPath: string = resolveSpecPath()): Promise<OpenApiValidator> {
    let loaded = cache.get(specPath);
    if (!loaded) {
      loaded = loadSpec(specPath).then((spec) => new OpenApiValidator(spec, createAjv(spec)));
      loaded.catch(() => cache.delete(specPath));
      cache.set(specPath, loaded);
    }
    return loaded;
  }

  async checkRequest(input: RequestInput): Promise<RequestCheck> {
    const op = this.spec.findOperation(input.method, input.pathname);
    if (!op) {
      const errors = [`no operation ${input.method} ${input.pathname} in the OpenAPI spec`];
      return { ok: false, status: 404, param: null, errors };
    }
    const fail = (errors: string[], param: string | null = null): RequestCheck => ({
      ok: false,
      status: 400,
      operationId: op.operationId,
      param,
      errors,
    });
    const mediaType = input.contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
    if (input.body.length === 0 && !op.bodyRequired) {
      return { ok: true, operationId: op.operationId, body: undefined };
    }
    if (!op.mediaTypes.includes(mediaType)) {
      return fail([
        `content-type '${input.contentType ?? ''}' is not one the spec declares (${op.mediaTypes.join(', ')})`,
      ]);
    }
    const schemaRef = `${SPEC_ID}#${op.pointer}/requestBody/content/${escapePointer(mediaType)}/schema`;
    if (mediaType === 'multipart/form-data') return this.checkMultipart(op, schemaRef, input, fail);
    let body: unknown;
    try {
      body = JSON.parse(input.body.toString('utf8'));
    } catch {
      return fail(['request body is not valid JSON']);
    }
    const validate = this.compile(schemaRef);
    if (validate(body)) return { ok: true, operationId: op.operationId, body };
    return fail(describeErrors(validate.errors), paramOf(validate.errors));
  }

  /**
   * Compiles the request schemas of these operations now rather than on their first request
   * (the chat schema takes a few hundred milliseconds, which a benchmark would count).
   */
  precompile(routes: Array<{ method: string; pathname: string }>): void {
    for (const { method, pathname } of routes) {
      const op = this.spec.findOperation(method, pathname);
      if (!op) throw new Error(`no operation for ${method} ${pathname} in the spec`);
      for (const mediaType of op.mediaTypes) {
        this.compile(
          `${SPEC_ID}#${op.pointer}/requestBody/content/${escapePointer(mediaType)}/schema`,
        );
      }
    }
  }

  /** Validates any value against `#/components/schemas/<name>`; returns the errors (none = valid). */
  validateComponent(name: string, value: unknown): string[] {
    const validate = this.compile(`${SPEC_ID}#/components/schemas/${escapePointer(name)}`);
    return validate(value) ? [] : describeErrors(validate.errors);
  }

  private async checkMultipart(
    op: OpenApiOperation,
    schemaRef: string,
    input: RequestInput,
    fail: (errors: string[], param?: string | null) => RequestCheck,
  ): Promise<RequestCheck> {
    let fields: FormFields;
    try {
      fields = await parseMultipart(input.contentType ?? '', input.body);
    } catch {
      return fail(['request body is not well-formed multipart/form-data']);
    }
    const schema = this.resolve(schemaRef.slice(SPEC_ID.length));
    const binaryFields = binaryProperties(schema, (s) => this.resolveSchema(s));
    const kindErrors: string[] = [];
    let kindParam: string | null = null;
    for (const [name, value] of Object.entries(fields)) {
      const isFile = isUploadedFile(value);
      if (binaryFields.has(name) === isFile) continue;
      kindErrors.push(`/${name} must ${isFile ? 'not ' : ''}be a file part`);
      kindParam ??= name;
    }
    // Files are validated as binary strings; the schema only says `type: string, format: binary`.
    const data = coerceToSchema(toValidationData(fields), schema, (s) => this.resolveSchema(s));
    const validate = this.compile(schemaRef);
    const valid = validate(data);
    const errors = [...kindErrors, ...(valid ? [] : describeErrors(validate.errors))];
    if (errors.length > 0) return fail(errors, kindParam ?? paramOf(validate.errors));
    return {
      ok: true,
      operationId: op.operationId,
      body: restoreFiles(data as JsonObject, fields),
    };
  }

  private resolveSchema(schema: JsonObject): JsonObject {
    const ref = schema['$ref'];
    return typeof ref === 'string' ? this.resolve(ref) : schema;
  }

  private resolve(ref: string): JsonObject {
    let node: unknown = this.spec.document;
    for (const part of ref.replace(/^#?\//, '').split('/')) {
      node = (node as JsonObject)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return this.resolveSchema((node ?? {}) as JsonObject);
  }

  private compile(ref: string): ValidateFunction {
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validate);
    }
    return validate;
  }
}

function createAjv(spec: OpenApiSpec): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true, discriminator: true });
  ajvFormats.default(ajv);
  // Formats ajv-formats does not know (e.g. OpenAI's `unixtime`) are documentation only.
  for (const format of spec.formats) if (!ajv.formats[format]) ajv.addFormat(format, true);
  ajv.addSchema({ ...spec.document, $id: SPEC_ID });
  return ajv;
}

/** Top-level properties declared `format: binary` (file parts) in the body schema. */
function binaryProperties(schema: JsonObject, resolve: (s: JsonObject) => JsonObject): Set<string> {
  const properties = (schema['properties'] ?? {}) as Record<string, JsonObject>;
  const names = Object.entries(properties).filter(
    ([, prop]) => resolve(prop)['format'] === 'binary',
  );
  return new Set(names.map(([name]) => name));
}

function toValidationData(value: FormValue): unknown {
  if (isUploadedFile(value)) return value.bytes.toString('latin1');
  if (Array.isArray(value)) return value.map(toValidationData);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toValidationData(v)]));
  }
  return value;
}

/** The coerced data with the file parts put back as `UploadedFile`s. */
function restoreFiles(data: JsonObject, fields: FormFields): JsonObject {
  for (const [name, value] of Object.entries(fields)) if (isUploadedFile(value)) data[name] = value;
  return data;
}

function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  const messages = (errors ?? []).map((error) => {
    const where = error.instancePath || '/';
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'additionalProperties') {
      return `${where} must NOT have additional property '${String(params['additionalProperty'])}'`;
    }
    if (error.keyword === 'enum') {
      return `${where} must be one of ${JSON.stringify(params['allowedValues'])}`;
    }
    return `${where} ${error.message ?? error.keyword}`;
  });
  return [...new Set(messages)];
}

/** The top-level request field the first error is about, as OpenAI reports it in `error.param`. */
function paramOf(errors: ErrorObject[] | null | undefined): string | null {
  const first = errors?.[0];
  if (!first) return null;
  const top = first.instancePath.split('/')[1];
  if (top) return top.replace(/~1/g, '/').replace(/~0/g, '~');
  const params = first.params as Record<string, unknown>;
  const named = params['missingProperty'] ?? params['additionalProperty'];
  return typeof named === 'string' ? named : null;
}
