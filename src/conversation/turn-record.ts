/**
 * What one exchange leaves behind: what the caller said, what the bot said and what the caller
 * actually heard of it, and when each stage happened. Times are `performance.now()` milliseconds;
 * `stageDurations` turns them into the per-stage figures that logs, metrics and the store use.
 */

export interface TurnTimings {
  /** Caller's voice began (stream clock mapped to wall time). */
  speechStartAt?: number;
  /** Caller's voice ended. */
  speechEndAt?: number;
  /** The endpoint decision: silence long enough, the turn is over. */
  endpointAt?: number;
  sttStartAt?: number;
  sttEndAt?: number;
  llmRequestAt?: number;
  llmFirstTokenAt?: number;
  firstSentenceAt?: number;
  ttsRequestAt?: number;
  ttsFirstByteAt?: number;
  /** First frame of the reply handed to the socket. */
  firstAudioAt?: number;
  /** Reply finished playing, was interrupted, or failed. */
  replyEndAt?: number;
}

export type TurnSource = 'speech' | 'dtmf';

export interface TurnRecord {
  index: number;
  source: TurnSource;
  /** What the caller said (transcript, or the keys pressed). */
  userText: string;
  /** Everything the bot generated for this turn. */
  botText: string;
  /** What the caller heard of it (equal to botText unless interrupted). */
  heardText: string;
  interrupted: boolean;
  /** The reply was the fallback line after a provider failure. */
  fallback: boolean;
  /** The transcription started before the endpoint was used. */
  preemptiveStt: boolean;
  /** Error codes met during the turn, in order. */
  errors: string[];
  timings: TurnTimings;
}

export interface StageDurations {
  endpointMs?: number;
  sttMs?: number;
  /** STT time left on the critical path after the endpoint (0 when preemption hid it). */
  sttAfterEndpointMs?: number;
  llmFirstTokenMs?: number;
  ttsFirstByteMs?: number;
  /** Caller stopped speaking → first reply frame sent (voice-to-voice at the server). */
  firstAudioMs?: number;
  replyMs?: number;
}

export function stageDurations(t: TurnTimings): StageDurations {
  const d = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : Math.round(b - a);
  const sttAfter = d(t.endpointAt, t.sttEndAt);
  return {
    endpointMs: d(t.speechEndAt, t.endpointAt),
    sttMs: d(t.sttStartAt, t.sttEndAt),
    sttAfterEndpointMs: sttAfter === undefined ? undefined : Math.max(0, sttAfter),
    llmFirstTokenMs: d(t.llmRequestAt, t.llmFirstTokenAt),
    ttsFirstByteMs: d(t.ttsRequestAt, t.ttsFirstByteAt),
    firstAudioMs: d(t.speechEndAt ?? t.endpointAt, t.firstAudioAt),
    replyMs: d(t.firstAudioAt, t.replyEndAt),
  };
}
