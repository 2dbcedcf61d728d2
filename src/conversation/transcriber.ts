/**
 * Transcription for the conversation: the final transcript of an utterance, and the preemptive
 * one started when trailing silence reaches PREEMPT_MS. If the caller resumes, the preemptive
 * request is aborted; at the endpoint its result is used when it covers the whole utterance,
 * which takes STT off the critical path. A failure at the endpoint is retried once.
 */
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { SttProvider } from '../providers/stt/types.js';
import { retry } from '../retry.js';
import type { SttTimings } from './turn-record.js';

/** A finished utterance's words and when its transcription ran. */
export interface Transcript extends SttTimings {
  text: string;
}

interface Preempt {
  id: number;
  controller: AbortController;
  startedAt: number;
  /** Resolves with the transcript, or undefined when it failed. */
  result: Promise<Transcript | undefined>;
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
    // Opportunistic: no retry here; the endpoint makes its own request if this one fails.
    const result = this.request(audio, signal, 1).then(
      (t) => t,
      () => undefined,
    );
    this.current = { id, controller, startedAt: performance.now(), result };
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
   * says it covers the utterance (falling back to a fresh request if it failed).
   */
  transcribe(ev: { audio: Int16Array; preemptId?: number }): {
    transcript: Promise<Transcript>;
    preemptive: boolean;
  } {
    const p = this.current;
    this.current = undefined;
    if (p && ev.preemptId === p.id) {
      this.preemptsUsed++;
      const transcript = p.result.then((t) => t ?? this.request(ev.audio, this.opts.signal, 2));
      return { transcript, preemptive: true };
    }
    p?.controller.abort();
    return { transcript: this.request(ev.audio, this.opts.signal, 2), preemptive: false };
  }

  private async request(
    audio: Int16Array,
    signal: AbortSignal,
    attempts: number,
  ): Promise<Transcript> {
    const sttStartAt = performance.now();
    const { text } = await retry(
      () =>
        this.stt.transcribe({
          audio,
          sampleRate: this.opts.sampleRate,
          language: this.opts.language,
          signal,
        }),
      {
        attempts,
        signal,
        onRetry: (err) => this.opts.log.warn({ code: errorCode(err) }, 'stt failed; retrying'),
      },
    );
    return { text, sttStartAt, sttEndAt: performance.now() };
  }
}
