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
 * gap at the start. The cushion is the most any of the last `window` utterances needed, plus a
 * margin, never more than the configured one; until `minSamples` utterances have been seen it is
 * the configured one. A busy event loop needs a cushion too (a stall right after the first frame
 * is a gap however the TTS streams): the cushion is never less than the pacer's longest recent
 * stall plus the margin. One per process: the TTS streams the same way for every call.
 */

/** The first part of an utterance's audio the cushion is for (later on the lead covers gaps). */
export const OBSERVE_MS = 500;

export interface StartCushionOptions {
  /** The configured cushion (PLAYBACK_START_MS): the most it can be, and what it is at first. */
  maxMs: number;
  /** Utterances remembered (default 20). */
  window?: number;
  /** Added to the most any remembered utterance needed (default 10 ms). */
  marginMs?: number;
  /** Utterances seen before the learned cushion replaces the configured one (default 3). */
  minSamples?: number;
}

export class StartCushion {
  private readonly needs: number[] = [];
  private next = 0;
  private seen = 0;
  private readonly window: number;
  private readonly marginMs: number;
  private readonly minSamples: number;
  private current: number;

  constructor(private readonly opts: StartCushionOptions) {
    this.window = Math.max(1, opts.window ?? 20);
    this.marginMs = opts.marginMs ?? 10;
    this.minSamples = Math.max(1, Math.min(opts.minSamples ?? 3, this.window));
    this.current = opts.maxMs;
  }

  /** What the replies' TTS streams needed lately, plus the margin (up to the configured one). */
  get ms(): number {
    return this.current;
  }

  /**
   * The cushion an utterance starting now gathers (ms of audio, or of waiting): what the TTS
   * needed, but at least the longest recent stall of the event loop (`Pacer.recentStallMs`) plus
   * the margin, since for that long after the first frame nothing more may go out; never more
   * than the configured cushion.
   */
  for(stallMs: number): number {
    return Math.min(this.opts.maxMs, Math.max(this.current, stallMs + this.marginMs));
  }

  /** A streamed utterance's start needed `neededMs` of cushion to play without a gap. */
  record(neededMs: number): void {
    if (!Number.isFinite(neededMs)) return;
    this.needs[this.next] = Math.max(0, neededMs);
    this.next = (this.next + 1) % this.window;
    this.seen++;
    if (this.seen < this.minSamples) return;
    this.current = Math.min(this.opts.maxMs, Math.max(...this.needs) + this.marginMs);
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
