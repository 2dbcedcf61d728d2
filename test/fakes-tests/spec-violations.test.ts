/**
 * Requests that break OpenAI's OpenAPI spec get a 400 in OpenAI's error shape and a recorded
 * violation. Each case below is something the spec itself rejects (checked against the JSON):
 * speech and transcription bodies forbid additional properties, chat bodies do not.
 */
import { describe, expect, it } from 'vitest';
import { makeWav, post, useFakeOpenAI } from './helpers.js';

const ctx = useFakeOpenAI();

const speech = { model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'Hello', response_format: 'pcm' };
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

function without<T extends object>(value: T, key: keyof T): Partial<T> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}

function form(fields: Record<string, string | Blob>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') data.append(name, value);
    else data.append(name, value, 'turn.wav');
  }
  return data;
}

const wav = () => new Blob([makeWav(100)], { type: 'audio/wav' });

interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

async function expectRejected(response: Response, violation: string, param: string | null) {
  const body = (await response.json()) as OpenAIErrorBody;
  expect(response.status).toBe(400);
  expect(body.error).toMatchObject({ type: 'invalid_request_error', param, code: null });
  expect(body.error.message).toContain(violation);
  expect(ctx.takeViolations()).toEqual([expect.stringContaining(violation)]);
}

describe('JSON bodies', () => {
  it.each([
    [
      'speech without model',
      without(speech, 'model'),
      "must have required property 'model'",
      'model',
    ],
    [
      'speech without input',
      without(speech, 'input'),
      "must have required property 'input'",
      'input',
    ],
    ['speech with a numeric voice', { ...speech, voice: 7 }, '/voice must be string', 'voice'],
    [
      'speech with response_format ogg',
      { ...speech, response_format: 'ogg' },
      '/response_format must be one of',
      'response_format',
    ],
    ['speech with speed 5', { ...speech, speed: 5 }, '/speed must be <= 4', 'speed'],
    [
      'speech with an unknown field',
      { ...speech, sample_rate: 8000 },
      "additional property 'sample_rate'",
      'sample_rate',
    ],
  ])('rejects %s', async (_name, body, violation, param) => {
    await expectRejected(
      await post(ctx.fake, '/audio/speech', JSON.stringify(body)),
      violation,
      param,
    );
  });

  it.each([
    [
      'chat without messages',
      without(chat, 'messages'),
      "must have required property 'messages'",
      'messages',
    ],
    [
      'chat with no messages',
      { ...chat, messages: [] },
      '/messages must NOT have fewer than 1 items',
      'messages',
    ],
    [
      'chat with an unknown role',
      { ...chat, messages: [{ role: 'bot', content: 'x' }] },
      'value of tag "role" must be in oneOf',
      'messages',
    ],
    [
      'chat with a user message without content',
      { ...chat, messages: [{ role: 'user' }] },
      "/messages/0 must have required property 'content'",
      'messages',
    ],
    [
      'chat with a string temperature',
      { ...chat, temperature: 'warm' },
      '/temperature must be number',
      'temperature',
    ],
    ['chat with stream "yes"', { ...chat, stream: 'yes' }, '/stream must be boolean', 'stream'],
  ])('rejects %s', async (_name, body, violation, param) => {
    await expectRejected(
      await post(ctx.fake, '/chat/completions', JSON.stringify(body)),
      violation,
      param,
    );
  });

  it('accepts unknown chat fields, because that schema allows additional properties', async () => {
    const response = await post(
      ctx.fake,
      '/chat/completions',
      JSON.stringify({ ...chat, novel_field: 1 }),
    );
    expect(response.status).toBe(200);
  });

  it('rejects invalid JSON and a non-JSON content type', async () => {
    await expectRejected(
      await post(ctx.fake, '/chat/completions', '{"model":'),
      'not valid JSON',
      null,
    );
    const textPlain = await post(ctx.fake, '/chat/completions', JSON.stringify(chat), {
      'content-type': 'text/plain',
    });
    await expectRejected(textPlain, "content-type 'text/plain' is not one the spec declares", null);
  });
});

describe('multipart bodies', () => {
  it.each([
    ['without file', { model: 'whisper-1' }, "must have required property 'file'", 'file'],
    ['without model', { file: wav() }, "must have required property 'model'", 'model'],
    [
      'with file as a text field',
      { file: 'audio', model: 'whisper-1' },
      '/file must be a file part',
      'file',
    ],
    [
      'with a non-numeric temperature',
      { file: wav(), model: 'whisper-1', temperature: 'warm' },
      '/temperature must be number',
      'temperature',
    ],
    [
      'with response_format mp3',
      { file: wav(), model: 'whisper-1', response_format: 'mp3' },
      '/response_format must be one of',
      'response_format',
    ],
    [
      'with an unknown field',
      { file: wav(), model: 'whisper-1', sample_rate: '8000' },
      "additional property 'sample_rate'",
      'sample_rate',
    ],
  ])('rejects a transcription %s', async (_name, fields, violation, param) => {
    const response = await post(ctx.fake, '/audio/transcriptions', form(fields), {});
    await expectRejected(response, violation, param);
  });

  it('rejects a JSON body where the spec wants multipart', async () => {
    const response = await post(
      ctx.fake,
      '/audio/transcriptions',
      JSON.stringify({ model: 'whisper-1' }),
    );
    await expectRejected(
      response,
      "content-type 'application/json' is not one the spec declares",
      null,
    );
  });
});

describe('outside the request body', () => {
  it('answers 401 without a bearer key, like OpenAI, and records it', async () => {
    const response = await fetch(`${ctx.fake.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat),
    });
    expect(response.status).toBe(401);
    expect(ctx.takeViolations()).toEqual([expect.stringContaining('Authorization')]);
  });

  it('answers 404 for an operation the spec does not have', async () => {
    const response = await post(ctx.fake, '/audio/translate', JSON.stringify({}));
    const body = (await response.json()) as OpenAIErrorBody;
    expect(response.status).toBe(404);
    expect(body.error.message).toBe('Invalid URL (POST /v1/audio/translate)');
    expect(ctx.takeViolations()).toEqual([
      expect.stringContaining('no operation POST /v1/audio/translate'),
    ]);
  });

  it('records nothing in requests for rejected calls', async () => {
    await post(ctx.fake, '/audio/speech', JSON.stringify(without(speech, 'voice')));
    expect(ctx.fake.requests).toEqual([]);
    expect(ctx.takeViolations()).toHaveLength(1);
  });
});

describe('chat bodies the API rejects beyond the schema (tools)', () => {
  const tool = (name: string, parameters: object = { type: 'object', properties: {} }) => ({
    type: 'function',
    function: { name, description: 'x', parameters },
  });
  const call = (id: string) => ({
    id,
    type: 'function',
    function: { name: 'lookup', arguments: '{}' },
  });
  it.each([
    [
      'a tool name with a space',
      { ...chat, tools: [tool('check status')] },
      'does not match pattern',
    ],
    [
      'parameters that are not an object schema',
      { ...chat, tools: [tool('lookup', { type: 'string' })] },
      'must be a JSON Schema of \'type: "object"\'',
    ],
    [
      'tool_choice without tools',
      { ...chat, tool_choice: 'auto' },
      "'tool_choice' is only allowed",
    ],
    [
      'a tool call with no tool message after it',
      {
        ...chat,
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: null, tool_calls: [call('call_1'), call('call_2')] },
          { role: 'tool', tool_call_id: 'call_1', content: '{}' },
          { role: 'user', content: 'and?' },
        ],
      },
      'did not have response messages: call_2',
    ],
    [
      'a tool message answering no call',
      {
        ...chat,
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'tool', tool_call_id: 'call_9', content: '{}' },
        ],
      },
      "messages with role 'tool' must be a response",
    ],
  ])('%s', async (_name, body, violation) => {
    const response = await post(ctx.fake, '/chat/completions', JSON.stringify(body));
    const answer = (await response.json()) as OpenAIErrorBody;
    expect(response.status).toBe(400);
    expect(answer.error.message).toContain(violation);
    expect(ctx.takeViolations()).toEqual([expect.stringContaining(violation)]);
  });

  it('accepts a history where every tool call is answered', async () => {
    const body = {
      ...chat,
      tools: [tool('lookup')],
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null, tool_calls: [call('call_1')] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"ok":true}' },
      ],
    };
    const response = await post(ctx.fake, '/chat/completions', JSON.stringify(body));
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });
});
