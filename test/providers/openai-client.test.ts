/** The OpenAI client's connection handling: idle connections are reused across turns. */
import OpenAI from 'openai';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../../src/errors.js';
import { cancel, NOT_NEEDED } from '../../src/providers/linked-abort.js';
import { createOpenAIClient, toProviderError } from '../../src/providers/openai-client.js';
import { useFakeOpenAI } from '../fakes-tests/helpers.js';

const ctx = useFakeOpenAI();

const ask = async (client: OpenAI) => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    stream: true,
    messages: [{ role: 'user', content: 'Namaste' }],
  });
  for await (const chunk of stream) void chunk;
};

describe('createOpenAIClient', () => {
  it('reuses one connection for requests 5 s apart (a turn later), where plain fetch reconnects', async () => {
    const ours = createOpenAIClient({ apiKey: 'test', baseUrl: ctx.fake.baseUrl });
    await ask(ours);
    const afterOurs = ctx.fake.connectionsAccepted;
    // The same with the SDK on Node's default fetch: it drops idle connections after 4 s.
    const plain = new OpenAI({ apiKey: 'test', baseURL: ctx.fake.baseUrl, maxRetries: 0 });
    await ask(plain);
    const afterPlain = ctx.fake.connectionsAccepted;
    expect(afterPlain - afterOurs).toBe(1);

    await sleep(5000);
    await ask(ours);
    expect(ctx.fake.connectionsAccepted).toBe(afterPlain); // no new connection
    await ask(plain);
    expect(ctx.fake.connectionsAccepted).toBe(afterPlain + 1); // the control reconnected
    expect(ctx.fake.violations).toEqual([]);
  }, 20_000);
});

describe('cancel', () => {
  it('aborts with the one shared AbortError, which maps as any abort does', () => {
    const a = new AbortController();
    const b = new AbortController();
    cancel(a);
    cancel(b);
    expect(a.signal.reason).toBe(NOT_NEEDED);
    expect(b.signal.reason).toBe(NOT_NEEDED);
    expect(NOT_NEEDED).toBeInstanceOf(DOMException);
    expect(NOT_NEEDED.name).toBe('AbortError');
    expect(errorCode(NOT_NEEDED)).toBe('PROVIDER_ABORTED');
    expect(toProviderError(NOT_NEEDED, 'stt').code).toBe('PROVIDER_ABORTED');
    // An AbortSignal.any over it sees the same reason.
    const c = new AbortController();
    const any = AbortSignal.any([c.signal]);
    cancel(c);
    expect(any.reason).toBe(NOT_NEEDED);
  });
});
