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
  // Memory, then the shared folder (another process or an earlier run made it).
  const cached = cache?.get(key) ?? (cache ? await cache.load(key) : undefined);
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
  /** The rate the audio is cached at (the call's stream rate). */
  sampleRate: number;
  tts: TtsProvider;
  cache: TtsCache;
  text: string;
  voice: string;
  signal: AbortSignal;
}

/** Synthesizes `text` into the cache at `sampleRate` without playing it (no-op when cached). */
export function prepareCachedSpeech(opts: PrepareOptions): Promise<void> {
  return prepareAtRates({ ...opts, rates: [opts.sampleRate] });
}

/**
 * Synthesizes `text` into the cache at each of `rates` from one TTS request (no-op when all are
 * cached): the first missing rate is made, the others resampled from the same audio. `share`: the
 * cache's folder gets them, made once by the processes on it (see TtsCache).
 */
export async function prepareAtRates(
  opts: Omit<PrepareOptions, 'sampleRate'> & { rates: readonly number[]; share?: boolean },
): Promise<void> {
  const { tts, cache, text, voice, signal, share = false } = opts;
  const keep = (key: string, pcm: Buffer) =>
    share ? cache.put(key, pcm) : Promise.resolve(cache.set(key, pcm));
  const keyOf = (rate: number) => ttsCacheKey(text, voice, tts.model, rate);
  const missing: number[] = [];
  for (const rate of opts.rates) if (!(await cache.load(keyOf(rate)))) missing.push(rate);
  const [first, ...rest] = missing;
  if (first === undefined) return;
  await cache.fill(
    keyOf(first),
    async () => {
      const resamplers = await Promise.all(
        [first, ...rest].map((rate) => createStreamResampler(tts.sampleRate, rate)),
      );
      try {
        const parts: Buffer[][] = resamplers.map(() => []);
        for await (const chunk of tts.synthesize({ text, voice, signal })) {
          const pcm = pcmFromBytes(chunk);
          resamplers.forEach((r, i) => parts[i]!.push(Buffer.from(bytesFromPcm(r.push(pcm)))));
        }
        if (signal.aborted) return undefined;
        resamplers.forEach((r, i) => parts[i]!.push(Buffer.from(bytesFromPcm(r.flush()))));
        for (const [i, rate] of rest.entries()) {
          await keep(keyOf(rate), Buffer.concat(parts[i + 1]!));
        }
        return Buffer.concat(parts[0]!);
      } finally {
        for (const r of resamplers) r.destroy();
      }
    },
    { share, signal },
  );
  // Another process made them: read the other rates it wrote.
  for (const rate of rest) await cache.load(keyOf(rate));
}
