/**
 * Transcription for the conversation: the final transcript of an utterance, and the preemptive
 * one started when trailing silence reaches PREEMPT_MS. If the caller resumes, the preemptive
 * request is aborted; at the endpoint its result is used when it covers the whole utterance,
 * which takes STT off the critical path. A failure is retried once.
 */
import { errorCode, isRetryable } from '../errors.js';
import type { Logger } from '../log.js';
import type { SttProvider } from '../providers/stt/types.js';
import type { TurnTimings } from './turn-record.js';

interface Preempt {
  id: number;
  controller: AbortController;
  startedAt: number;
  endedAt?: number;
  /** Resolves with the text, or undefined when it failed. */
  result: Promise<string | undefined>;
}

export interface TranscriberOptions {
  sampleRate: number;
  language: string | undefined;
  /** The call's signal: transcripts outlive a turn that is merged into the next. */
  signal: AbortSignal;
  log: Logger;
}

export class Transcriber {
  private current: Preempt | undefined;
  preemptsStarted = 0;
  preemptsUsed = 0;

  constructor(
    private readonly stt: SttProvider,
    private readonly opts: TranscriberOptions,
  ) {}

  preempt(id: number, audio: Int16Array): void {
    this.cancelPreempt();
    const controller = new AbortController();
    const signal = AbortSignal.any([this.opts.signal, controller.signal]);
    const p: Preempt = {
      id,
      controller,
      startedAt: performance.now(),
      result: Promise.resolve(undefined),
    };
    // Opportunistic: no retry here; the endpoint makes its own request if this one fails.
    p.result = this.run(audio, signal, 0).then(
      (text) => {
        p.endedAt = performance.now();
        return text;
      },
      () => undefined,
    );
    this.current = p;
    this.preemptsStarted++;
  }

  discardPreempt(id: number): void {
    if (this.current?.id === id) this.cancelPreempt();
  }

  cancelPreempt(): void {
    this.current?.controller.abort();
    this.current = undefined;
  }

  /**
   * The transcript of a finished utterance. Uses the preemptive transcription when `preemptId`
   * says it covers the utterance (falling back to a fresh request if it failed). Fills in the
   * STT timings.
   */
  transcribe(
    ev: { audio: Int16Array; preemptId?: number },
    timings: TurnTimings,
  ): { text: Promise<string>; preemptive: boolean } {
    const p = this.current;
    this.current = undefined;
    if (p && ev.preemptId === p.id) {
      this.preemptsUsed++;
      timings.sttStartAt = p.startedAt;
      const text = p.result.then((t) => {
        if (t !== undefined) {
          timings.sttEndAt = p.endedAt;
          return t;
        }
        return this.fresh(ev.audio, timings);
      });
      return { text, preemptive: true };
    }
    p?.controller.abort();
    return { text: this.fresh(ev.audio, timings), preemptive: false };
  }

  private async fresh(audio: Int16Array, timings: TurnTimings): Promise<string> {
    timings.sttStartAt = performance.now();
    const text = await this.run(audio, this.opts.signal, 1);
    timings.sttEndAt = performance.now();
    return text;
  }

  private async run(audio: Int16Array, signal: AbortSignal, retries: number): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { text } = await this.stt.transcribe({
          audio,
          sampleRate: this.opts.sampleRate,
          language: this.opts.language,
          signal,
        });
        return text;
      } catch (err) {
        if (signal.aborted || attempt >= retries || !isRetryable(err)) throw err;
        this.opts.log.warn({ code: errorCode(err) }, 'stt failed; retrying');
      }
    }
  }
}
