/**
 * A `fetch` for the OpenAI SDK on undici's `request`: the same connection pool and the same
 * bytes on the wire, without the Fetch standard's machinery around them.
 *
 * Node's `fetch` (undici 6) builds a `Request`, guards its headers, runs the response body
 * through a WHATWG `ReadableStream` and reads it a promise per chunk. Against the bench's fake,
 * one turn's three provider calls (a transcription, a streamed chat completion, a streamed
 * speech) cost 7.0-9.3 ms of CPU through our providers and the SDK on `fetch`, 4.3-5.4 ms on this
 * (`npm run bench:providers`; undici's `request` alone, without the SDK: 3.3-3.5 ms). A loaded
 * server makes dozens of such turns a second, on the event loop that paces every call's audio.
 *
 * What the SDK and our providers use of the answer is kept: status, headers, `text()`, `json()`,
 * `arrayBuffer()`, `blob()`, and `body` iterated with `for await`. The body is undici's Node
 * stream rather than a WHATWG stream: the SDK reads any body that is async iterable that way
 * (`ReadableStreamToAsyncIterable`, `CancelReadableStream` in its shims), and so do our
 * providers; it has no `getReader()`. Anything this does not carry (a `Request` object, a body
 * other than a string, bytes or a form) goes to Node's `fetch` with the same dispatcher.
 */
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** undici's response body: a Node stream with the body mixin's readers. */
type BodyReadable = Readable & {
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  blob(): Promise<Blob>;
};

/**
 * A standard `Response` (status, headers, `instanceof`) whose body and readers are undici's
 * stream's, set as own properties over the prototype's (see the module's note).
 */
function streamedResponse(stream: BodyReadable, status: number, headers: Headers, url: string) {
  const response = new Response(null, { status, headers });
  Object.defineProperties(response, {
    // Async iterable, as the SDK and our providers read it; typed as the standard's stream.
    body: { get: () => stream },
    bodyUsed: { get: () => stream.readableDidRead || stream.destroyed },
    url: { value: url },
    text: { value: () => stream.text() },
    json: { value: () => stream.json() },
    arrayBuffer: { value: () => stream.arrayBuffer() },
    blob: { value: () => stream.blob() },
  });
  return response;
}

function carried(body: RequestInit['body']): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof FormData
  );
}

/** Lower-cased name → value (the SDK passes a `Headers`; anything else is made one first). */
function requestHeaders(init: NonNullable<RequestInit['headers']>): Record<string, string> {
  return Object.fromEntries(init instanceof Headers ? init : new Headers(init));
}

function responseHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.append(name, value);
  }
  return headers;
}

/** A `fetch` for the SDK's `fetch` option, on `dispatcher` (the process's keep-alive pool). */
export function requestFetch(dispatcher: Dispatcher): Fetch {
  return async (input, init = {}) => {
    if (input instanceof Request || !carried(init.body)) {
      return fetch(input, { ...init, dispatcher });
    }
    const url = String(input);
    const res = await request(url, {
      dispatcher,
      method: (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
      headers: init.headers === undefined ? undefined : requestHeaders(init.headers),
      body: (init.body ?? undefined) as string | Uint8Array | FormData | undefined,
      signal: init.signal ?? undefined,
    });
    // A redirect is not followed (OpenAI's API sends none): it reaches the SDK as a status it
    // reports as an error, not as a silent second request.
    const body = res.body as unknown as BodyReadable;
    try {
      return streamedResponse(body, res.statusCode, responseHeaders(res.headers), url);
    } catch (err) {
      // A status or header the standard's Response refuses: the connection must not stay held.
      body.destroy();
      throw err;
    }
  };
}
