/** The OpenAI client's connection handling: idle connections are reused across turns. */
import OpenAI from 'openai';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createOpenAIClient } from '../../src/providers/openai-client.js';
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
