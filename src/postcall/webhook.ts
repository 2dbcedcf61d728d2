/**
 * Posts the finished call record to `CALL_WEBHOOK_URL`, signed with HMAC-SHA256 of the body in
 * `X-Voicebot-Signature: sha256=<hex>` when `CALL_WEBHOOK_SECRET` is set, retried with backoff.
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

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
  const base = opts.retryBaseMs ?? 1000;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'exotel-voicebot',
  };
  if (opts.secret) headers['x-voicebot-signature'] = signBody(body, opts.secret);
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await fetch(opts.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs ?? 10_000)]),
      });
      await res.body?.cancel();
      if (res.ok) return attempt;
      lastError = new Error(`webhook answered ${res.status}`);
      // A 4xx other than 408/429 will not get better by retrying.
      if (res.status < 500 && res.status !== 408 && res.status !== 429) break;
    } catch (err) {
      if (opts.signal.aborted) throw err;
      lastError = err;
    }
    if (attempt < attempts)
      await sleep(base * 2 ** (attempt - 1), undefined, { signal: opts.signal });
  }
  throw lastError instanceof Error ? lastError : new Error('webhook failed');
}
