/**
 * Runs one HTTP tool call against the business's backend. The URL, method and headers are the
 * operator's; the model supplies only the arguments (a JSON body for POST, query parameters for
 * GET). Whatever happens comes back as a result the model can read, never as an exception: a
 * timeout, a non-2xx status, an answer that is not JSON, a backend that cannot be reached. The
 * answer is read up to `maxBytes` and cut there, so a large response cannot flood the prompt.
 */
import { linkedAbort } from '../providers/linked-abort.js';
import type { ToolCallStatus } from '../conversation/turn-record.js';
import type { HttpToolSpec } from './spec.js';

export interface ToolResult {
  status: ToolCallStatus;
  /** The tool message the model gets. */
  content: string;
}

export interface HttpToolOptions {
  /** Longest answer passed on (bytes). */
  maxBytes: number;
  /** The turn's signal: a barge-in cancels the request. */
  signal: AbortSignal;
}

/** Error bodies are quoted to the model only this far. */
const ERROR_BODY_CHARS = 500;

export async function callHttpTool(
  spec: HttpToolSpec,
  args: Record<string, unknown>,
  opts: HttpToolOptions,
): Promise<ToolResult> {
  const { controller, unlink } = linkedAbort(opts.signal);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, spec.timeoutMs);
  try {
    const response = await fetch(requestUrl(spec, args), {
      method: spec.method,
      headers: {
        accept: 'application/json',
        'user-agent': 'exotel-voicebot',
        ...(spec.method === 'POST' ? { 'content-type': 'application/json' } : {}),
        ...spec.headers,
      },
      ...(spec.method === 'POST' ? { body: JSON.stringify(args) } : {}),
      redirect: 'error',
      signal: controller.signal,
    });
    const { text, cut } = await readBounded(response, opts.maxBytes);
    if (!response.ok) {
      return failure('error', {
        error: `the service answered HTTP ${response.status}`,
        ...(text ? { body: text.slice(0, ERROR_BODY_CHARS) } : {}),
      });
    }
    if (cut) return { status: 'ok', content: `${text} …[answer cut at ${opts.maxBytes} bytes]` };
    if (text.trim() === '') return { status: 'ok', content: JSON.stringify({ ok: true }) };
    try {
      JSON.parse(text);
    } catch {
      return failure('error', { error: 'the service answered with something that is not JSON' });
    }
    return { status: 'ok', content: text };
  } catch {
    if (timedOut) return failure('timeout', { error: `no answer within ${spec.timeoutMs} ms` });
    if (opts.signal.aborted) return failure('cancelled', { error: 'cancelled: the caller spoke' });
    return failure('error', { error: 'the service could not be reached' });
  } finally {
    clearTimeout(timer);
    unlink();
  }
}

function failure(status: ToolCallStatus, body: Record<string, string>): ToolResult {
  return { status, content: JSON.stringify(body) };
}

/** The operator's URL, with the arguments in the query for GET. */
function requestUrl(spec: HttpToolSpec, args: Record<string, unknown>): string {
  if (spec.method !== 'GET') return spec.url;
  const url = new URL(spec.url);
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined || value === null) continue;
    url.searchParams.append(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return url.toString();
}

/** The body as text, at most `maxBytes` of it (cut at a character boundary). */
async function readBounded(
  response: Response,
  maxBytes: number,
): Promise<{ text: string; cut: boolean }> {
  if (!response.body) return { text: '', cut: false };
  const parts: Uint8Array[] = [];
  let size = 0;
  let cut = false;
  for await (const value of response.body as AsyncIterable<Uint8Array>) {
    parts.push(value);
    size += value.byteLength;
    if (size > maxBytes) {
      cut = true;
      break; // leaving the loop cancels the body
    }
  }
  const bytes = Buffer.concat(parts).subarray(0, maxBytes);
  // A multi-byte character cut in half decodes to U+FFFD at the end: drop it.
  return { text: bytes.toString('utf8').replace(/\uFFFD+$/, ''), cut };
}
