/**
 * Posts the finished call record to `CALL_WEBHOOK_URL`, signed with HMAC-SHA256 of the body in
 * `X-Voicebot-Signature: sha256=<hex>` when `CALL_WEBHOOK_SECRET` is set, retried with backoff.
 */
import { createHmac } from 'node:crypto';
import { backoff, retry } from '../retry.js';

export interface WebhookOptions {
  url: string;
  secret: string | undefined;
  /** Attempts in all (default 5); waits double from `retryBaseMs` (default 1000). */
  attempts?: number;
  retryBaseMs?: number;
  timeoutMs?: number;
  signal: AbortSignal;
}

export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Resolves with the number of attempts it took; throws after the last failed attempt. */
export async function postWebhook(payload: unknown, opts: WebhookOptions): Promise<number> {
  const body = JSON.stringify(payload);
  const attempts = opts.attempts ?? 5;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'exotel-voicebot',
  };
  if (opts.secret) headers['x-voicebot-signature'] = signBody(body, opts.secret);
  return retry(
    async (n) => {
      const res = await fetch(opts.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs ?? 10_000)]),
      });
      await res.body?.cancel();
      if (!res.ok) throw new WebhookStatusError(res.status);
      return n;
    },
    {
      attempts,
      delayMs: backoff(opts.retryBaseMs ?? 1000),
      signal: opts.signal,
      // A 4xx other than 408/429 will not get better by retrying; network errors may.
      retryIf: (err) =>
        !(err instanceof WebhookStatusError) ||
        err.status >= 500 ||
        err.status === 408 ||
        err.status === 429,
    },
  );
}

class WebhookStatusError extends Error {
  constructor(readonly status: number) {
    super(`webhook answered ${status}`);
  }
}
