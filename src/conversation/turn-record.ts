/**
 * What one exchange leaves behind: what the caller said, what the bot said and what the caller
 * actually heard of it, the tools it used, and when each stage happened. Times are
 * `performance.now()` milliseconds; each stage returns its own and the turn puts them together;
 * `stageDurations` turns them into the per-stage figures that logs, metrics and the store use.
 */

/** When the caller's turn happened (from the hearing side). */
export interface HeardTimings {
  /** Caller's voice began (stream clock mapped to wall time). */
  speechStartAt?: number;
  /** Caller's voice ended. */
  speechEndAt?: number;
  /** The endpoint decision: silence long enough, the turn is over. */
  endpointAt?: number;
}

export interface SttTimings {
  sttStartAt?: number;
  sttEndAt?: number;
}

/** What one spoken LLM round measured (the turn keeps its first round's). */
export interface ReplyTimings {
  llmRequestAt?: number;
  llmFirstTokenAt?: number;
  firstSentenceAt?: number;
  ttsRequestAt?: number;
  ttsFirstByteAt?: number;
}

export interface TurnTimings extends HeardTimings, SttTimings, ReplyTimings {
  /** First frame of the turn's audio handed to the transport. */
  firstAudioAt?: number;
  /** Reply finished playing, was interrupted, or failed. */
  replyEndAt?: number;
}

export type TurnSource = 'speech' | 'dtmf';

export type ToolCallStatus = 'ok' | 'error' | 'timeout' | 'cancelled' | 'rejected';

/** One tool call of a turn, as stored on the record (arguments and result bounded). */
export interface ToolCallRecord {
  /** The model's id for the call. */
  id: string;
  name: string;
  /** The arguments as the model wrote them. */
  arguments: string;
  /** What went back to the model (or why nothing did). */
  result: string;
  status: ToolCallStatus;
  durationMs: number;
  /** 1 for the first LLM round of the turn. */
  round: number;
}

/** How the bot ended the call from this turn, if it did. */
export type TurnEnding = 'end_call' | 'transfer';

export interface TurnRecord {
  index: number;
  source: TurnSource;
  /** What the caller said (transcript, or the keys pressed). */
  userText: string;
  /** Everything the bot generated or said for this turn. */
  botText: string;
  /** What the caller heard of it (equal to botText unless interrupted). */
  heardText: string;
  /** What TTS was given for botText, when it differs (numbers in words: speech/numbers.ts). */
  spokenText?: string;
  interrupted: boolean;
  /** The reply was the fallback line after a provider failure. */
  fallback: boolean;
  /** The transcription started before the endpoint was used. */
  preemptiveStt: boolean;
  /** Error codes met during the turn, in order. */
  errors: string[];
  /** Tool calls the model made, in order. */
  toolCalls: ToolCallRecord[];
  /** The line said while a tool ran, when one was. */
  filler?: string;
  /** Set when the model ended or handed over the call in this turn. */
  ending?: TurnEnding;
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

/** A turn's info log line: what happened and how long each stage took; words only under `pii`. */
export function turnLogFields(r: TurnRecord): Record<string, unknown> {
  return {
    turn: r.index,
    source: r.source,
    interrupted: r.interrupted,
    fallback: r.fallback,
    preemptiveStt: r.preemptiveStt,
    errors: r.errors.length > 0 ? r.errors : undefined,
    tools: r.toolCalls.length > 0 ? r.toolCalls.map((c) => `${c.name}:${c.status}`) : undefined,
    ending: r.ending,
    ...stageDurations(r.timings),
    pii: { userText: r.userText, heardText: r.heardText },
  };
}
