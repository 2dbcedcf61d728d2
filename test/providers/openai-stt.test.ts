import type OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/audio/wav.js';
import { VoicebotError } from '../../src/errors.js';
import { createOpenAIClient } from '../../src/providers/openai-client.js';
import { OpenAISttProvider } from '../../src/providers/stt/openai-stt.js';
import type { TranscriptionRequest } from '../fakes/index.js';
import { useFakeOpenAI } from '../fakes-tests/helpers.js';

const ctx = useFakeOpenAI();
let client: OpenAI;
beforeAll(() => {
  client = createOpenAIClient({ apiKey: 'test', baseUrl: ctx.fake.baseUrl });
});

/** A 440 Hz tone, so the uploaded samples are recognisable. */
function tone(ms: number, sampleRate: number): Int16Array {
  const pcm = new Int16Array(Math.round((ms * sampleRate) / 1000));
  for (let i = 0; i < pcm.length; i++) {
    pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
  }
  return pcm;
}

function stt(timeoutMs = 2000, model = 'whisper-1'): OpenAISttProvider {
  return new OpenAISttProvider(client, { model, timeoutMs });
}

async function failure(promise: Promise<unknown>): Promise<VoicebotError> {
  const err = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VoicebotError);
  return err as VoicebotError;
}

const lastRequest = (): TranscriptionRequest => {
  const request = ctx.fake.transcriptions.requests.at(-1);
  if (!request) throw new Error('no transcription request reached the fake');
  return request;
};

describe('OpenAISttProvider requests', () => {
  it.each(['whisper-1', 'gpt-4o-mini-transcribe', 'gpt-4o-transcribe'])(
    '%s: uploads a 16-bit mono WAV of the utterance with model, language and json format',
    async (model) => {
      const audio = tone(700, 16000);
      ctx.fake.transcriptions.enqueue({ kind: 'text', text: 'Mujhe plan ke baare mein batao' });

      const result = await stt(2000, model).transcribe({
        audio,
        sampleRate: 16000,
        language: 'hi',
        prompt: 'Hinglish call about mobile plans.',
        signal: new AbortController().signal,
      });

      expect(result).toEqual({ text: 'Mujhe plan ke baare mein batao' });
      const { body } = lastRequest();
      expect(body.model).toBe(model);
      expect(body.language).toBe('hi');
      expect(body.prompt).toBe('Hinglish call about mobile plans.');
      expect(body.response_format).toBe('json');
      expect(body.file.filename).toMatch(/\.wav$/);
      expect(body.file.contentType).toBe('audio/wav');
      const wav = decodeWav(body.file.bytes);
      expect(wav.sampleRate).toBe(16000);
      expect(body.file.size).toBe(44 + audio.length * 2);
      expect(Array.from(wav.samples)).toEqual(Array.from(audio));
    },
  );

  it.each([8000, 24000])('keeps the stream rate (%i Hz) in the WAV header', async (rate) => {
    const audio = tone(300, rate);
    await stt().transcribe({ audio, sampleRate: rate, signal: new AbortController().signal });

    const wav = decodeWav(lastRequest().body.file.bytes);
    expect(wav.sampleRate).toBe(rate);
    expect(wav.samples.length).toBe(audio.length);
  });

  it('leaves language and prompt out when not given', async () => {
    await stt().transcribe({
      audio: tone(300, 16000),
      sampleRate: 16000,
      signal: new AbortController().signal,
    });

    expect(lastRequest().body).not.toHaveProperty('language');
    expect(lastRequest().body).not.toHaveProperty('prompt');
  });

  it('trims the transcript', async () => {
    ctx.fake.transcriptions.enqueue({ kind: 'text', text: '  \n Haan ji, bataiye.  \n' });

    const result = await stt().transcribe({
      audio: tone(300, 16000),
      sampleRate: 16000,
      signal: new AbortController().signal,
    });

    expect(result.text).toBe('Haan ji, bataiye.');
  });

  it('does not send audio shorter than 100 ms (OpenAI rejects it) and returns empty text', async () => {
    const result = await stt().transcribe({
      audio: tone(90, 16000),
      sampleRate: 16000,
      signal: new AbortController().signal,
    });

    expect(result.text).toBe('');
    expect(ctx.fake.transcriptions.requests).toHaveLength(0);
  });
});

describe('OpenAISttProvider failures', () => {
  const request = (signal = new AbortController().signal) => ({
    audio: tone(300, 16000),
    sampleRate: 16000,
    signal,
  });

  it.each([
    [429, 'PROVIDER_RATE_LIMITED', true],
    [500, 'PROVIDER_SERVER_ERROR', true],
    [503, 'PROVIDER_SERVER_ERROR', true],
    [401, 'PROVIDER_AUTH', false],
    [400, 'PROVIDER_CLIENT_ERROR', false],
  ] as const)('HTTP %i -> %s (retryable %s)', async (status, code, retryable) => {
    ctx.fake.transcriptions.enqueue({ kind: 'error', status });

    const err = await failure(stt().transcribe(request()));

    expect(err.code).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(ctx.fake.transcriptions.requests).toHaveLength(1); // no SDK retries
  });

  it('a server that never answers -> PROVIDER_TIMEOUT after timeoutMs', async () => {
    ctx.fake.transcriptions.enqueue({ kind: 'hang' });
    const started = performance.now();

    const err = await failure(stt(200).transcribe(request()));

    expect(err.code).toBe('PROVIDER_TIMEOUT');
    expect(err.retryable).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('a body that stops after the headers -> PROVIDER_TIMEOUT (the SDK timeout stops at headers)', async () => {
    ctx.fake.transcriptions.enqueue({ kind: 'stall', afterBytes: 5 });
    const started = performance.now();

    const err = await failure(stt(250).transcribe(request()));

    expect(err.code).toBe('PROVIDER_TIMEOUT');
    expect(err.retryable).toBe(true);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('an answer slower than timeoutMs -> PROVIDER_TIMEOUT', async () => {
    ctx.fake.transcriptions.enqueue({ kind: 'text', text: 'late', delayMs: 1000 });

    const err = await failure(stt(200).transcribe(request()));

    expect(err.code).toBe('PROVIDER_TIMEOUT');
  });

  it('an answer within timeoutMs is not cut short', async () => {
    ctx.fake.transcriptions.enqueue({ kind: 'text', text: 'in time', delayMs: 100 });

    await expect(stt(1000).transcribe(request())).resolves.toEqual({ text: 'in time' });
  });

  it('a cut-off JSON body -> PROVIDER_BAD_RESPONSE, retryable', async () => {
    ctx.fake.transcriptions.enqueue({ kind: 'malformed' });

    const err = await failure(stt().transcribe(request()));

    expect(err.code).toBe('PROVIDER_BAD_RESPONSE');
    expect(err.retryable).toBe(true);
  });

  it('a connection closed mid-body -> PROVIDER_CONNECTION, retryable', async () => {
    ctx.fake.transcriptions.enqueue({ kind: 'drop', afterBytes: 5 });

    const err = await failure(stt().transcribe(request()));

    expect(err.code).toBe('PROVIDER_CONNECTION');
    expect(err.retryable).toBe(true);
  });

  it('the caller aborting mid-request -> PROVIDER_ABORTED at once, not retryable', async () => {
    ctx.fake.transcriptions.enqueue({ kind: 'hang' });
    const caller = new AbortController();
    setTimeout(() => caller.abort(new Error('barge-in')), 50);
    const started = performance.now();

    const err = await failure(stt(5000).transcribe(request(caller.signal)));

    expect(err.code).toBe('PROVIDER_ABORTED');
    expect(err.retryable).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('an already aborted signal -> PROVIDER_ABORTED without a request', async () => {
    const caller = new AbortController();
    caller.abort();

    const err = await failure(stt().transcribe(request(caller.signal)));

    expect(err.code).toBe('PROVIDER_ABORTED');
    expect(ctx.fake.transcriptions.requests).toHaveLength(0);
  });
});
