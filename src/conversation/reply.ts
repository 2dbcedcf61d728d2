/**
 * One spoken reply: LLM tokens stream into sentences, each sentence goes to TTS the moment it is
 * complete (the next one is synthesized while the current one plays), and the audio streams into
 * one utterance closed by a `response_done` mark. The first frame leaves when the first
 * sentence's first TTS bytes arrive.
 *
 * Failures: a provider error before any audio was played is retried once; after that the reply
 * ends where it is (the caller would hear a repeat otherwise). `run()` throws only when nothing
 * was played, so the caller can say the fallback line.
 */
import { VoicebotError, errorCode, isRetryable } from '../errors.js';
import type { Logger } from '../log.js';
import type { ChatMessage, LlmProvider } from '../providers/llm/types.js';
import type { TtsProvider } from '../providers/tts/types.js';
import { AsyncQueue } from './async-queue.js';
import { BufferedSynthesis } from './buffered-synthesis.js';
import type { SpokenSentence } from './heard-text.js';
import type { AudioOutput, PlaybackResult, Utterance } from './audio-output.js';
import { SentenceAggregator } from './sentence-aggregator.js';
import type { TurnTimings } from './turn-record.js';

export interface ReplyDeps {
  player: AudioOutput;
  llm: LlmProvider;
  tts: TtsProvider;
  voice: string;
  log: Logger;
}

export class Reply {
  /** Sentences written to the utterance, with their audio length. */
  readonly sentences: SpokenSentence[] = [];
  /** Every sentence the LLM produced (some may never have been spoken). */
  readonly generated: string[] = [];
  readonly errors: string[] = [];
  utterance: Utterance | undefined;

  constructor(
    private readonly deps: ReplyDeps,
    private readonly messages: ChatMessage[],
    private readonly signal: AbortSignal,
    private readonly timings: TurnTimings,
  ) {}

  /** True once any of the reply's audio went to the socket. */
  get audioStarted(): boolean {
    return (this.utterance?.sentAudioMs ?? 0) > 0;
  }

  get text(): string {
    return this.sentences.map((s) => s.text).join(' ');
  }

  /**
   * Generates and plays the reply; resolves when it has been heard (or cleared). Throws a coded
   * error when it failed before any audio played.
   */
  async run(): Promise<PlaybackResult> {
    const { player, tts } = this.deps;
    const utt = await player.startUtterance('response_done', tts.sampleRate);
    this.utterance = utt;
    const sentences = new AsyncQueue<string>();
    const syntheses = new AsyncQueue<BufferedSynthesis>();
    const stop = new AbortController();
    const linked = AbortSignal.any([this.signal, stop.signal]);
    const written = { count: 0, wake: undefined as (() => void) | undefined };

    const produce = this.produce(sentences, linked).catch((err: unknown) => sentences.fail(err));
    const synthesize = (async () => {
      for await (const text of sentences) {
        this.timings.firstSentenceAt ??= performance.now();
        this.generated.push(text);
        // At most one sentence synthesized ahead of the one being written.
        while (this.generated.length - written.count > 2 && !linked.aborted) {
          await new Promise<void>((r) => (written.wake = r));
        }
        if (linked.aborted) break;
        syntheses.push(new BufferedSynthesis(tts, text, this.deps.voice, linked));
      }
      syntheses.close();
    })().catch((err: unknown) => syntheses.fail(err));

    try {
      for await (let synth of syntheses) {
        if (linked.aborted) break;
        for (let attempt = 0; ; attempt++) {
          try {
            await this.write(utt, synth);
            break;
          } catch (err) {
            if (linked.aborted) throw err;
            const code = errorCode(err);
            this.errors.push(code);
            if (this.audioStarted || attempt > 0 || !isRetryable(err)) throw err;
            this.deps.log.warn({ code }, 'tts failed before audio; retrying');
            synth = new BufferedSynthesis(tts, synth.text, this.deps.voice, linked);
          }
        }
        written.count++;
        written.wake?.();
      }
    } catch (err) {
      stop.abort();
      if (!this.audioStarted || linked.aborted) {
        utt.cancel();
        throw err;
      }
      this.deps.log.warn({ code: errorCode(err) }, 'reply cut short by a provider error');
    } finally {
      stop.abort();
      written.wake?.();
      await Promise.allSettled([produce, synthesize]);
    }
    if (this.signal.aborted) return utt.played;
    if (!this.audioStarted) {
      utt.cancel();
      throw new VoicebotError('PROVIDER_BAD_RESPONSE', 'llm: empty reply');
    }
    utt.end();
    return utt.played;
  }

  private async produce(out: AsyncQueue<string>, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const aggregator = new SentenceAggregator();
      let emitted = false;
      try {
        this.timings.llmRequestAt = performance.now();
        for await (const event of this.deps.llm.stream({ messages: this.messages, signal })) {
          if (event.type !== 'text') continue;
          this.timings.llmFirstTokenAt ??= performance.now();
          for (const s of aggregator.push(event.text)) {
            emitted = true;
            out.push(s);
          }
        }
        const last = aggregator.flush();
        if (last) out.push(last);
        out.close();
        return;
      } catch (err) {
        if (signal.aborted) throw err;
        const code = errorCode(err);
        this.errors.push(code);
        if (emitted || this.audioStarted) {
          // Keep what was said; the reply ends here.
          this.deps.log.warn({ code }, 'llm stream failed mid-reply');
          out.close();
          return;
        }
        if (attempt > 0 || !isRetryable(err)) throw err;
        this.deps.log.warn({ code }, 'llm failed before the first sentence; retrying');
        this.timings.llmFirstTokenAt = undefined;
      }
    }
  }

  private async write(utt: Utterance, synth: BufferedSynthesis): Promise<void> {
    const bytesPerMs = (this.deps.tts.sampleRate * 2) / 1000;
    let spoken: SpokenSentence | undefined;
    for await (const chunk of synth) {
      if (!spoken) {
        // Listed from its first byte, so an interruption mid-sentence knows what was heard.
        spoken = { text: synth.text, audioMs: 0 };
        this.sentences.push(spoken);
        if (this.timings.ttsFirstByteAt === undefined) {
          this.timings.ttsRequestAt = synth.requestAt;
          this.timings.ttsFirstByteAt = synth.firstByteAt;
        }
      }
      spoken.audioMs += chunk.length / bytesPerMs;
      await utt.writeBytes(chunk);
      if (this.timings.firstAudioAt === undefined && utt.firstFrameAt !== undefined) {
        this.timings.firstAudioAt = utt.firstFrameAt;
      }
    }
    if (!spoken) {
      throw new VoicebotError('PROVIDER_BAD_RESPONSE', 'tts: empty audio', { retryable: true });
    }
  }
}
