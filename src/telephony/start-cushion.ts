/**
 * How much audio a reply gathers before its first frame, learned from the replies before it.
 *
 * A streamed TTS reply that starts into silence waits for a cushion (`PLAYBACK_START_MS`), so
 * that a late second chunk is not heard as a hole. What the cushion must cover depends on how the
 * TTS streams: one that sends its audio faster than real time, without a pause, needs none, and
 * then every millisecond of the cushion is a millisecond more before the caller hears the reply.
 *
 * Each streamed utterance measures what it would have needed (`StartMeter`): at each arrival of
 * audio during its first `OBSERVE_MS`, how far real time since its first audio had run past the
 * audio received before it. An utterance that started that much later would have played with no
 * gap at the start. The cushion is the most any utterance of the last minute needed, plus a
 * margin, never more than the configured one; until `minSamples` utterances have been seen it is
 * the configured one. Memory is by time, not by count: a loaded server starts dozens of replies a
 * second, and the most of its last twenty covered only their typical start, not the rarer slow
 * one that a minute holds (with twenty, 300 calls heard more audible underruns than with the fixed
 * cushion). A busy event loop needs a cushion too (a stall right after the first frame is a gap
 * however the TTS streams): the cushion is never less than the pacer's longest recent stall plus
 * the margin. One per process: the TTS streams the same way for every call.
 */

import { RecentMax } from './recent-max.js';

/** The first part of an utterance's audio the cushion is for (later on the lead covers gaps). */
export const OBSERVE_MS = 500;

export interface StartCushionOptions {
  /** The configured cushion (PLAYBACK_START_MS): the most it can be, and what it is at first. */
  maxMs: number;
  /** How long an utterance's need is remembered (default a minute). */
  memoryMs?: number;
  /** Added to the most any remembered utterance needed (default 10 ms). */
  marginMs?: number;
  /** Utterances seen before the learned cushion replaces the configured one (default 3). */
  minSamples?: number;
}

export class StartCushion {
  /** The most needed lately (in 5 s buckets, as the pacer keeps its stalls). */
  private readonly needs: RecentMax;
  private readonly marginMs: number;
  private readonly minSamples: number;
  private seen = 0;
  /** The last need recorded: what an idle server goes by once its minute has passed. */
  private last = 0;

  constructor(private readonly opts: StartCushionOptions) {
    this.needs = new RecentMax(opts.memoryMs ?? 60_000);
    this.marginMs = opts.marginMs ?? 10;
    this.minSamples = Math.max(1, opts.minSamples ?? 3);
  }

  /**
   * The cushion an utterance starting at `now` gathers (ms of audio, or of waiting): the most the
   * TTS needed lately, but at least the longest recent stall of the event loop
   * (`Pacer.recentStallMs`) plus the margin, since for that long after the first frame nothing
   * more may go out; never more than the configured cushion.
   */
  for(stallMs: number, now: number): number {
    if (this.seen < this.minSamples) return this.opts.maxMs;
    const need = this.needs.max(now) ?? this.last;
    return Math.min(this.opts.maxMs, Math.max(need, stallMs) + this.marginMs);
  }

  /** A streamed utterance's start, at `now`, needed `neededMs` of cushion to play without a gap. */
  record(neededMs: number, now: number): void {
    if (!Number.isFinite(neededMs)) return;
    const need = Math.max(0, neededMs);
    this.needs.record(need, now);
    this.last = need;
    this.seen++;
  }
}

/** One utterance's arrivals of audio: what start cushion it needed, and whether it streamed. */
export class StartMeter {
  private firstAt: number | undefined;
  private lastAt: number | undefined;
  private receivedMs = 0;
  private arrivals = 0;
  /** The cushion this utterance needed so far (0 until an arrival came late). */
  neededMs = 0;

  /** `ms` of audio arrived at `now` (frames of one write arrive together, at one `now`). */
  onAudio(ms: number, now: number): void {
    if (this.firstAt === undefined) this.firstAt = now;
    else if (this.receivedMs < OBSERVE_MS) {
      this.neededMs = Math.max(this.neededMs, now - this.firstAt - this.receivedMs);
    }
    if (now !== this.lastAt) this.arrivals++;
    this.lastAt = now;
    this.receivedMs += ms;
  }

  /** Its audio came in more than one go: a stream, which says something about the cushion. */
  get streamed(): boolean {
    return this.arrivals > 1;
  }
}
