/**
 * The SDK on `requestFetch` (undici's `request` under fetch's signature): what the SDK and our
 * providers read of an answer is what Node's fetch would give them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { createOpenAIClient, toProviderError } from '../../src/providers/openai-client.js';
import { requestFetch } from '../../src/providers/request-fetch.js';
import { OpenAITts } from '../../src/providers/tts/openai-tts.js';
import { VoicebotError } from '../../src/errors.js';
import { useFakeOpenAI } from '../fakes-tests/helpers.js';

const ctx = useFakeOpenAI();
/** A signal nobody aborts. */
const live = new AbortController().signal;
const tts = (timeoutMs = 2000, stallMs = 2000) =>
  new OpenAITts(createOpenAIClient({ apiKey: 'test', baseUrl: ctx.fake.baseUrl }), {
    model: 'gpt-4o-mini-tts',
    timeoutMs,
    stallMs,
  });

async function failure(p: Promise<unknown>): Promise<VoicebotError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(VoicebotError);
    return err as VoicebotError;
  }
  throw new Error('expected a failure');
}

describe('requestFetch under the SDK', () => {
  it('streams speech chunk by chunk, every byte as the fake sent it', async () => {
    const pcm = Buffer.alloc(24_000); // 500 ms at 24 kHz
    for (let i = 0; i < pcm.length; i++) pcm[i] = (i * 7) & 0xff;
    ctx.fake.speech.enqueue({ kind: 'audio', pcm, realtimeFactor: 5, chunkMs: 40 });

    const chunks: Buffer[] = [];
    for await (const chunk of tts().synthesize({ text: 'Namaste', voice: 'alloy', signal: live }))
      chunks.push(chunk);

    expect(Buffer.concat(chunks).equals(pcm)).toBe(true);
    // In pieces as written (that each arrives before the response ends: the stall test below).
    expect(chunks.length).toBeGreaterThan(2);
    const req = ctx.fake.requests.at(-1)!;
    expect(req.endpoint).toBe('speech');
    expect(req.body).toMatchObject({ input: 'Namaste', voice: 'alloy', response_format: 'pcm' });
  });

  it('an HTTP error reaches the SDK with its status, headers and body (429 -> rate limited)', async () => {
    ctx.fake.speech.enqueue({ kind: 'error', status: 429, message: 'slow down' });

    const err = await failure(
      tts().synthesize({ text: 'Hi', voice: 'alloy', signal: live }).next(),
    );

    expect(err.code).toBe('PROVIDER_RATE_LIMITED');
    expect(err.retryable).toBe(true);
    expect(String((err.cause as Error).message)).toContain('slow down');
  });

  it('aborting mid-speech ends with PROVIDER_ABORTED at once and frees the connection', async () => {
    ctx.fake.speech.enqueue({ kind: 'audio', pcm: Buffer.alloc(480_000), realtimeFactor: 1 });
    const caller = new AbortController();
    const stream = tts().synthesize({ text: 'A long line', voice: 'alloy', signal: caller.signal });
    await stream.next();
    const started = performance.now();
    caller.abort(new Error('barge-in'));

    const err = await failure(stream.next());

    expect(err.code).toBe('PROVIDER_ABORTED');
    expect(performance.now() - started).toBeLessThan(1000);
    // The next request is answered (the pool was not left holding a dead body).
    ctx.fake.speech.enqueue({ kind: 'audio', pcm: Buffer.alloc(4800) });
    const after: Buffer[] = [];
    for await (const chunk of tts().synthesize({ text: 'Next', voice: 'alloy', signal: live }))
      after.push(chunk);
    expect(Buffer.concat(after).length).toBe(4800);
  });

  it('a stalled speech stream -> PROVIDER_STALLED, after the audio already received', async () => {
    ctx.fake.speech.enqueue({ kind: 'stall', afterBytes: 1920 });
    const got: Buffer[] = [];

    const err = await failure(
      (async () => {
        for await (const chunk of tts(2000, 150).synthesize({
          text: 'Hi',
          voice: 'alloy',
          signal: live,
        }))
          got.push(chunk);
      })(),
    );

    expect(err.code).toBe('PROVIDER_STALLED');
    expect(Buffer.concat(got).length).toBe(1920);
  });
});

describe('requestFetch against a plain HTTP server', () => {
  let server: Server;
  let base: string;
  const dispatcher = new Agent();
  const fetchVia = requestFetch(dispatcher);
  const seen: { method: string; url: string; headers: Record<string, unknown>; body: string }[] =
    [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const body = Buffer.concat(parts).toString();
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url === '/cut') {
          // Headers and part of a body, then the connection drops.
          res.writeHead(200, {
            'content-type': 'application/octet-stream',
            'content-length': '1000',
          });
          res.write(Buffer.alloc(100));
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        }
        res.writeHead(201, [
          ['content-type', 'application/json'],
          ['set-cookie', 'a=1'],
          ['set-cookie', 'b=2'],
          ['x-request-id', 'req_123'],
        ]);
        res.end(JSON.stringify({ echo: body }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await dispatcher.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends method, headers and a string body; answers with status, every header and json()', async () => {
    const headers = new Headers({ 'Content-Type': 'application/json', Authorization: 'Bearer k' });
    const res = await fetchVia(`${base}/v1/x`, { method: 'post', headers, body: '{"a":1}' });

    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.url).toBe(`${base}/v1/x`);
    expect(res.headers.get('x-request-id')).toBe('req_123');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(res.bodyUsed).toBe(false);
    expect(await res.json()).toEqual({ echo: '{"a":1}' });
    expect(res.bodyUsed).toBe(true);
    const req = seen.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.headers.authorization).toBe('Bearer k');
    expect(req.headers['content-type']).toBe('application/json');
  });

  it('sends a form as multipart with its boundary', async () => {
    const form = new FormData();
    form.set('model', 'whisper-1');
    form.set('file', new File([Buffer.from('RIFF')], 'a.wav', { type: 'audio/wav' }));

    const res = await fetchVia(`${base}/form`, { method: 'POST', body: form });

    expect(res.status).toBe(201);
    await res.text();
    const req = seen.at(-1)!;
    const boundary = /boundary=(.+)$/.exec(String(req.headers['content-type']))?.[1];
    expect(boundary).toBeDefined();
    expect(req.body).toContain(`--${boundary}`);
    expect(req.body).toContain('name="model"\r\n\r\nwhisper-1');
    expect(req.body).toContain('filename="a.wav"');
  });

  it('hands a body it does not carry (URLSearchParams) to Node fetch, same answer', async () => {
    const res = await fetchVia(`${base}/params`, {
      method: 'POST',
      body: new URLSearchParams({ q: 'haan ji' }),
    });

    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ echo: 'q=haan+ji' });
  });

  it('a connection dropped mid-body fails the read, not silently short', async () => {
    const res = await fetchVia(`${base}/cut`, { method: 'POST', body: '' });
    let got = 0;

    const read = (async () => {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        got += chunk.length;
    })();

    const err = await read.then(
      () => new Error('expected the read to fail'),
      (e: unknown) => e,
    );
    expect(got).toBe(100);
    // undici's socket error, which the providers report as a lost connection (retryable).
    expect(toProviderError(err, 'tts')).toMatchObject({
      code: 'PROVIDER_CONNECTION',
      retryable: true,
    });
  });
});
