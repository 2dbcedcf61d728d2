/**
 * The fake answers the real `openai` SDK the way OpenAI does: streamed PCM speech, multipart
 * transcriptions, SSE chat completions. Valid SDK requests must record no violations (checked
 * after every test by `useFakeOpenAI`), and the fake's own output must match the spec.
 */
import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import {
  FakeOpenAI,
  SPEECH_BYTES_PER_MS,
  defaultSpeechDurationMs,
  defaultSpeechPcm,
  lastUserText,
  splitTokens,
} from '../fakes/index.js';
import { makeWav, post, readBody, useFakeOpenAI } from './helpers.js';

const ctx = useFakeOpenAI();

const speechParams = (input: string): OpenAI.Audio.SpeechCreateParams => ({
  model: 'gpt-4o-mini-tts',
  voice: 'alloy',
  input,
  response_format: 'pcm',
});

const chatParams = (content: string) => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system' as const, content: 'You are a phone agent.' },
    { role: 'user' as const, content },
  ],
});

describe('speech', () => {
  it('streams the scripted pcm in chunks; the body length matches', async () => {
    const pcm = defaultSpeechPcm('x'.repeat(6)); // 300 ms
    // Three 100 ms chunks at real time: they leave the fake 100 ms apart.
    ctx.fake.speech.enqueue({ kind: 'audio', pcm, chunkMs: 100, realtimeFactor: 1 });

    const response = await ctx.client.audio.speech.create(speechParams('Namaste'));
    const { bytes, arrivals } = await readBody(response);

    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    expect(bytes.equals(pcm)).toBe(true);
    expect(arrivals.length).toBeGreaterThan(1);
  });

  it('defaults to a 440 Hz tone of 50 ms per character, so longer text is longer audio', async () => {
    const short = await ctx.client.audio.speech.create(speechParams('Hi.'));
    const long = await ctx.client.audio.speech.create(speechParams('Hello, how are you?'));
    const shortBytes = Buffer.from(await short.arrayBuffer());
    const longBytes = Buffer.from(await long.arrayBuffer());

    expect(defaultSpeechDurationMs('Hi.')).toBe(150);
    expect(shortBytes.length).toBe(150 * SPEECH_BYTES_PER_MS);
    expect(longBytes.length).toBe(19 * 50 * SPEECH_BYTES_PER_MS);
    expect(defaultSpeechDurationMs('x'.repeat(500))).toBe(3000);
    expect(longBytes.equals(defaultSpeechPcm('Hello, how are you?'))).toBe(true);
  });

  it('paces audio by realtimeFactor after firstByteDelayMs', async () => {
    ctx.fake.speech.enqueue({
      kind: 'audio',
      pcm: defaultSpeechPcm('x'.repeat(6)), // 300 ms
      firstByteDelayMs: 100,
      realtimeFactor: 2,
      chunkMs: 50,
    });
    const started = performance.now();
    const response = await ctx.client.audio.speech.create(speechParams('paced'));
    const headersAfterMs = performance.now() - started;
    const { arrivals } = await readBody(response);

    expect(headersAfterMs).toBeGreaterThanOrEqual(95);
    // 6 chunks of 50 ms at 2x real time: the last leaves 125 ms after the first.
    expect(arrivals.at(-1)! - started).toBeGreaterThanOrEqual(100 + 125 - 5);
  });

  it('wraps the same audio in a WAV header for response_format wav', async () => {
    const response = await ctx.client.audio.speech.create({
      ...speechParams('Hi.'),
      response_format: 'wav',
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get('content-type')).toBe('audio/wav');
    expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
    expect(bytes.subarray(44).equals(defaultSpeechPcm('Hi.'))).toBe(true);
  });

  it('records the request body and arrival time', async () => {
    const before = performance.now();
    await (await ctx.client.audio.speech.create(speechParams('Record me'))).arrayBuffer();
    const [request] = ctx.fake.speech.requests;
    expect(request?.body).toEqual(speechParams('Record me'));
    expect(request?.headers.authorization).toBe('Bearer test');
    expect(request?.at).toBeGreaterThanOrEqual(before);
    expect(ctx.fake.requests.map((r) => r.endpoint)).toEqual(['speech']);
  });

  it('counts requests by endpoint, and with keepRequests: false keeps none of them', async () => {
    await (await ctx.client.audio.speech.create(speechParams('Counted'))).arrayBuffer();
    expect(ctx.fake.counts).toEqual({ chat: 0, speech: 1, transcriptions: 0 });

    const lean = await FakeOpenAI.start({ logViolations: false, keepRequests: false });
    try {
      const client = new OpenAI({ apiKey: 'test', baseURL: lean.baseUrl, maxRetries: 0 });
      for (const input of ['one', 'two']) {
        await (await client.audio.speech.create(speechParams(input))).arrayBuffer();
      }
      await client.chat.completions.create(chatParams('hi'));
      expect(lean.counts).toEqual({ chat: 1, speech: 2, transcriptions: 0 });
      expect(lean.requests).toEqual([]);
      expect(lean.speech.requests).toEqual([]);
      expect(lean.violations).toEqual([]);
    } finally {
      await lean.close();
    }
  });

  it('answers the default tone sample for sample, each answer its own copy', () => {
    const a = defaultSpeechPcm('x'.repeat(4)); // 200 ms
    const b = defaultSpeechPcm('x'.repeat(80)); // 3 s, the longest
    expect(a.length).toBe(200 * SPEECH_BYTES_PER_MS);
    for (const i of [0, 1, 17, 4799]) {
      const expected = Math.round(Math.sin((2 * Math.PI * 440 * i) / 24_000) * 10_000);
      expect(a.readInt16LE(i * 2)).toBe(expected);
      expect(b.readInt16LE(i * 2)).toBe(expected);
    }
    a.fill(0);
    expect(defaultSpeechPcm('x'.repeat(4)).readInt16LE(2)).not.toBe(0);
  });

  it('reports formats the fake cannot produce (mp3 is the default) as violations', async () => {
    const { input, model, voice } = speechParams('Hi');
    await expect(ctx.client.audio.speech.create({ input, model, voice })).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    );
    expect(ctx.takeViolations()).toEqual([expect.stringContaining("response_format 'mp3'")]);
  });
});

describe('transcriptions', () => {
  it('returns the scripted text for a WAV upload and records the multipart fields', async () => {
    const wav = makeWav(500);
    ctx.fake.transcriptions.enqueue({ kind: 'text', text: 'I want to book a table' });

    const result = await ctx.client.audio.transcriptions.create({
      file: await toFile(wav, 'turn.wav', { type: 'audio/wav' }),
      model: 'gpt-4o-transcribe',
      language: 'en',
      temperature: 0.2,
    });

    expect(result.text).toBe('I want to book a table');
    const body = ctx.fake.transcriptions.requests[0]?.body;
    expect(body).toMatchObject({ model: 'gpt-4o-transcribe', language: 'en', temperature: 0.2 });
    expect(body?.file).toMatchObject({
      filename: 'turn.wav',
      contentType: 'audio/wav',
      size: wav.length,
    });
    expect(body?.file.bytes.equals(wav)).toBe(true);
  });

  it('answers text and verbose_json; arrays arrive as arrays', async () => {
    const file = await toFile(makeWav(1000), 'turn.wav', { type: 'audio/wav' });
    ctx.fake.transcriptions.setDefault({ kind: 'text', text: 'haan ji' });

    const text = await ctx.client.audio.transcriptions.create({
      file,
      model: 'whisper-1',
      response_format: 'text',
    });
    const verbose = await ctx.client.audio.transcriptions.create({
      file,
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    });

    expect(text).toBe('haan ji\n');
    expect(verbose).toMatchObject({ text: 'haan ji', duration: 1 });
    expect(ctx.fake.transcriptions.requests[1]?.body['timestamp_granularities']).toEqual([
      'word',
      'segment',
    ]);
  });

  it('lets a behaviour function answer from the request', async () => {
    ctx.fake.transcriptions.setDefault((req) => ({
      kind: 'text',
      text: `${req.body.file.size} bytes in ${req.body.language ?? '?'}`,
    }));
    const wav = makeWav(100);
    const result = await ctx.client.audio.transcriptions.create({
      file: await toFile(wav, 'a.wav'),
      model: 'gpt-4o-mini-transcribe',
      language: 'hi',
    });
    expect(result.text).toBe(`${wav.length} bytes in hi`);
  });
});

describe('chat completions', () => {
  it('streams the scripted tokens in order, then finish_reason stop', async () => {
    ctx.fake.chat.enqueue({ kind: 'stream', tokens: ['Your', ' table', ' is', ' booked', '.'] });

    const stream = await ctx.client.chat.completions.create({
      ...chatParams('Book it'),
      stream: true,
    });
    const deltas: string[] = [];
    const finishes: (string | null)[] = [];
    for await (const chunk of stream) {
      deltas.push(chunk.choices[0]?.delta.content ?? '');
      finishes.push(chunk.choices[0]?.finish_reason ?? null);
    }

    expect(deltas.filter(Boolean)).toEqual(['Your', ' table', ' is', ' booked', '.']);
    expect(finishes.at(-1)).toBe('stop');
  });

  it('splits a string into word-ish tokens that join back exactly', () => {
    const text = "Sure! Your order's ready, ₹450 total.  Anything else?";
    const tokens = splitTokens(text);
    expect(tokens.join('')).toBe(text);
    expect(tokens.slice(0, 4)).toEqual(['Sure', '!', ' Your', " order's"]);
  });

  it('answers from the last user message with a behaviour function, streamed or not', async () => {
    ctx.fake.chat.setDefault((req) => ({
      kind: 'stream',
      tokens: `You said: ${lastUserText(req.body)}`,
    }));

    const completion = await ctx.client.chat.completions.create(chatParams('two people'));
    const stream = await ctx.client.chat.completions.create({
      ...chatParams('at 8'),
      stream: true,
    });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';

    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('You said: two people');
    expect(streamed).toBe('You said: at 8');
  });

  it('delays the first token and spaces the rest', async () => {
    ctx.fake.chat.enqueue({
      kind: 'stream',
      tokens: ['a', 'b', 'c'],
      firstTokenDelayMs: 80,
      perTokenMs: 40,
    });
    const started = performance.now();
    const stream = await ctx.client.chat.completions.create({ ...chatParams('hi'), stream: true });
    const arrivals: number[] = [];
    for await (const chunk of stream)
      if (chunk.choices[0]?.delta.content) arrivals.push(performance.now());

    // Lower bounds only: the fake cannot send early, but this process may read late.
    expect(arrivals[0]! - started).toBeGreaterThanOrEqual(75);
    expect(arrivals[2]! - started).toBeGreaterThanOrEqual(80 + 2 * 40 - 5);
  });
});

describe('wire format honesty', () => {
  it('frames SSE like OpenAI and every chunk matches the spec, usage included', async () => {
    const response = await post(
      ctx.fake,
      '/chat/completions',
      JSON.stringify({
        ...chatParams('hi'),
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    const text = (await readBody(response)).bytes.toString('utf8');
    const frames = text.split('\n\n').filter(Boolean);

    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(frames.every((frame) => frame.startsWith('data: '))).toBe(true);
    expect(frames.at(-1)).toBe('data: [DONE]');
    const chunks = frames
      .slice(0, -1)
      .map((frame) => JSON.parse(frame.slice(6)) as Record<string, unknown>);
    for (const chunk of chunks) {
      expect(ctx.fake.validateComponent('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
    }
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 9 } });
  });

  it('streams tool calls in chunks that match the spec, and answers them whole unstreamed', async () => {
    const toolCalls = [{ name: 'check_loan_status', arguments: { application_id: 'HL-1' } }];
    ctx.fake.chat.enqueue(
      { kind: 'stream', tokens: [], toolCalls },
      { kind: 'stream', tokens: [], toolCalls },
    );
    const tools = [
      { type: 'function', function: { name: 'check_loan_status', parameters: { type: 'object' } } },
    ];
    const streamed = await post(
      ctx.fake,
      '/chat/completions',
      JSON.stringify({ ...chatParams('hi'), stream: true, tools }),
    );
    const frames = (await readBody(streamed)).bytes.toString('utf8').split('\n\n').filter(Boolean);
    const chunks = frames
      .slice(0, -1)
      .map((frame) => JSON.parse(frame.slice(6)) as { choices: Array<Record<string, unknown>> });
    for (const chunk of chunks) {
      expect(ctx.fake.validateComponent('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
    }
    const deltas = chunks.flatMap((c) =>
      c.choices.map((ch) => ch['delta'] as Record<string, unknown>),
    );
    const pieces = deltas.flatMap((d) => (d['tool_calls'] as Array<Record<string, unknown>>) ?? []);
    // First piece: index, id, type and name with empty arguments; then arguments only.
    expect(pieces[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'check_loan_status', arguments: '' },
    });
    expect(pieces[0]?.['id']).toMatch(/^call_/);
    expect(pieces.slice(1).every((p) => p['id'] === undefined && p['index'] === 0)).toBe(true);
    const args = pieces
      .map((p) => (p['function'] as { arguments?: string }).arguments ?? '')
      .join('');
    expect(JSON.parse(args)).toEqual({ application_id: 'HL-1' });
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ finish_reason: 'tool_calls' });

    const whole = await post(
      ctx.fake,
      '/chat/completions',
      JSON.stringify({ ...chatParams('hi'), tools }),
    );
    const body = (await whole.json()) as { choices: Array<{ message: Record<string, unknown> }> };
    expect(ctx.fake.validateComponent('CreateChatCompletionResponse', body)).toEqual([]);
    expect(body.choices[0]?.message).toMatchObject({
      content: null,
      tool_calls: [{ type: 'function', function: { name: 'check_loan_status' } }],
    });
  });

  it('sends bodies that match the spec for completions, transcriptions and errors', async () => {
    const completion = await post(ctx.fake, '/chat/completions', JSON.stringify(chatParams('hi')));
    ctx.fake.transcriptions.enqueue({ kind: 'text', text: 'ok' }, { kind: 'text', text: 'ok' });
    const form = (format: string): FormData => {
      const data = new FormData();
      data.append('file', new Blob([makeWav(200)], { type: 'audio/wav' }), 'a.wav');
      data.append('model', 'whisper-1');
      data.append('response_format', format);
      return data;
    };
    const json = await post(ctx.fake, '/audio/transcriptions', form('json'), {});
    const verbose = await post(ctx.fake, '/audio/transcriptions', form('verbose_json'), {});
    ctx.fake.chat.enqueue({ kind: 'error', status: 429 });
    const error = await post(ctx.fake, '/chat/completions', JSON.stringify(chatParams('hi')));

    const check = async (schema: string, response: Response) =>
      ctx.fake.validateComponent(schema, await response.json());
    expect(await check('CreateChatCompletionResponse', completion)).toEqual([]);
    expect(await check('CreateTranscriptionResponseJson', json)).toEqual([]);
    expect(await check('CreateTranscriptionResponseVerboseJson', verbose)).toEqual([]);
    expect(await check('ErrorResponse', error)).toEqual([]);
  });

  it('records no violations for valid SDK requests to every endpoint', async () => {
    await (await ctx.client.audio.speech.create(speechParams('Hello'))).arrayBuffer();
    await ctx.client.audio.transcriptions.create({
      file: await toFile(makeWav(100), 'a.wav', { type: 'audio/wav' }),
      model: 'gpt-4o-transcribe',
      language: 'en',
      prompt: 'Restaurant booking',
      temperature: 0,
      include: ['logprobs'],
      chunking_strategy: { type: 'server_vad', threshold: 0.5, silence_duration_ms: 300 },
    });
    const stream = await ctx.client.chat.completions.create({
      ...chatParams('hi'),
      stream: true,
      temperature: 0.3,
      max_completion_tokens: 200,
      stream_options: { include_usage: true },
    });
    for await (const _ of stream) {
      // drain
    }
    expect(ctx.fake.violations).toEqual([]);
    expect(ctx.fake.requests.map((r) => r.endpoint)).toEqual(['speech', 'transcriptions', 'chat']);
  });
});
