/**
 * Says one fixed line on a call (greeting, fallback, filler, idle prompt, goodbye): from the
 * cache when the same audio was made before, otherwise streamed from TTS so the first frame
 * leaves as soon as the first bytes arrive. A failure before any audio was received is retried
 * once; after that it is not (the caller would hear a repeat). Lines a call may need in a hurry
 * are synthesized into the cache ahead (`prepareCachedSpeech`).
 */
import { bytesFromPcm, createStreamResampler, pcmFromBytes } from '../audio/index.js';
import { VoicebotError, isRetryable } from '../errors.js';
import type { TtsProvider } from '../providers/tts/types.js';
import { retry } from '../retry.js';
import type { AudioOutput, Utterance, UtteranceKind } from './audio-output.js';
import { ttsCacheKey, type TtsCache } from './tts-cache.js';

export interface SpeakOptions {
  output: AudioOutput;
  tts: TtsProvider;
  text: string;
  voice: string;
  kind: UtteranceKind;
  signal: AbortSignal;
  /** Cache the synthesized audio and serve it from the cache next time. */
  cache?: TtsCache | undefined;
}

export interface SpeakResult {
  utterance: Utterance;
  fromCache: boolean;
  /** Milliseconds of audio written. */
  audioMs: number;
  /** When the TTS request was made and its first bytes came (not from the cache). */
  ttsRequestAt?: number;
  ttsFirstByteAt?: number;
}

export async function speak(opts: SpeakOptions): Promise<SpeakResult> {
  const { output, tts, text, voice, kind, signal, cache } = opts;
  const key = cache ? ttsCacheKey(text, voice, tts.model, output.sampleRate) : '';
  const cached = cache?.get(key);
  if (cached) {
    const audioMs = cached.length / ((output.sampleRate * 2) / 1000);
    return { utterance: await output.playPcm(kind, cached), fromCache: true, audioMs };
  }
  let received = false;
  return retry(
    async () => {
      const utt = await output.startUtterance(kind, tts.sampleRate, { capture: !!cache });
      const ttsRequestAt = performance.now();
      let ttsFirstByteAt: number | undefined;
      let bytes = 0;
      try {
        for await (const chunk of tts.synthesize({ text, voice, signal })) {
          ttsFirstByteAt ??= performance.now();
          received = true;
          if (utt.closed) break;
          bytes += chunk.length;
          await utt.writeBytes(chunk);
        }
        if (!received) {
          throw new VoicebotError('PROVIDER_BAD_RESPONSE', 'tts: empty audio', { retryable: true });
        }
      } catch (err) {
        utt.cancel();
        throw err;
      }
      // Cleared or cancelled while streaming: what was sent stays sent, nothing is cached.
      if (!utt.closed) {
        utt.end();
        const audio = utt.capturedAudio();
        if (cache && audio) cache.set(key, audio);
      }
      const audioMs = bytes / ((tts.sampleRate * 2) / 1000);
      return { utterance: utt, fromCache: false, audioMs, ttsRequestAt, ttsFirstByteAt };
    },
    { attempts: 2, signal, retryIf: (err) => !received && isRetryable(err) },
  );
}

export interface PrepareOptions {
  output: AudioOutput;
  tts: TtsProvider;
  cache: TtsCache;
  text: string;
  voice: string;
  signal: AbortSignal;
}

/** Synthesizes `text` into the cache at the call's rate without playing it (no-op when cached). */
export function prepareCachedSpeech(opts: PrepareOptions): Promise<void> {
  const { output, tts, cache, text, voice, signal } = opts;
  const key = ttsCacheKey(text, voice, tts.model, output.sampleRate);
  return cache.fill(key, async () => {
    const resampler = await createStreamResampler(tts.sampleRate, output.sampleRate);
    try {
      const parts: Buffer[] = [];
      for await (const chunk of tts.synthesize({ text, voice, signal })) {
        parts.push(Buffer.from(bytesFromPcm(resampler.push(pcmFromBytes(chunk)))));
      }
      parts.push(Buffer.from(bytesFromPcm(resampler.flush())));
      return signal.aborted ? undefined : Buffer.concat(parts);
    } finally {
      resampler.destroy();
    }
  });
}
