/**
 * One spoken LLM round: the model's text streams into sentences, each sentence goes to TTS the
 * moment it is complete (the next one is synthesized while the current one plays), and the audio
 * streams into one utterance closed by a `response_done` mark. The first frame leaves when the
 * first sentence's first TTS bytes arrive. Tool calls are handed out the moment each is complete,
 * so the turn can start them while the words before them are still being spoken.
 *
 * Failures: a provider error before any of the turn's audio was played is retried once (the
 * turn says whether that is still true); after that the round ends where it is (the caller
 * would hear a repeat otherwise). `run()` throws only when nothing of this round was played and
 * it produced no tool call, so the turn can say the fallback line.
 */
import { VoicebotError, errorCode, isRetryable } from '../errors.js';
import type { Logger } from '../log.js';
import { cancel } from '../providers/linked-abort.js';
import type { ChatMessage, ChatTool, LlmProvider, LlmToolCall } from '../providers/llm/types.js';
import type { TtsProvider } from '../providers/tts/types.js';
import { retry } from '../retry.js';
import { AsyncQueue } from './async-queue.js';
import type { AudioOutput } from './audio-output.js';
import { BufferedSynthesis } from './buffered-synthesis.js';
import type { Speech } from './heard-text.js';
import { SentenceAggregator } from './sentence-aggregator.js';
import { speakNumbers, type NumberStyle } from '../speech/numbers.js';
import type { ReplyTimings } from './turn-record.js';

/**
 * The first piece of a reply goes to TTS at a clause boundary after this many words ("Ji
 * bilkul, Rahul ji,"): its audio starts while the model is still writing the sentence.
 */
export const FIRST_CLAUSE_WORDS = 4;

export interface ReplyDeps {
  output: AudioOutput;
  llm: LlmProvider;
  tts: TtsProvider;
  voice: string;
  /** How numbers are read: each sentence goes to TTS with its numbers in words. */
  numbers: NumberStyle;
  log: Logger;
}

export interface ReplyRequest {
  messages: ChatMessage[];
  tools?: readonly ChatTool[];
  toolChoice?: 'auto' | 'none';
}

export interface ReplyResult {
  /** Every sentence the model produced, spoken or not. */
  text: string;
  toolCalls: LlmToolCall[];
  timings: ReplyTimings;
  /** Error codes met on the way (including ones that were retried). */
  errors: string[];
}

export class Reply {
  readonly speech: Speech;
  private readonly toolCalls: LlmToolCall[] = [];
  private readonly errors: string[] = [];
  private readonly timings: ReplyTimings = {};
  private written = 0;
  private wakeSynth: (() => void) | undefined;

  /**
   * `mayRetry` says whether a failure may still be retried: true until any of the turn's audio
   * has been played.
   */
  constructor(
    private readonly deps: ReplyDeps,
    private readonly request: ReplyRequest,
    private readonly signal: AbortSignal,
    round: number,
    private readonly mayRetry: () => boolean,
    /** Audio of the turn still being written (asked at the first write), waited for. */
    private readonly after: () => Promise<unknown> = () => Promise.resolve(),
  ) {
    this.speech = {
      kind: 'reply',
      round,
      utterance: undefined,
      sentences: [],
      produced: [],
      said: [],
    };
  }

  /** Error codes met so far (the ones a failed `run()` leaves behind too). */
  get errorCodes(): readonly string[] {
    return this.errors;
  }

  /** True once any of this round's audio went to the caller. */
  get audioStarted(): boolean {
    return (this.speech.utterance?.sentAudioMs ?? 0) > 0;
  }

  /**
   * Generates and writes the round; resolves once all of its audio is written and marked (not
   * played), or when the turn's signal aborts. `onToolCall` gets each tool call as it completes.
   */
  async run(onToolCall: (call: LlmToolCall) => void): Promise<ReplyResult> {
    const sentences = new AsyncQueue<string>();
    const syntheses = new AsyncQueue<BufferedSynthesis>();
    const stop = new AbortController();
    const linked = AbortSignal.any([this.signal, stop.signal]);
    const produce = this.produce(sentences, linked, onToolCall).catch((err: unknown) =>
      sentences.fail(err),
    );
    const synthesize = this.synthesizeAhead(sentences, syntheses, linked).catch((err: unknown) =>
      syntheses.fail(err),
    );
    try {
      for await (const synth of syntheses) {
        if (linked.aborted) break;
        await this.writeWithRetry(synth, linked);
        this.written++;
        this.wakeSynth?.();
      }
    } catch (err) {
      cancel(stop);
      if (!this.signal.aborted) {
        if (!this.audioStarted && this.toolCalls.length === 0) {
          this.speech.utterance?.cancel();
          throw err;
        }
        this.deps.log.warn({ code: errorCode(err) }, 'reply cut short by a provider error');
      }
    } finally {
      cancel(stop);
      this.wakeSynth?.();
      await Promise.allSettled([produce, synthesize]);
    }
    if (!this.signal.aborted) {
      if (!this.audioStarted && this.toolCalls.length === 0) {
        this.speech.utterance?.cancel();
        throw new VoicebotError('PROVIDER_BAD_RESPONSE', 'llm: empty reply');
      }
      this.speech.utterance?.end();
    }
    return {
      text: this.speech.produced.join(' '),
      toolCalls: [...this.toolCalls],
      timings: { ...this.timings },
      errors: [...this.errors],
    };
  }

  /** LLM → sentences; one retry when it fails before saying or calling anything. */
  private async produce(
    out: AsyncQueue<string>,
    signal: AbortSignal,
    onToolCall: (call: LlmToolCall) => void,
  ): Promise<void> {
    let emitted = false;
    try {
      await retry(
        async () => {
          const aggregator = new SentenceAggregator({ firstClauseWords: FIRST_CLAUSE_WORDS });
          this.timings.llmRequestAt = performance.now();
          this.timings.llmFirstTokenAt = undefined;
          const { messages, tools, toolChoice } = this.request;
          const stream = this.deps.llm.stream({
            messages,
            ...(tools?.length ? { tools: [...tools], ...(toolChoice ? { toolChoice } : {}) } : {}),
            signal,
          });
          for await (const event of stream) {
            this.timings.llmFirstTokenAt ??= performance.now();
            if (event.type === 'tool-call') {
              emitted = true;
              this.toolCalls.push(event.call);
              onToolCall(event.call);
              continue;
            }
            for (const s of aggregator.push(event.text)) {
              emitted = true;
              out.push(s);
            }
          }
          const last = aggregator.flush();
          if (last) out.push(last);
        },
        {
          attempts: 2,
          signal,
          retryIf: (err) => !emitted && this.mayRetry() && isRetryable(err),
          onRetry: (err) => {
            this.errors.push(errorCode(err));
            this.deps.log.warn(
              { code: errorCode(err) },
              'llm failed before the first sentence; retrying',
            );
          },
        },
      );
    } catch (err) {
      if (signal.aborted) throw err;
      this.errors.push(errorCode(err));
      if (!emitted && !this.audioStarted) throw err;
      // Keep what was said (and the tool calls made); the round ends here.
      this.deps.log.warn({ code: errorCode(err) }, 'llm stream failed mid-reply');
    }
    out.close();
  }

  /** Sentences → TTS requests, at most one ahead of the sentence being written. */
  private async synthesizeAhead(
    sentences: AsyncQueue<string>,
    syntheses: AsyncQueue<BufferedSynthesis>,
    signal: AbortSignal,
  ): Promise<void> {
    for await (const text of sentences) {
      this.timings.firstSentenceAt ??= performance.now();
      this.speech.produced.push(text);
      const said = speakNumbers(text, this.deps.numbers);
      this.speech.said.push(said);
      while (this.speech.produced.length - this.written > 2 && !signal.aborted) {
        await new Promise<void>((r) => (this.wakeSynth = r));
      }
      if (signal.aborted) break;
      syntheses.push(new BufferedSynthesis(this.deps.tts, text, this.deps.voice, signal, said));
    }
    syntheses.close();
  }

  private async writeWithRetry(first: BufferedSynthesis, signal: AbortSignal): Promise<void> {
    await retry(
      (attempt) =>
        this.write(
          attempt === 1
            ? first
            : new BufferedSynthesis(this.deps.tts, first.text, this.deps.voice, signal, first.said),
        ),
      {
        attempts: 2,
        signal,
        retryIf: (err) => !this.audioStarted && this.mayRetry() && isRetryable(err),
        onRetry: (err) => {
          this.errors.push(errorCode(err));
          this.deps.log.warn({ code: errorCode(err) }, 'tts failed before audio; retrying');
        },
      },
    ).catch((err: unknown) => {
      if (!signal.aborted) this.errors.push(errorCode(err));
      throw err;
    });
  }

  private async write(synth: BufferedSynthesis): Promise<void> {
    const { output, tts } = this.deps;
    const bytesPerMs = (tts.sampleRate * 2) / 1000;
    let spoken: { text: string; audioMs: number } | undefined;
    for await (const chunk of synth) {
      if (!spoken) {
        // Listed from its first byte, so an interruption mid-sentence knows what was heard.
        spoken = { text: synth.text, audioMs: 0 };
        this.speech.sentences.push(spoken);
        if (this.timings.ttsFirstByteAt === undefined) {
          this.timings.ttsRequestAt = synth.requestAt;
          this.timings.ttsFirstByteAt = synth.firstByteAt;
        }
      }
      if (!this.speech.utterance) {
        await this.after();
        this.speech.utterance = await output.startUtterance('response_done', tts.sampleRate);
      }
      const utt = this.speech.utterance;
      spoken.audioMs += chunk.length / bytesPerMs;
      await utt.writeBytes(chunk);
    }
    if (!spoken) {
      throw new VoicebotError('PROVIDER_BAD_RESPONSE', 'tts: empty audio', { retryable: true });
    }
  }
}
