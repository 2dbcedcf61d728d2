/**
 * Transcription for the conversation: the final transcript of an utterance, and the preemptive
 * one started when trailing silence reaches PREEMPT_MS. If the caller resumes, the preemptive
 * request is aborted; at the endpoint its result is used when it covers the whole utterance,
 * which takes STT off the critical path.
 *
 * At most two requests answer an utterance: the first (the preemptive one, or one made at the
 * endpoint) and a second one, started the moment the first fails or when the first is still
 * pending `hedgeMs` after it started. The first answer wins and the other request is aborted, so
 * a stalled request is never waited for to its timeout and then again on a retry. Hedges for
 * slowness come out of the process's `HedgeBudget`, so a provider slow for every call is not
 * sent twice the requests.
 */
import { errorCode, isRetryable } from '../errors.js';
import type { Logger } from '../log.js';
import { cancel } from '../providers/linked-abort.js';
import type { SttProvider } from '../providers/stt/types.js';
import type { HedgeBudget } from './hedge-budget.js';
import type { SttTimings } from './turn-record.js';

/** A finished utterance's words and when its transcription ran. */
export interface Transcript extends SttTimings {
  text: string;
}

interface Preempt {
  id: number;
  controller: AbortController;
  startedAt: number;
  result: Promise<Transcript>;
}

export interface TranscriberOptions {
  sampleRate: number;
  language: string | undefined;
  /** The call's signal: transcripts outlive a turn that is merged into the next. */
  signal: AbortSignal;
  /** A request still pending this long gets a second one alongside (0: only on failure). */
  hedgeMs: number;
  /** Shared by the process's calls: hedges stay a small share of the requests. */
  hedgeBudget: HedgeBudget;
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
    const startedAt = performance.now();
    const result = this.request(audio, AbortSignal.any([this.opts.signal, controller.signal]));
    this.opts.hedgeBudget.earn();
    // Not awaited when the caller resumes; `transcribe` takes it over otherwise.
    result.catch(() => undefined);
    this.current = { id, controller, startedAt, result };
    this.preemptsStarted++;
  }

  /** The preemptive request `id`'s own answer, while it is the current one (no backup request). */
  preemptResult(id: number): Promise<Transcript> | undefined {
    return this.current?.id === id ? this.current.result : undefined;
  }

  discardPreempt(id: number): void {
    if (this.current?.id === id) this.cancelPreempt();
  }

  cancelPreempt(): void {
    if (this.current) cancel(this.current.controller);
    this.current = undefined;
  }

  /**
   * The transcript of a finished utterance. Uses the preemptive transcription when `preemptId`
   * says it covers the utterance; a second request backs up the first (see the module note).
   */
  transcribe(ev: { audio: Int16Array; preemptId?: number }): {
    transcript: Promise<Transcript>;
    preemptive: boolean;
  } {
    const p = this.current;
    this.current = undefined;
    if (p && ev.preemptId === p.id) {
      this.preemptsUsed++;
      return { transcript: this.backedUp(p, ev.audio), preemptive: true };
    }
    if (p) cancel(p.controller);
    const controller = new AbortController();
    const startedAt = performance.now();
    const result = this.request(ev.audio, AbortSignal.any([this.opts.signal, controller.signal]));
    this.opts.hedgeBudget.earn();
    return {
      transcript: this.backedUp({ id: -1, controller, startedAt, result }, ev.audio),
      preemptive: false,
    };
  }

  /** The first request's answer, or a second request's when the first fails or is slow. */
  private backedUp(first: Preempt, audio: Int16Array): Promise<Transcript> {
    const { signal, hedgeMs, log } = this.opts;
    return new Promise<Transcript>((resolve, reject) => {
      let second: AbortController | undefined;
      let pending = 1;
      let lastError: Error | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let settled = false;
      const done = () => {
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        cancel(first.controller);
        if (second) cancel(second);
      };
      const onAbort = () => {
        done();
        reject(signal.reason as Error);
      };
      const win = (t: Transcript) => {
        if (settled) return;
        done();
        resolve(t);
      };
      const lose = (err: Error) => {
        if (settled) return;
        lastError = err;
        if (--pending > 0) return;
        if (!second && !signal.aborted && isRetryable(err)) return startSecond('failed');
        done();
        reject(lastError);
      };
      const startSecond = (why: 'failed' | 'slow') => {
        if (settled || second || signal.aborted) return;
        clearTimeout(timer);
        if (why === 'slow' && !this.opts.hedgeBudget.take()) {
          log.debug('stt: slow, but the hedge budget is spent');
          return;
        }
        second = new AbortController();
        pending++;
        log.warn(
          { code: why === 'failed' ? errorCode(lastError) : undefined, why },
          'stt: second request',
        );
        this.request(audio, AbortSignal.any([signal, second.signal])).then(win, lose);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      if (hedgeMs > 0) {
        const wait = Math.max(0, first.startedAt + hedgeMs - performance.now());
        timer = setTimeout(() => startSecond('slow'), wait);
      }
      first.result.then(win, lose);
    });
  }

  private async request(audio: Int16Array, signal: AbortSignal): Promise<Transcript> {
    const sttStartAt = performance.now();
    const { text } = await this.stt.transcribe({
      audio,
      sampleRate: this.opts.sampleRate,
      language: this.opts.language,
      signal,
    });
    return { text, sttStartAt, sttEndAt: performance.now() };
  }
}
