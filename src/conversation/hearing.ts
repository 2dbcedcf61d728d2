/**
 * The conversation's ears: the caller's audio goes through the VAD and the turn detector, in
 * order, one frame after another; what comes out is told to the conversation as plain events
 * on the wall clock: the caller started speaking, the caller's speech is long enough to take
 * the floor, and an utterance ended (with its transcript on the way, preemptive when it can be).
 */
import type { HedgeBudget } from './hedge-budget.js';
import { pcmFromBytes } from '../audio/index.js';
import type { VadStream } from '../audio/vad/index.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { SttProvider } from '../providers/stt/types.js';
import { Transcriber, type Transcript } from './transcriber.js';
import { TurnDetector, type TurnDetectorOptions, type TurnEvent } from './turn-detector.js';
import type { HeardTimings } from './turn-record.js';

/** An utterance that ended. */
export interface HeardUtterance {
  timings: Required<Pick<HeardTimings, 'speechEndAt' | 'endpointAt'>> & HeardTimings;
  /** It held enough voice to interrupt the bot (BARGE_IN_MS). */
  bargedIn: boolean;
  voicedMs: number;
  /** The preemptive snapshot that covers it, when one does (its tentative id). */
  preemptId?: number;
  /**
   * Its words: adopts the preemptive transcription when it covers the utterance (`preemptive`),
   * else makes a request. Call it during the `utterance` event or never: an utterance the
   * listener does not transcribe costs no STT request.
   */
  transcribe(): { transcript: Promise<Transcript>; preemptive: boolean };
}

export interface HearingListener {
  /** The caller started speaking (a turn began in the detector). */
  speechStarted(): void;
  /** The caller has spoken long enough to take the floor from the bot. */
  bargeIn(): void;
  /** An utterance ended. */
  utterance(u: HeardUtterance): void;
  /**
   * The preemptive transcript came back before the endpoint: the caller may have finished. The
   * `utterance` that follows carries the same `preemptId` if so; otherwise `tentativeStale`.
   */
  tentative?(t: TentativeUtterance): void;
  /** Tentative utterance `id` was not the end of it: the caller went on. */
  tentativeStale?(id: number): void;
}

/** What the caller said up to a pause that may be the end of the utterance. */
export interface TentativeUtterance {
  id: number;
  transcript: Transcript;
  timings: Required<Pick<HeardTimings, 'speechEndAt'>> & HeardTimings;
}

export interface HearingOptions {
  sampleRate: number;
  turn: TurnDetectorOptions;
  stt: SttProvider;
  sttLanguage: string | undefined;
  /** See `TranscriberOptions.hedgeMs`. */
  sttHedgeMs: number;
  sttHedgeBudget: HedgeBudget;
  /** The call's signal. */
  signal: AbortSignal;
  log: Logger;
}

export class Hearing {
  private detector: TurnDetector | undefined;
  private readonly transcriber: Transcriber;
  private readonly ready: Promise<void>;
  private chain: Promise<void>;
  private samples = 0;
  private speech: { startAt: number; bargedIn: boolean } | undefined;
  /** The preemptive snapshot of the utterance in progress, until it ends or the caller resumes. */
  private tentativeId: number | undefined;
  private closed = false;

  constructor(
    vad: Promise<VadStream>,
    private readonly opts: HearingOptions,
    private readonly listener: HearingListener,
  ) {
    this.transcriber = new Transcriber(opts.stt, {
      sampleRate: opts.sampleRate,
      language: opts.sttLanguage,
      signal: opts.signal,
      hedgeMs: opts.sttHedgeMs,
      hedgeBudget: opts.sttHedgeBudget,
      log: opts.log,
    });
    this.ready = vad.then(
      (stream) => {
        if (this.closed) return stream.close();
        this.detector = new TurnDetector(stream, opts.sampleRate, opts.turn);
      },
      (err: unknown) =>
        opts.log.error(
          { code: errorCode(err), err: String(err) },
          'vad unavailable; the call cannot hear',
        ),
    );
    this.chain = this.ready;
  }

  /** The caller is in the middle of an utterance. */
  get callerSpeaking(): boolean {
    return this.detector?.inTurn ?? false;
  }

  /**
   * Caller audio from one frame (s16le at the stream rate). A frame longer than 100 ms (legal,
   * though Exotel's are about that long) is heard in 100 ms pieces with the event loop free in
   * between, so one large frame cannot hold up every other call's audio.
   */
  push(payload: Buffer): void {
    if (this.closed) return;
    const pcm = pcmFromBytes(payload);
    this.samples += pcm.length;
    const streamEndMs = (this.samples / this.opts.sampleRate) * 1000;
    const arrivedAt = performance.now();
    const toWall = (streamMs: number) => arrivedAt - (streamEndMs - streamMs);
    const piece = Math.round(this.opts.sampleRate / 10);
    for (let at = 0; at < pcm.length; at += piece) {
      const part = pcm.subarray(at, at + piece);
      const yieldFirst = at > 0;
      this.chain = this.chain
        .then(async () => {
          if (yieldFirst) await new Promise<void>((resolve) => setImmediate(resolve));
          if (!this.detector || this.closed) return;
          for (const ev of await this.detector.push(part)) this.onEvent(ev, toWall);
        })
        .catch((err: unknown) => {
          if (!this.closed)
            this.opts.log.error(
              { code: errorCode(err), err: String(err) },
              'turn detection failed on a frame',
            );
        });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.transcriber.cancelPreempt();
    await this.ready;
    this.detector?.close();
    await this.chain;
  }

  private onEvent(ev: TurnEvent, toWall: (streamMs: number) => number): void {
    switch (ev.type) {
      case 'speech-start':
        this.speech = { startAt: toWall(ev.atMs), bargedIn: false };
        return this.listener.speechStarted();
      case 'barge-in':
        if (this.speech) this.speech.bargedIn = true;
        return this.listener.bargeIn();
      case 'preempt':
        if (this.opts.turn.preemptMs > 0) {
          this.transcriber.preempt(ev.id, ev.audio);
          this.offerTentative(ev.id, {
            ...(this.speech ? { speechStartAt: this.speech.startAt } : {}),
            speechEndAt: toWall(ev.speechEndMs),
          });
        }
        return;
      case 'resume':
        this.endTentative(undefined);
        return this.transcriber.discardPreempt(ev.preemptId);
      case 'end': {
        const speech = this.speech;
        this.speech = undefined;
        this.endTentative(ev.preemptId);
        let wanted = false;
        this.listener.utterance({
          timings: {
            speechStartAt: speech?.startAt ?? toWall(ev.startMs + this.opts.turn.preRollMs),
            speechEndAt: toWall(ev.speechEndMs),
            endpointAt: performance.now(),
          },
          bargedIn: speech?.bargedIn ?? false,
          voicedMs: ev.voicedMs,
          ...(ev.preemptId !== undefined ? { preemptId: ev.preemptId } : {}),
          transcribe: () => {
            wanted = true;
            return this.transcriber.transcribe(ev);
          },
        });
        if (!wanted) this.transcriber.cancelPreempt();
        return;
      }
    }
  }

  /** Tells the listener when preempt `id`'s transcript is in, if the utterance has not ended. */
  private offerTentative(id: number, timings: TentativeUtterance['timings']): void {
    this.tentativeId = id;
    const result = this.transcriber.preemptResult(id);
    if (!result || !this.listener.tentative) return;
    result.then(
      (transcript) => {
        if (this.closed || this.tentativeId !== id) return;
        this.listener.tentative?.({ id, transcript, timings });
      },
      () => undefined,
    );
  }

  /** The utterance ended (covered by `coveredBy`, if a snapshot covers it) or went on. */
  private endTentative(coveredBy: number | undefined): void {
    const id = this.tentativeId;
    this.tentativeId = undefined;
    if (id !== undefined && id !== coveredBy) this.listener.tentativeStale?.(id);
  }
}
