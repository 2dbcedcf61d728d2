/**
 * The call's outbound audio as the conversation sees it: start an utterance, write PCM into it,
 * clear everything, and ask how much the caller has heard. The Exotel player implements it
 * (`src/telephony/exotel-player.ts`); a recorder or another engine attaches here.
 */

/** What an utterance is, for its mark name and the record: `<kind>-<n>`. */
export type UtteranceKind =
  | 'greeting_done'
  | 'response_done'
  | 'fallback_done'
  | 'filler_done'
  | 'idle_done'
  | 'goodbye_done';

export interface PlaybackResult {
  /** The transport confirmed playing all of it (or its clock says so). */
  completed: boolean;
  /** Milliseconds of this utterance the caller heard. */
  heardMs: number;
  /** Ended by `clear()` (barge-in). */
  cleared: boolean;
}

/** One thing the bot says, written as PCM at the rate it was opened with. */
export interface Utterance {
  readonly kind: UtteranceKind;
  /** Unique per call; what the transport's mark carries. */
  readonly name: string;
  /** `performance.now()` when its first frame left; undefined until then. */
  readonly firstFrameAt: number | undefined;
  /** Milliseconds of its audio sent towards the caller so far. */
  readonly sentAudioMs: number;
  /** True once ended, cancelled or finished: further writes are ignored. */
  readonly closed: boolean;
  /**
   * Settles once the caller heard it all, it was cleared (barge-in), cancelled, or the call
   * ended. Never rejects.
   */
  readonly played: Promise<PlaybackResult>;
  /** Writes s16le PCM at the input rate; resolves when the output has room for more. */
  writeBytes(bytes: Buffer): Promise<void>;
  /** No more audio: the rest is flushed and padded, and the end is marked. */
  end(): void;
  /** Abandons it: unsent audio is dropped. */
  cancel(): void;
  /** Milliseconds of it the caller has heard by now (marks and the playback clock). */
  heardMs(): number;
  /** Stream-rate audio written so far, when it was opened with `capture`. */
  capturedAudio(): Buffer | undefined;
}

export interface AudioOutput {
  /** The rate the caller hears; PCM already at this rate needs no resampling. */
  readonly sampleRate: number;
  /**
   * Opens an utterance whose PCM arrives at `inputRate`. Utterances play in the order their
   * audio is written; write one to its end before starting the next.
   */
  startUtterance(
    kind: UtteranceKind,
    inputRate: number,
    opts?: { capture?: boolean },
  ): Promise<Utterance>;
  /** Plays PCM already at `sampleRate` as one utterance. */
  playPcm(kind: UtteranceKind, pcm: Buffer): Promise<Utterance>;
  /** Drops everything queued here and at the far end; open utterances end as cleared. */
  clear(): void;
  /** True while audio is queued or still playing at the far end. */
  isSpeaking(): boolean;
  close(): void;
}
