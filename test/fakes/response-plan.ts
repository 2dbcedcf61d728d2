/**
 * Every answer the fake gives is first described as a plan (status, headers, timed body chunks,
 * whether it ends) and then played onto the socket. Building plans is pure, so failure modes can
 * be derived from normal answers: a stall is a normal answer cut after N bytes that never ends.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ErrorBehaviour } from './behaviours.js';

export interface PlanChunk {
  /** When to write it, in ms after the plan starts playing. */
  atMs: number;
  data: Buffer;
}

export interface ResponsePlan {
  status: number;
  headers: Record<string, string>;
  /** When to send the status line and headers, in ms after the plan starts playing. */
  headersAtMs: number;
  chunks: PlanChunk[];
  /** false: keep the response open after the last chunk until the client or `close()` ends it. */
  end: boolean;
  /** After the last chunk, close the connection without ending the response (a reset). */
  drop?: boolean;
}

/** A whole body sent at once with a Content-Length (how OpenAI sends JSON). */
export function fixedPlan(
  status: number,
  contentType: string,
  body: string | Buffer,
  delayMs = 0,
  headers: Record<string, string> = {},
): ResponsePlan {
  const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return {
    status,
    headers: { 'content-type': contentType, 'content-length': String(data.length), ...headers },
    headersAtMs: delayMs,
    chunks: data.length > 0 ? [{ atMs: delayMs, data }] : [],
    end: true,
  };
}

const ERROR_DEFAULTS: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request (fake-openai).' },
  401: {
    type: 'invalid_request_error',
    code: 'invalid_api_key',
    message: 'Incorrect API key provided (fake-openai).',
  },
  403: { type: 'invalid_request_error', code: null, message: 'Forbidden (fake-openai).' },
  404: { type: 'invalid_request_error', code: null, message: 'Not found (fake-openai).' },
  429: {
    type: 'requests',
    code: 'rate_limit_exceeded',
    message: 'Rate limit reached for requests (fake-openai).',
  },
  500: {
    type: 'server_error',
    code: null,
    message:
      'The server had an error while processing your request. Sorry about that! (fake-openai)',
  },
};

/** Statuses the SDK retries by default (openai-node `shouldRetry`). */
const RETRIED = (status: number): boolean =>
  status === 408 || status === 409 || status === 429 || status >= 500;

export function errorPlan(behaviour: ErrorBehaviour): ResponsePlan {
  const { status } = behaviour;
  const fallback = ERROR_DEFAULTS[status] ?? ERROR_DEFAULTS[status >= 500 ? 500 : 400]!;
  const error = {
    message: behaviour.message ?? fallback.message,
    type: behaviour.type ?? fallback.type,
    param: behaviour.param ?? null,
    code: behaviour.code !== undefined ? behaviour.code : fallback.code,
  };
  const headers: Record<string, string> = {};
  if (RETRIED(status)) {
    const retryAfterMs = behaviour.retryAfterMs ?? 10;
    headers['retry-after-ms'] = String(retryAfterMs);
    // The spec's TooManyRequests response declares Retry-After as an integer >= 1 (seconds).
    if (status === 429)
      headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  }
  const body = JSON.stringify({ error }, null, 2);
  return fixedPlan(status, 'application/json', body, behaviour.delayMs ?? 0, headers);
}

/** The same answer, cut after `afterBytes` body bytes and left open. */
export function stallPlan(plan: ResponsePlan, afterBytes = 0): ResponsePlan {
  const chunks: PlanChunk[] = [];
  let remaining = afterBytes;
  for (const chunk of plan.chunks) {
    if (remaining <= 0) break;
    chunks.push({ atMs: chunk.atMs, data: chunk.data.subarray(0, remaining) });
    remaining -= chunk.data.length;
  }
  return { ...plan, chunks, end: false };
}

/**
 * Writes the plan with its timing, counted from `start` (`performance.now()` when the request's
 * body was in: the fake's own parsing and schema checks are not added to the modelled delays).
 * Resolves when the response has ended; if `signal` aborts first (client went away, or
 * `close()`), destroys the response and resolves.
 */
export async function playPlan(
  res: ServerResponse,
  plan: ResponsePlan,
  signal: AbortSignal,
  start = performance.now(),
): Promise<void> {
  const waitUntil = (atMs: number): Promise<void> =>
    sleep(Math.max(0, start + atMs - performance.now()), undefined, { signal });
  try {
    await waitUntil(plan.headersAtMs);
    res.writeHead(plan.status, plan.headers);
    res.flushHeaders();
    for (const chunk of plan.chunks) {
      await waitUntil(chunk.atMs);
      res.write(chunk.data);
    }
    if (plan.drop) {
      // The bytes written so far reach the client, then the connection closes mid-response.
      res.socket?.end();
      return;
    }
    if (plan.end) {
      res.end();
      return;
    }
    await untilAborted(signal);
  } catch (err) {
    if (!signal.aborted) throw err;
  }
  res.destroy();
}

export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
