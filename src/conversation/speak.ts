/**
 * Says one piece of text on a call: from the cache when the same audio was made before,
 * otherwise streamed from TTS so the first frame leaves as soon as the first bytes arrive.
 * A failure before any audio was received is retried once; after that it is not (the caller
 * would hear a repeat).
 */
import { bytesFromPcm, createStreamResampler, pcmFromBytes } from '../audio/index.js';
import { VoicebotError, isRetryable } from '../errors.js';
import type { TtsProvider } from '../providers/tts/types.js';
import type { AudioOutput, Utterance, UtteranceKind } from './audio-output.js';
import { ttsCacheKey, type TtsCache } from './tts-cache.js';

export interface SpeakOptions {
  player: AudioOutput;
  tts: TtsProvider;
  text: string;
  voice: string;
  kind: UtteranceKind;
  signal: AbortSignal;
  /** Cache the synthesized audio and serve it from the cache next time. */
  cache?: TtsCache | undefined;
  /** Called when the TTS request is made, and when its first audio bytes arrive. */
  onTtsRequest?: (at: number) => void;
  onTtsFirstByte?: (at: number) => void;
  retries?: number;
}

export interface SpeakResult {
  utterance: Utterance;
  fromCache: boolean;
}

export async function speak(opts: SpeakOptions): Promise<SpeakResult> {
  const { player, tts, text, voice, kind, signal, cache } = opts;
  const key = cache ? ttsCacheKey(text, voice, tts.model, player.sampleRate) : '';
  const cached = cache?.get(key);
  if (cached) {
    return { utterance: await player.playPcm(kind, cached), fromCache: true };
  }
  let attemptsLeft = opts.retries ?? 1;
  for (;;) {
    const utt = await player.startUtterance(kind, tts.sampleRate, { capture: cache !== undefined });
    let received = false;
    try {
      opts.onTtsRequest?.(performance.now());
      for await (const chunk of tts.synthesize({ text, voice, signal })) {
        if (!received) {
          received = true;
          opts.onTtsFirstByte?.(performance.now());
        }
        if (utt.closed) break;
        await utt.writeBytes(chunk);
      }
      if (!received)
        throw new VoicebotError('PROVIDER_BAD_RESPONSE', 'tts: empty audio', { retryable: true });
      // Cleared or cancelled while streaming: what was sent stays sent, nothing is cached.
      if (utt.closed) return { utterance: utt, fromCache: false };
      utt.end();
      const audio = utt.capturedAudio();
      if (cache && audio) cache.set(key, audio);
      return { utterance: utt, fromCache: false };
    } catch (err) {
      utt.cancel();
      if (received || signal.aborted || attemptsLeft <= 0 || !isRetryable(err)) throw err;
      attemptsLeft--;
    }
  }
}

export interface PrepareOptions {
  player: AudioOutput;
  tts: TtsProvider;
  cache: TtsCache;
  text: string;
  voice: string;
  signal: AbortSignal;
}

/** Synthesizes `text` into the cache at the call's rate without playing it (no-op when cached). */
export async function prepareCachedSpeech(opts: PrepareOptions): Promise<void> {
  const { player, tts, cache, text, voice, signal } = opts;
  const key = ttsCacheKey(text, voice, tts.model, player.sampleRate);
  if (cache.has(key)) return;
  const resampler = await createStreamResampler(tts.sampleRate, player.sampleRate);
  try {
    const parts: Buffer[] = [];
    for await (const chunk of tts.synthesize({ text, voice, signal })) {
      parts.push(Buffer.from(bytesFromPcm(resampler.push(pcmFromBytes(chunk)))));
    }
    parts.push(Buffer.from(bytesFromPcm(resampler.flush())));
    if (!signal.aborted) cache.set(key, Buffer.concat(parts));
  } finally {
    resampler.destroy();
  }
}
