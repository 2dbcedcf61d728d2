import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postWebhook, signBody } from '../../src/postcall/webhook.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A receiver that answers each request with the next status of `statuses` (then 200). */
async function receiver(statuses: number[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

const signal = new AbortController().signal;

describe('postWebhook', () => {
  it('posts the JSON record with an HMAC-SHA256 signature a receiver can verify', async () => {
    const { url, received } = await receiver([]);
    const attempts = await postWebhook(
      { callSid: 'CA1', turns: [] },
      { url, secret: 's3cret', signal },
    );
    expect(attempts).toBe(1);
    const [r] = received;
    expect(JSON.parse(r!.body)).toEqual({ callSid: 'CA1', turns: [] });
    const expected = `sha256=${createHmac('sha256', 's3cret').update(r!.body).digest('hex')}`;
    expect(r!.headers['x-voicebot-signature']).toBe(expected);
    expect(signBody(r!.body, 's3cret')).toBe(expected);
    expect(r!.headers['content-type']).toBe('application/json');
  });

  it('sends no signature without a secret', async () => {
    const { url, received } = await receiver([]);
    await postWebhook({ a: 1 }, { url, secret: undefined, signal });
    expect(received[0]!.headers['x-voicebot-signature']).toBeUndefined();
  });

  it('retries 5xx with backoff until it succeeds', async () => {
    const { url, received } = await receiver([500, 503]);
    const attempts = await postWebhook({ a: 1 }, { url, secret: 'k', signal, retryBaseMs: 20 });
    expect(attempts).toBe(3);
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
  });

  it('gives up after the last attempt, and does not retry a 400', async () => {
    const failing = await receiver([500, 500, 500]);
    await expect(
      postWebhook(
        { a: 1 },
        { url: failing.url, secret: undefined, signal, attempts: 3, retryBaseMs: 10 },
      ),
    ).rejects.toThrow(/500/);
    expect(failing.received).toHaveLength(3);
    await new Promise<void>((r) => server!.close(() => r()));
    const rejecting = await receiver([400]);
    await expect(
      postWebhook({ a: 1 }, { url: rejecting.url, secret: undefined, signal, retryBaseMs: 10 }),
    ).rejects.toThrow(/400/);
    expect(rejecting.received).toHaveLength(1);
  });
});
