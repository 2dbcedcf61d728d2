/**
 * Each scripted failure reaches the real SDK the way the real failure would: HTTP errors as the
 * SDK's error classes (and retried when the SDK retries them), a hang as a connection timeout,
 * a stall as silence after the headers, malformed bodies as parse errors.
 */
import { request } from 'node:http';
import OpenAI, { toFile, type APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { FakeOpenAI, type ErrorBehaviour } from '../fakes/index.js';
import { chunkReader, makeWav, readBody, useFakeOpenAI, within } from './helpers.js';

const ctx = useFakeOpenAI();

const chatParams = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
const speechParams = {
  model: 'gpt-4o-mini-tts',
  voice: 'alloy',
  input: 'Hello there',
  response_format: 'pcm' as const,
};

/** One call per endpoint, so every failure mode is tried on all three. */
const calls = {
  speech: (client: OpenAI) => client.audio.speech.create(speechParams).then((r) => r.arrayBuffer()),
  transcriptions: async (client: OpenAI) =>
    client.audio.transcriptions.create({
      file: await toFile(makeWav(100), 'a.wav', { type: 'audio/wav' }),
      model: 'gpt-4o-transcribe',
    }),
  chat: (client: OpenAI) => client.chat.completions.create(chatParams),
};
const endpoints = ['speech', 'transcriptions', 'chat'] as const;

function script(
  endpoint: (typeof endpoints)[number],
  behaviour: ErrorBehaviour | { kind: 'hang' },
) {
  ctx.fake[endpoint].enqueue(behaviour);
}

describe.each(endpoints)('%s errors', (endpoint) => {
  it.each([
    [429, OpenAI.RateLimitError],
    [500, OpenAI.InternalServerError],
    [503, OpenAI.InternalServerError],
    [401, OpenAI.AuthenticationError],
    [400, OpenAI.BadRequestError],
  ] as const)('status %i surfaces as %o with OpenAI error JSON', async (status, errorClass) => {
    script(endpoint, { kind: 'error', status, message: `scripted ${status}` });

    const error: unknown = await calls[endpoint](ctx.client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(errorClass);
    const apiError = error as APIError;
    expect(apiError.status).toBe(status);
    expect(apiError.error).toMatchObject({ message: `scripted ${status}` });
    expect(apiError.requestID).toMatch(/^req_fake_/);
  });

  it('hang: the SDK gives up with APIConnectionTimeoutError after `timeout`', async () => {
    script(endpoint, { kind: 'hang' });
    const client = new OpenAI({
      apiKey: 'test',
      baseURL: ctx.fake.baseUrl,
      maxRetries: 0,
      timeout: 150,
    });
    const started = performance.now();

    await expect(calls[endpoint](client)).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('SDK retries', () => {
  it('retries 429 and 5xx by default, quickly because of retry-after-ms', async () => {
    const client = new OpenAI({ apiKey: 'test', baseURL: ctx.fake.baseUrl }); // maxRetries: 2
    ctx.fake.chat.enqueue({ kind: 'error', status: 429 }, { kind: 'error', status: 500 });
    const started = performance.now();

    const completion = await client.chat.completions.create(chatParams);

    expect(completion.choices[0]?.message.content).toBe('Hello! How can I help you today?');
    expect(ctx.fake.chat.requests).toHaveLength(3);
    // Without retry-after-ms the SDK would back off 0.5 s then 1 s (less up to 25 % jitter).
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('does not retry 400 or 401', async () => {
    const client = new OpenAI({ apiKey: 'test', baseURL: ctx.fake.baseUrl });
    ctx.fake.chat.enqueue({ kind: 'error', status: 401 });
    await expect(client.chat.completions.create(chatParams)).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    expect(ctx.fake.chat.requests).toHaveLength(1);
  });
});

describe('stall', () => {
  it('chat: the stream opens and then no chunk arrives; aborting ends it', async () => {
    ctx.fake.chat.enqueue({ kind: 'stall' });
    const stream = await ctx.client.chat.completions.create({ ...chatParams, stream: true });
    const iterator = stream[Symbol.asyncIterator]();

    const next = iterator.next();
    expect(await within(next, 200)).toBe('timeout');
    stream.controller.abort();
    await expect(next).resolves.toMatchObject({ done: true });
  });

  it('speech: sends the first afterBytes of audio, then nothing, and the SDK timeout does not fire', async () => {
    ctx.fake.speech.enqueue({ kind: 'stall', afterBytes: 4800 });
    const client = new OpenAI({
      apiKey: 'test',
      baseURL: ctx.fake.baseUrl,
      maxRetries: 0,
      timeout: 100,
    });
    const response = await client.audio.speech.create(speechParams);
    const reader = chunkReader(response);

    let received = 0;
    for (;;) {
      const chunk = await within(reader.next(), 250);
      if (chunk === 'timeout') break;
      received += chunk?.length ?? 0;
    }

    expect(received).toBe(4800);
    await reader.cancel();
  });

  it('close() ends stalled and hung responses promptly', async () => {
    const fake = await FakeOpenAI.start();
    const client = new OpenAI({ apiKey: 'test', baseURL: fake.baseUrl, maxRetries: 0 });
    fake.speech.enqueue({ kind: 'stall', afterBytes: 10 });
    fake.chat.enqueue({ kind: 'hang' });
    const stalled = await client.audio.speech.create(speechParams);
    // Settle both now so neither rejection goes unhandled while close() runs.
    const settle = (promise: Promise<unknown>) =>
      promise.then(
        () => 'ended normally',
        (e: unknown) => e,
      );
    const body = settle(readBody(stalled));
    const hung = settle(client.chat.completions.create(chatParams));
    await new Promise((resolve) => setTimeout(resolve, 50));

    const started = performance.now();
    await fake.close();

    expect(performance.now() - started).toBeLessThan(1000);
    expect(await body).toBeInstanceOf(Error);
    expect(await hung).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(fake.violations).toEqual([]);
  });
});

describe('drop', () => {
  it.each(endpoints)(
    '%s: the answer starts and the connection closes under it; the read fails, not short',
    async (endpoint) => {
      ctx.fake[endpoint].enqueue({ kind: 'drop', afterBytes: 5 });

      const error: unknown = await calls[endpoint](ctx.client).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(Error);
      expect(ctx.fake[endpoint].requests).toHaveLength(1);
    },
  );
});

describe('client hang-ups', () => {
  it('a client that disconnects mid-upload is not a violation', async () => {
    const upload = request(`${ctx.fake.baseUrl}/audio/transcriptions`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer test',
        'content-type': 'multipart/form-data; boundary=b',
        'content-length': '100000',
      },
    });
    upload.on('error', () => {});
    upload.write('--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    upload.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // useFakeOpenAI's afterEach asserts that no violation was recorded.
    expect(ctx.fake.requests).toEqual([]);
  });
});

describe('malformed', () => {
  it('chat stream: invalid JSON in a data line makes the iterator throw SyntaxError', async () => {
    const client = new OpenAI({
      apiKey: 'test',
      baseURL: ctx.fake.baseUrl,
      maxRetries: 0,
      logLevel: 'off',
    });
    ctx.fake.chat.enqueue({ kind: 'malformed' });
    const stream = await client.chat.completions.create({ ...chatParams, stream: true });
    const roles: string[] = [];

    const consume = async () => {
      for await (const chunk of stream) roles.push(chunk.choices[0]?.delta.role ?? '');
    };

    await expect(consume()).rejects.toBeInstanceOf(SyntaxError);
    expect(roles).toEqual(['assistant']);
  });

  it('chat and transcriptions: a cut-off JSON body rejects with SyntaxError', async () => {
    ctx.fake.chat.enqueue({ kind: 'malformed' });
    ctx.fake.transcriptions.enqueue({ kind: 'malformed' });
    await expect(calls.chat(ctx.client)).rejects.toBeInstanceOf(SyntaxError);
    await expect(calls.transcriptions(ctx.client)).rejects.toBeInstanceOf(SyntaxError);
  });

  it('speech: 200 with a JSON body of odd length; only a Content-Type check catches it', async () => {
    ctx.fake.speech.enqueue({ kind: 'malformed' });
    const response = await ctx.client.audio.speech.create(speechParams);
    const bytes = Buffer.from(await response.arrayBuffer());

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(bytes.length % 2).toBe(1);
  });
});
