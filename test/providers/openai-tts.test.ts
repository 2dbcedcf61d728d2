/**
 * The TTS provider's clean-up: a consumer that stops early closes the HTTP request; a stream read
 * to its end leaves the kept-alive connection alone, for the next request.
 */
import { describe, expect, it } from 'vitest';
import { createOpenAIClient } from '../../src/providers/openai-client.js';
import { OpenAITts } from '../../src/providers/tts/openai-tts.js';
import { startRelay, useFakeOpenAI, within } from '../fakes-tests/helpers.js';

const ctx = useFakeOpenAI();
const live = new AbortController().signal;
const tts = (baseUrl: string) =>
  new OpenAITts(createOpenAIClient({ apiKey: 'test', baseUrl }), {
    model: 'gpt-4o-mini-tts',
    timeoutMs: 2000,
    stallMs: 2000,
  });
/** 2 s of 24 kHz audio sent at real time in 40 ms chunks. */
const slowSpeech = () => ({
  kind: 'audio' as const,
  pcm: Buffer.alloc(96_000, 1),
  realtimeFactor: 1,
  chunkMs: 40,
});

describe('OpenAITts clean-up', () => {
  it('a consumer that stops after the first chunks closes the HTTP connection', async () => {
    const relay = await startRelay(ctx.fake.baseUrl);
    ctx.fake.speech.enqueue(slowSpeech());
    let chunks = 0;
    for await (const chunk of tts(relay.baseUrl).synthesize({
      text: 'Namaste',
      voice: 'alloy',
      signal: live,
    })) {
      expect(chunk.length).toBeGreaterThan(0);
      if (++chunks === 2) break;
    }
    expect(await within(relay.closed, 500)).not.toBe('timeout');
  });

  it('a stream read to its end keeps its connection open for the next request', async () => {
    const relay = await startRelay(ctx.fake.baseUrl);
    ctx.fake.speech.enqueue({ kind: 'audio', pcm: Buffer.alloc(4800, 1), chunkMs: 40 });
    let bytes = 0;
    for await (const chunk of tts(relay.baseUrl).synthesize({
      text: 'Namaste',
      voice: 'alloy',
      signal: live,
    }))
      bytes += chunk.length;
    expect(bytes).toBe(4800);
    expect(await within(relay.closed, 300)).toBe('timeout');
  });
});
