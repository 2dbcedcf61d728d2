import type OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { VoicebotError } from '../../src/errors.js';
import { OpenAILlmProvider, type OpenAILlmOptions } from '../../src/providers/llm/openai-llm.js';
import type { ChatMessage, LlmEvent } from '../../src/providers/llm/types.js';
import { createOpenAIClient } from '../../src/providers/openai-client.js';
import type { ChatRequest } from '../fakes/index.js';
import { startRelay, useFakeOpenAI, within } from '../fakes-tests/helpers.js';

const ctx = useFakeOpenAI();
let client: OpenAI;
beforeAll(() => {
  client = createOpenAIClient({ apiKey: 'test', baseUrl: ctx.fake.baseUrl });
});

const messages: ChatMessage[] = [
  { role: 'system', content: 'You are Priya.' },
  { role: 'user', content: 'Plan ka price kya hai?' },
  { role: 'assistant', content: 'Kaunsa plan?' },
  { role: 'user', content: 'Basic wala.' },
];

function llm(opts: Partial<OpenAILlmOptions> = {}, c: OpenAI = client): OpenAILlmProvider {
  return new OpenAILlmProvider(c, {
    model: 'gpt-4o-mini',
    firstTokenTimeoutMs: 2000,
    stallMs: 1000,
    ...opts,
  });
}

/** The text deltas of a stream (tool calls fail the test: none are scripted there). */
async function collect(stream: AsyncIterable<LlmEvent>): Promise<string[]> {
  const out: string[] = [];
  for await (const event of stream) out.push(textOf(event));
  return out;
}

function textOf(event: LlmEvent): string {
  if (event.type !== 'text') throw new Error(`unexpected ${event.type} event`);
  return event.text;
}

/** Runs the stream to its end; returns the deltas received and the error it ended with. */
async function collectUntilError(
  stream: AsyncIterable<LlmEvent>,
): Promise<{ deltas: string[]; error: VoicebotError }> {
  const deltas: string[] = [];
  try {
    for await (const event of stream) deltas.push(textOf(event));
  } catch (err) {
    expect(err).toBeInstanceOf(VoicebotError);
    return { deltas, error: err as VoicebotError };
  }
  throw new Error(`expected the stream to fail; it ended after ${JSON.stringify(deltas)}`);
}

const lastRequest = (): ChatRequest => {
  const request = ctx.fake.chat.requests.at(-1);
  if (!request) throw new Error('no chat request reached the fake');
  return request;
};

describe('OpenAILlmProvider tool calls', () => {
  const tools = [
    {
      type: 'function' as const,
      function: {
        name: 'check_loan_status',
        description: 'Look up a loan application.',
        parameters: { type: 'object', properties: { application_id: { type: 'string' } } },
      },
    },
  ];

  it('offers the tools and yields each streamed call whole, after the text before it', async () => {
    ctx.fake.chat.enqueue({
      kind: 'stream',
      tokens: 'Let me check.',
      toolCalls: [
        { name: 'check_loan_status', arguments: { application_id: 'HL-2291-0045' }, id: 'call_a' },
        { name: 'check_loan_status', arguments: { application_id: 'HL-7' }, id: 'call_b' },
      ],
      argumentsChunkChars: 5,
    });
    const events: LlmEvent[] = [];
    for await (const e of llm().stream({ messages, tools, signal: new AbortController().signal }))
      events.push(e);

    const text = events.filter((e) => e.type === 'text').map((e) => e.text);
    expect(text.join('')).toBe('Let me check.');
    expect(events.filter((e) => e.type === 'tool-call')).toEqual([
      {
        type: 'tool-call',
        call: {
          id: 'call_a',
          name: 'check_loan_status',
          arguments: '{"application_id":"HL-2291-0045"}',
        },
      },
      {
        type: 'tool-call',
        call: { id: 'call_b', name: 'check_loan_status', arguments: '{"application_id":"HL-7"}' },
      },
    ]);
    expect(events.findIndex((e) => e.type === 'tool-call')).toBeGreaterThan(
      events.findLastIndex((e) => e.type === 'text'),
    );
    expect(lastRequest().body.tools).toEqual(tools);
    expect(lastRequest().body).not.toHaveProperty('tool_choice');
  });

  it('sends tool_choice only with tools, and no tools key when there are none', async () => {
    await collect(
      llm().stream({
        messages,
        tools: [],
        toolChoice: 'none',
        signal: new AbortController().signal,
      }),
    );
    expect(lastRequest().body).not.toHaveProperty('tools');
    expect(lastRequest().body).not.toHaveProperty('tool_choice');
    ctx.fake.chat.enqueue({ kind: 'stream', tokens: 'Okay.' });
    await collect(
      llm().stream({ messages, tools, toolChoice: 'none', signal: new AbortController().signal }),
    );
    expect(lastRequest().body.tool_choice).toBe('none');
  });

  it('does not call a stream stalled while long arguments arrive in pieces', async () => {
    ctx.fake.chat.enqueue({
      kind: 'stream',
      tokens: [],
      toolCalls: [{ name: 'check_loan_status', arguments: { application_id: 'x'.repeat(60) } }],
      argumentsChunkChars: 4,
      perTokenMs: 40,
    });
    const events: LlmEvent[] = [];
    // 18+ pieces 40 ms apart: longer than the 300 ms stall limit in all, shorter between pieces.
    for await (const e of llm({ stallMs: 300 }).stream({
      messages,
      tools,
      signal: new AbortController().signal,
    }))
      events.push(e);
    expect(events).toHaveLength(1);
    expect(events[0]?.type).toBe('tool-call');
  });
});

describe('OpenAILlmProvider requests', () => {
  it('streams the chat with model, messages, stream: true and the limits', async () => {
    ctx.fake.chat.enqueue({ kind: 'stream', tokens: ['Basic', ' plan', ' 199', ' ka', ' hai.'] });

    const deltas = await collect(
      llm({ maxTokens: 150, temperature: 0.4 }).stream({
        messages,
        signal: new AbortController().signal,
      }),
    );

    expect(deltas).toEqual(['Basic', ' plan', ' 199', ' ka', ' hai.']);
    const { body } = lastRequest();
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.messages).toEqual(messages);
    expect(body.stream).toBe(true);
    expect(body.max_completion_tokens).toBe(150);
    expect(body).not.toHaveProperty('max_tokens');
    expect(body.temperature).toBe(0.4);
  });

  it('leaves max_completion_tokens and temperature out when not configured', async () => {
    await collect(llm().stream({ messages, signal: new AbortController().signal }));

    expect(lastRequest().body).not.toHaveProperty('max_completion_tokens');
    expect(lastRequest().body).not.toHaveProperty('temperature');
  });

  it('yields deltas as they arrive, not at the end', async () => {
    ctx.fake.chat.enqueue({ kind: 'stream', tokens: ['Ek', ' do', ' teen'], perTokenMs: 150 });
    const started = performance.now();
    const arrivals: number[] = [];

    for await (const _ of llm().stream({ messages, signal: new AbortController().signal })) {
      arrivals.push(performance.now() - started);
    }

    expect(arrivals).toHaveLength(3);
    expect(arrivals[0]!).toBeLessThan(120);
    expect(arrivals[2]! - arrivals[0]!).toBeGreaterThanOrEqual(250);
  });

  it.each(['length', 'content_filter'] as const)(
    'finish_reason %s just ends the stream',
    async (finishReason) => {
      ctx.fake.chat.enqueue({ kind: 'stream', tokens: ['Aapka', ' plan'], finishReason });

      const deltas = await collect(
        llm().stream({ messages, signal: new AbortController().signal }),
      );

      expect(deltas.join('')).toBe('Aapka plan');
    },
  );

  it('never yields empty deltas (the role chunk has content "")', async () => {
    const deltas = await collect(llm().stream({ messages, signal: new AbortController().signal }));

    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.every((d) => d.length > 0)).toBe(true);
    expect(deltas.join('')).toBe('Hello! How can I help you today?');
  });
});

describe('OpenAILlmProvider failures', () => {
  const req = (signal = new AbortController().signal) => ({ messages, signal });

  it.each([
    [429, 'PROVIDER_RATE_LIMITED', true],
    [500, 'PROVIDER_SERVER_ERROR', true],
    [401, 'PROVIDER_AUTH', false],
    [400, 'PROVIDER_CLIENT_ERROR', false],
  ] as const)('HTTP %i -> %s (retryable %s)', async (status, code, retryable) => {
    ctx.fake.chat.enqueue({ kind: 'error', status });

    const { deltas, error } = await collectUntilError(llm().stream(req()));

    expect(deltas).toEqual([]);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(ctx.fake.chat.requests).toHaveLength(1); // no SDK retries
  });

  it('no headers within firstTokenTimeoutMs -> PROVIDER_TIMEOUT', async () => {
    ctx.fake.chat.enqueue({ kind: 'hang' });
    const started = performance.now();

    const { error } = await collectUntilError(llm({ firstTokenTimeoutMs: 200 }).stream(req()));

    expect(error.code).toBe('PROVIDER_TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('headers and the role chunk but no content within firstTokenTimeoutMs -> PROVIDER_TIMEOUT', async () => {
    // 400 bytes: the role chunk (about 250 bytes) and part of the first content chunk.
    ctx.fake.chat.enqueue({ kind: 'stall', afterBytes: 400 });

    const { deltas, error } = await collectUntilError(
      llm({ firstTokenTimeoutMs: 200, stallMs: 5000 }).stream(req()),
    );

    expect(deltas).toEqual([]);
    expect(error.code).toBe('PROVIDER_TIMEOUT');
  });

  it('a first token slower than firstTokenTimeoutMs -> PROVIDER_TIMEOUT', async () => {
    ctx.fake.chat.enqueue({ kind: 'stream', tokens: ['late'], firstTokenDelayMs: 1000 });

    const { error } = await collectUntilError(llm({ firstTokenTimeoutMs: 200 }).stream(req()));

    expect(error.code).toBe('PROVIDER_TIMEOUT');
  });

  it('tokens that stop coming -> PROVIDER_STALLED after the deltas already received', async () => {
    const tokens = Array.from({ length: 30 }, (_, i) => ` word${i}`);
    ctx.fake.chat.enqueue({ kind: 'stall', afterBytes: 1200, of: { kind: 'stream', tokens } });
    const started = performance.now();

    const { deltas, error } = await collectUntilError(llm({ stallMs: 200 }).stream(req()));

    expect(error.code).toBe('PROVIDER_STALLED');
    expect(error.retryable).toBe(true);
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.length).toBeLessThan(tokens.length);
    expect(deltas).toEqual(tokens.slice(0, deltas.length));
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('a connection closed mid-stream -> PROVIDER_CONNECTION, retryable, after the deltas received', async () => {
    const tokens = Array.from({ length: 30 }, (_, i) => ` word${i}`);
    ctx.fake.chat.enqueue({ kind: 'drop', afterBytes: 1200, of: { kind: 'stream', tokens } });

    const { deltas, error } = await collectUntilError(llm().stream(req()));

    // The reply retries it only while nothing of it was spoken (reply.ts); the code says what it was.
    expect(error.code).toBe('PROVIDER_CONNECTION');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/connection lost mid-response/);
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas).toEqual(tokens.slice(0, deltas.length));
  });

  it('gaps shorter than stallMs are fine', async () => {
    ctx.fake.chat.enqueue({ kind: 'stream', tokens: ['a', 'b', 'c'], perTokenMs: 100 });

    const deltas = await collect(llm({ stallMs: 400 }).stream(req()));

    expect(deltas).toEqual(['a', 'b', 'c']);
  });

  it('a consumer slower than stallMs (speaking each sentence) is not a stall', async () => {
    ctx.fake.chat.enqueue({ kind: 'stream', tokens: ['Ek.', ' Do.', ' Teen.'] });
    const deltas: string[] = [];

    for await (const delta of llm({ stallMs: 100 }).stream(req())) {
      deltas.push(textOf(delta));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    expect(deltas).toEqual(['Ek.', ' Do.', ' Teen.']);
  }, 5000);

  it('a malformed SSE event -> PROVIDER_BAD_RESPONSE, retryable', async () => {
    ctx.fake.chat.enqueue({ kind: 'malformed' });

    const { error } = await collectUntilError(llm().stream(req()));

    expect(error.code).toBe('PROVIDER_BAD_RESPONSE');
    expect(error.retryable).toBe(true);
  });

  it('an already aborted signal -> PROVIDER_ABORTED without a request', async () => {
    const caller = new AbortController();
    caller.abort();

    const { error } = await collectUntilError(llm().stream(req(caller.signal)));

    expect(error.code).toBe('PROVIDER_ABORTED');
    expect(error.retryable).toBe(false);
    expect(ctx.fake.chat.requests).toHaveLength(0);
  });
});

describe('OpenAILlmProvider cancellation', () => {
  /** 40 tokens, 50 ms apart: the whole answer takes about 2 s. */
  const slowAnswer = {
    kind: 'stream' as const,
    tokens: Array.from({ length: 40 }, (_, i) => ` t${i}`),
    perTokenMs: 50,
  };

  it('breaking out of the loop closes the HTTP connection', async () => {
    const relay = await startRelay(ctx.fake.baseUrl);
    const viaRelay = createOpenAIClient({ apiKey: 'test', baseUrl: relay.baseUrl });
    ctx.fake.chat.enqueue(slowAnswer);
    const deltas: string[] = [];

    for await (const delta of llm({}, viaRelay).stream(req())) {
      deltas.push(textOf(delta));
      if (deltas.length === 2) break;
    }

    expect(deltas).toEqual([' t0', ' t1']);
    expect(await within(relay.closed, 500)).not.toBe('timeout');
  });

  it('aborting the signal mid-stream closes the connection and ends with PROVIDER_ABORTED', async () => {
    const relay = await startRelay(ctx.fake.baseUrl);
    const viaRelay = createOpenAIClient({ apiKey: 'test', baseUrl: relay.baseUrl });
    ctx.fake.chat.enqueue(slowAnswer);
    const caller = new AbortController();
    const deltas: string[] = [];
    let error: unknown;
    const started = performance.now();

    try {
      for await (const delta of llm({}, viaRelay).stream(req(caller.signal))) {
        deltas.push(textOf(delta));
        if (deltas.length === 3) caller.abort(new Error('barge-in'));
      }
    } catch (err) {
      error = err;
    }

    expect(error).toBeInstanceOf(VoicebotError);
    expect((error as VoicebotError).code).toBe('PROVIDER_ABORTED');
    expect((error as VoicebotError).retryable).toBe(false);
    expect(deltas).toEqual([' t0', ' t1', ' t2']);
    expect(await within(relay.closed, 500)).not.toBe('timeout');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('aborting while waiting for the first token ends at once with PROVIDER_ABORTED', async () => {
    ctx.fake.chat.enqueue({ kind: 'hang' });
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 50);
    const started = performance.now();

    const { error } = await collectUntilError(
      llm({ firstTokenTimeoutMs: 5000 }).stream(req(caller.signal)),
    );

    expect(error.code).toBe('PROVIDER_ABORTED');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('aborting while the consumer holds a delta of an ended response still ends the stream', async () => {
    ctx.fake.chat.enqueue({ kind: 'stream', tokens: ['Ek', ' do', ' teen'] });
    const caller = new AbortController();
    const deltas: string[] = [];

    const run = (async () => {
      for await (const delta of llm().stream(req(caller.signal))) {
        deltas.push(textOf(delta));
        // The whole response has arrived by now; then the caller barges in.
        await new Promise((resolve) => setTimeout(resolve, 100));
        caller.abort();
      }
    })();
    const outcome = await within(
      run.then(
        () => 'ended without an error',
        (e: unknown) => e,
      ),
      1000,
    );

    expect(outcome).toBeInstanceOf(VoicebotError);
    expect((outcome as VoicebotError).code).toBe('PROVIDER_ABORTED');
    expect(deltas).toEqual(['Ek']);
  });

  it('a stream read to the end keeps its connection open (so the close above is the abort)', async () => {
    const relay = await startRelay(ctx.fake.baseUrl);
    const viaRelay = createOpenAIClient({ apiKey: 'test', baseUrl: relay.baseUrl });
    ctx.fake.chat.enqueue({ ...slowAnswer, tokens: slowAnswer.tokens.slice(0, 3) });

    const deltas = await collect(llm({}, viaRelay).stream(req()));

    expect(deltas).toHaveLength(3);
    expect(await within(relay.closed, 300)).toBe('timeout');
  });

  function req(signal = new AbortController().signal) {
    return { messages, signal };
  }
});
