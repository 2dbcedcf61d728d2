/**
 * Turns a `multipart/form-data` body into the object shape the OpenAPI schema describes, the way
 * OpenAI's server reads the SDK's encoding: `key[]` parts collect into an array, `key[sub]` parts
 * into a nested object, and every other part is a string (the schema decides later whether it
 * must become a number or boolean). Parsing uses the web-standard `Request.formData()`.
 */

/** A file part as the fake records it. */
export interface UploadedFile {
  filename: string;
  contentType: string;
  size: number;
  bytes: Buffer;
}

export type FormValue = string | UploadedFile | FormValue[] | { [key: string]: FormValue };
export type FormFields = { [key: string]: FormValue };

export function isUploadedFile(value: unknown): value is UploadedFile {
  return (
    typeof value === 'object' && value !== null && Buffer.isBuffer((value as UploadedFile).bytes)
  );
}

/** Parses the body; rejects (TypeError) when it is not well-formed multipart. */
export async function parseMultipart(contentType: string, body: Buffer): Promise<FormFields> {
  const request = new Request('http://fake-openai.invalid/', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
    duplex: 'half',
  });
  const form = await request.formData();
  const fields: FormFields = {};
  for (const [key, value] of form.entries()) {
    const parsed: string | UploadedFile =
      typeof value === 'string'
        ? value
        : {
            filename: value.name,
            contentType: value.type,
            size: value.size,
            bytes: Buffer.from(await value.arrayBuffer()),
          };
    assign(fields, splitKey(key), parsed);
  }
  return fields;
}

/** `a[b][]` -> `['a', 'b', '']`; an empty segment means "append to an array". */
function splitKey(key: string): string[] {
  const match = /^([^[]+)((?:\[[^\]]*\])*)$/.exec(key);
  if (!match?.[1]) return [key];
  const rest = [...(match[2] ?? '').matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '');
  return [match[1], ...rest];
}

function assign(target: FormFields, segments: string[], value: FormValue): void {
  const [head, next, ...rest] = segments;
  if (head === undefined) return;
  if (next === undefined) {
    const existing = target[head];
    // A plain key sent twice becomes an array; the schema then decides whether that is allowed.
    target[head] =
      existing === undefined
        ? value
        : Array.isArray(existing)
          ? [...existing, value]
          : [existing, value];
    return;
  }
  if (next === '') {
    const list = Array.isArray(target[head]) ? target[head] : [];
    list.push(value);
    target[head] = list;
    return;
  }
  const child = target[head];
  const object =
    child !== undefined &&
    typeof child === 'object' &&
    !Array.isArray(child) &&
    !isUploadedFile(child)
      ? child
      : {};
  target[head] = object;
  assign(object, [next, ...rest], value);
}
