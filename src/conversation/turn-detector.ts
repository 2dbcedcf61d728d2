/**
 * Turn detection for one call: feeds the caller's inbound audio through a VadStream and turns its
 * per-window speech decisions into turn events on the stream clock (milliseconds of audio since
 * the stream began; the engine maps them to wall time). It only reads `VadDecision.speech`, whose
 * hysteresis the VAD already applied.
 *
 * Rules (durations are of audio, counted in whole VAD windows: 32 ms Silero, 10-30 ms WebRTC,
 * except that a silence also runs through the part of a window received so far when that part is
 * below the VAD's energy gate, `VadStream.quietEnd`):
 * - Voiced windows separated by less than `FLICKER_MS` of non-speech belong to one burst. A burst
 *   starts a turn once it holds `minSpeechMs` of voiced audio; the onset is its first window.
 * - Inside a turn a voiced window within `FLICKER_MS` of the last one counts at once. Speech
 *   after a longer gap is a new burst that must itself reach `minSpeechMs` to count, exactly as
 *   if it were starting a turn; until then the silence clocks wait, and if the burst dies out
 *   (a cough, one noisy window) it is ignored and they carry on from the last counted speech.
 *   So a resume is confirmed by `minSpeechMs` of voiced audio and a stray window cannot
 *   invalidate a preempt snapshot.
 * - Snapshots (preempt and end) run from onset - `preRollMs` (never before the previous turn's
 *   audio, a `reset()` or the stream's start) to speech end + a tail of `preemptMs` (200 ms when
 *   preempt is off; never more than `endpointingMs`). Both use the same rule, so an end with no
 *   counted speech since the last preempt returns that very snapshot.
 * - A max-length end cuts at the current window; its audio stops there, and the next turn (which
 *   starts by the normal rule if speech goes on) begins exactly at the cut without pre-roll.
 */
import type { VadDecision, VadStream } from '../audio/vad/types.js';
import { VoicebotError } from '../errors.js';
import { TurnAudioBuffer } from './turn-audio.js';

export interface TurnDetectorOptions {
  /** Voiced audio needed before a turn starts (or a paused one resumes); shorter blips are ignored. */
  minSpeechMs: number;
  /** Trailing silence that ends a turn. */
  endpointingMs: number;
  /** Trailing silence at which a preemptive snapshot is offered; 0, or >= endpointingMs, disables. */
  preemptMs: number;
  /** Audio kept from before the onset so the first syllable is not clipped. */
  preRollMs: number;
  /** A turn this long (from its onset) is ended even without silence. */
  maxUtteranceMs: number;
  /** Voiced audio within a turn that confirms an interruption. */
  bargeInMs: number;
}

export const DEFAULT_TURN_OPTIONS: Readonly<TurnDetectorOptions> = Object.freeze({
  minSpeechMs: 100,
  endpointingMs: 500,
  preemptMs: 200,
  preRollMs: 300,
  maxUtteranceMs: 15000,
  bargeInMs: 200,
});

/** Non-speech shorter than this between voiced windows is VAD flicker, not a pause. */
export const FLICKER_MS = 100;
/** Snapshot tail after the last speech when preempt is disabled. */
const DEFAULT_TAIL_MS = 200;

/**
 * Times are stream milliseconds. `audio` is a copy at the stream rate that the receiver owns (an
 * end that adopts a preempt hands over that same array); its first sample is at `startMs`, so it
 * ends at `startMs + audio.length / rate`.
 */
export type TurnEvent =
  /** A turn began at `atMs` (its first voiced window), reported once minSpeechMs was voiced. */
  | { type: 'speech-start'; atMs: number }
  /** Once per turn, at the end of the window that brought its voiced total to bargeInMs. */
  | { type: 'barge-in'; atMs: number; voicedMs: number }
  /** Trailing silence reached preemptMs: the utterance so far, [startMs, endMs). */
  | {
      type: 'preempt';
      id: number;
      audio: Int16Array;
      startMs: number;
      endMs: number;
      /** Where the speech ended (the snapshot runs `preemptMs` past it). */
      speechEndMs: number;
    }
  /** Speech starting at `atMs` came back after preempt `preemptId`, which is now stale. */
  | { type: 'resume'; atMs: number; preemptId: number }
  /**
   * The turn ended at `endMs` (when the silence or length limit was reached). `preemptId` is set
   * when that snapshot covers the whole utterance; `audio` is then the snapshot's own array.
   */
  | {
      type: 'end';
      id: number;
      audio: Int16Array;
      startMs: number;
      speechEndMs: number;
      endMs: number;
      voicedMs: number;
      reason: 'silence' | 'max-length';
      preemptId?: number;
    };

/** Voiced windows not yet counted: a possible turn, or a possible resume inside one. */
interface Burst {
  onset: number;
  lastVoiced: number;
  voiced: number;
  /** Non-speech samples since `lastVoiced`. */
  gap: number;
}

interface Turn {
  id: number;
  onset: number;
  audioStart: number;
  speechEnd: number;
  voiced: number;
  bargedIn: boolean;
  /** The latest preempt snapshot, while no speech has counted since it. */
  preempt: { id: number; end: number; audio: Int16Array } | null;
}

export class TurnDetector {
  readonly #vad: VadStream;
  readonly #rate: number;
  readonly #opts: Readonly<TurnDetectorOptions>;
  // Options in samples at the stream rate.
  readonly #minSpeech: number;
  readonly #endpointing: number;
  readonly #preempt: number;
  readonly #tail: number;
  readonly #preRoll: number;
  readonly #maxUtterance: number;
  readonly #bargeIn: number;
  readonly #flicker: number;
  readonly #audio: TurnAudioBuffer;
  #turn: Turn | null = null;
  #burst: Burst | null = null;
  /** No pre-roll reaches before this sample (previous turn's audio end, last reset). */
  #floor = 0;
  /** End of the last window decided. */
  #decided = 0;
  #nextId = 1;
  #epoch = 0;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  /** Takes ownership of `vad` (closed by `close()`); `sampleRate` must be the VAD's. */
  constructor(vad: VadStream, sampleRate: number, opts: Partial<TurnDetectorOptions> = {}) {
    if (sampleRate !== vad.sampleRate) {
      throw new VoicebotError('SAMPLE_RATE_UNSUPPORTED', 'turn detector rate differs from VAD');
    }
    // Only our keys: callers may pass a wider config object (e.g. with the VAD kind in it).
    const o = { ...DEFAULT_TURN_OPTIONS };
    for (const name of Object.keys(o) as (keyof TurnDetectorOptions)[]) {
      const value = opts[name] ?? o[name];
      if (!Number.isFinite(value) || value < 0) {
        throw new VoicebotError('CONFIG_INVALID', `turn detector ${name} must be >= 0 ms`);
      }
      o[name] = value;
    }
    if (o.endpointingMs <= 0 || o.maxUtteranceMs <= 0) {
      throw new VoicebotError('CONFIG_INVALID', 'endpointingMs and maxUtteranceMs must be > 0');
    }
    this.#vad = vad;
    this.#rate = sampleRate;
    this.#opts = Object.freeze(o);
    const samples = (ms: number): number => Math.round((ms * sampleRate) / 1000);
    const preemptOn = o.preemptMs > 0 && o.preemptMs < o.endpointingMs;
    this.#minSpeech = samples(o.minSpeechMs);
    this.#endpointing = samples(o.endpointingMs);
    this.#preempt = preemptOn ? samples(o.preemptMs) : Infinity;
    this.#tail = samples(Math.min(preemptOn ? o.preemptMs : DEFAULT_TAIL_MS, o.endpointingMs));
    this.#preRoll = samples(o.preRollMs);
    this.#maxUtterance = samples(o.maxUtteranceMs);
    this.#bargeIn = samples(o.bargeInMs);
    this.#flicker = samples(FLICKER_MS);
    // Idle: the pre-roll plus a second for frames and VAD lag. A turn: its pre-roll, up to
    // maxUtteranceMs of speech, the tail and the same second.
    this.#audio = new TurnAudioBuffer(
      this.#preRoll + sampleRate,
      this.#preRoll + this.#maxUtterance + this.#tail + sampleRate,
    );
  }

  get options(): Readonly<TurnDetectorOptions> {
    return this.#opts;
  }

  /** A turn has started and not ended. */
  get inTurn(): boolean {
    return this.#turn !== null;
  }

  /** Milliseconds of audio consumed so far (including pushes still being decided). */
  get streamMs(): number {
    return this.#ms(this.#audio.end);
  }

  /**
   * Takes the next chunk of inbound audio (any length, at the stream rate) and resolves with the
   * events it completed, in order. Calls are processed in call order even if not awaited; `pcm`
   * is copied before this returns. Rejects with `AUDIO_INVALID` after `close()`.
   */
  push(pcm: Int16Array): Promise<TurnEvent[]> {
    if (this.#closed) {
      return Promise.reject(new VoicebotError('AUDIO_INVALID', 'turn detector is closed'));
    }
    const decided = this.#vad.push(pcm);
    const quietEnd = this.#vad.quietEnd;
    this.#audio.append(pcm);
    const epoch = this.#epoch;
    const run = this.#queue.then(async () => {
      const decisions = await decided;
      return epoch === this.#epoch ? this.#decide(decisions, quietEnd) : [];
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Drops the current turn (no end event), any half-heard speech and the VAD's state. */
  reset(): void {
    this.#epoch += 1;
    this.#vad.reset();
    this.#turn = null;
    this.#burst = null;
    this.#floor = this.#audio.end;
    this.#decided = Math.max(this.#decided, this.#audio.end);
    this.#audio.keepFrom(this.#floor);
    this.#audio.release();
  }

  /** Closes the VadStream; pending pushes resolve with what was decided. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#vad.close();
  }

  #ms(sample: number): number {
    return (sample * 1000) / this.#rate;
  }

  #decide(decisions: VadDecision[], quietEnd: number | null): TurnEvent[] {
    const events: TurnEvent[] = [];
    for (const d of decisions) {
      const end = d.startSample + Math.round((d.durationMs * this.#rate) / 1000);
      this.#window(d.startSample, end, d.speech, d.soundEndSample ?? end, events);
    }
    // The audio past the last window is quiet to `quietEnd`: a silence that runs out there ends
    // (or preempts) the turn now rather than when that window is complete, a frame later.
    const turn = this.#turn;
    if (turn && !this.#burst && quietEnd !== null && quietEnd > this.#decided) {
      this.#checkLimits(turn, quietEnd, events);
    }
    this.#audio.keepFrom(this.#turn?.audioStart ?? this.#idleKeepFrom());
    return events;
  }

  /** While idle the next onset is a pending burst's or a later window's; keep its pre-roll. */
  #idleKeepFrom(): number {
    return Math.max((this.#burst?.onset ?? this.#decided) - this.#preRoll, this.#floor);
  }

  /**
   * One window's decision. `soundEnd`: where a speech window's sound stops (its end when it does
   * not stop inside it): the speech is taken to end there, so the silence is timed from the voice's
   * end and not from the window's, up to a window sooner.
   */
  #window(
    start: number,
    end: number,
    speech: boolean,
    soundEnd: number,
    events: TurnEvent[],
  ): void {
    this.#decided = Math.max(this.#decided, end);
    const turn = this.#turn;
    if (speech) {
      if (turn && !this.#burst && !turn.preempt && start - turn.speechEnd < this.#flicker) {
        turn.voiced += end - start;
        turn.speechEnd = Math.max(turn.speechEnd, soundEnd);
      } else {
        const burst = (this.#burst ??= { onset: start, lastVoiced: soundEnd, voiced: 0, gap: 0 });
        burst.voiced += end - start;
        burst.lastVoiced = Math.max(burst.lastVoiced, soundEnd);
        burst.gap = 0;
        if (burst.voiced >= this.#minSpeech) this.#confirm(burst, events);
      }
      if (this.#turn) this.#checkBargeIn(this.#turn, end, events);
    } else if (this.#burst) {
      this.#burst.gap += end - start;
      if (this.#burst.gap >= this.#flicker) this.#burst = null;
    }
    if (turn && this.#turn === turn) this.#checkLimits(turn, end, events);
  }

  /** A burst reached minSpeechMs: it starts a turn, or counts in the current one. */
  #confirm(burst: Burst, events: TurnEvent[]): void {
    this.#burst = null;
    const turn = this.#turn;
    if (turn) {
      turn.voiced += burst.voiced;
      turn.speechEnd = burst.lastVoiced;
      if (turn.preempt) {
        events.push({ type: 'resume', atMs: this.#ms(burst.onset), preemptId: turn.preempt.id });
        turn.preempt = null;
      }
      return;
    }
    this.#turn = {
      id: this.#nextId++,
      onset: burst.onset,
      audioStart: Math.max(burst.onset - this.#preRoll, this.#floor, 0),
      speechEnd: burst.lastVoiced,
      voiced: burst.voiced,
      bargedIn: false,
      preempt: null,
    };
    events.push({ type: 'speech-start', atMs: this.#ms(burst.onset) });
  }

  #checkBargeIn(turn: Turn, now: number, events: TurnEvent[]): void {
    if (turn.bargedIn || turn.voiced < this.#bargeIn) return;
    turn.bargedIn = true;
    events.push({ type: 'barge-in', atMs: this.#ms(now), voicedMs: this.#ms(turn.voiced) });
  }

  /** Preempt, endpoint and length checks at the end of a window; silence waits on a burst. */
  #checkLimits(turn: Turn, now: number, events: TurnEvent[]): void {
    if (!this.#burst) {
      const silence = now - turn.speechEnd;
      if (silence >= this.#preempt && !turn.preempt) {
        const end = turn.speechEnd + this.#tail;
        const audio = this.#audio.copy(turn.audioStart, end);
        turn.preempt = { id: this.#nextId++, end, audio };
        const { id } = turn.preempt;
        events.push({
          type: 'preempt',
          id,
          audio,
          startMs: this.#ms(turn.audioStart),
          endMs: this.#ms(end),
          speechEndMs: this.#ms(turn.speechEnd),
        });
      }
      if (silence >= this.#endpointing) return this.#end(turn, now, 'silence', events);
    }
    if (now - turn.onset >= this.#maxUtterance) this.#end(turn, now, 'max-length', events);
  }

  #end(turn: Turn, now: number, reason: 'silence' | 'max-length', events: TurnEvent[]): void {
    const audioEnd = Math.min(turn.speechEnd + this.#tail, now);
    const snapshot = turn.preempt?.end === audioEnd ? turn.preempt : null;
    events.push({
      type: 'end',
      id: turn.id,
      audio: snapshot?.audio ?? this.#audio.copy(turn.audioStart, audioEnd),
      startMs: this.#ms(turn.audioStart),
      speechEndMs: this.#ms(turn.speechEnd),
      endMs: this.#ms(now),
      voicedMs: this.#ms(turn.voiced),
      reason,
      ...(snapshot ? { preemptId: snapshot.id } : {}),
    });
    this.#turn = null;
    this.#floor = audioEnd;
    // A burst still pending at a max-length cut may start the next turn; it must not reach back.
    if (this.#burst && this.#burst.onset < audioEnd) this.#burst.onset = audioEnd;
    this.#audio.keepFrom(this.#idleKeepFrom());
    this.#audio.release();
  }
}
