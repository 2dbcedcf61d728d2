/**
 * One TurnRecord becomes two rows: what the caller said (role 'user') and what the bot said
 * (role 'bot'). Pure: no database, no clock beyond the one passed in.
 *
 * Turn timings are `performance.now()` readings, meaningless outside this process, so they are
 * stored as the stage durations plus each raw timing relative to the moment the caller stopped
 * speaking (`speechEndAt`, else `endpointAt`). Wall-clock `at_ms` comes from
 * `performance.timeOrigin`.
 */
import {
  stageDurations,
  type StageDurations,
  type TurnRecord,
  type TurnTimings,
} from '../conversation/turn-record.js';
import type { Insertable } from 'kysely';
import type { TurnsTable } from './schema.js';

export interface StoredTimings {
  stages: StageDurations;
  /** Which timing the `relative` figures are measured from; undefined when neither was set. */
  anchor?: 'speechEndAt' | 'endpointAt';
  /** Each timing that was set, in milliseconds after the anchor (negative = before it). */
  relative: Partial<Record<keyof TurnTimings, number>>;
}

export function storedTimings(t: TurnTimings): StoredTimings {
  const anchor =
    t.speechEndAt !== undefined
      ? 'speechEndAt'
      : t.endpointAt !== undefined
        ? 'endpointAt'
        : undefined;
  const zero = anchor === undefined ? undefined : t[anchor];
  const relative: Partial<Record<keyof TurnTimings, number>> = {};
  if (zero !== undefined) {
    for (const [key, value] of Object.entries(t) as [keyof TurnTimings, number | undefined][]) {
      if (value !== undefined) relative[key] = Math.round(value - zero);
    }
  }
  const stages = Object.fromEntries(
    Object.entries(stageDurations(t)).filter(([, v]) => v !== undefined),
  ) as StageDurations;
  return anchor === undefined ? { stages, relative } : { stages, anchor, relative };
}

/** PostgreSQL text cannot hold NUL; transcripts from a vendor could. */
export function cleanText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}

function wallMs(performanceMs: number | undefined): number | undefined {
  return performanceMs === undefined
    ? undefined
    : Math.round(performance.timeOrigin + performanceMs);
}

/** The user row and the bot row for one turn; `fallbackAtMs` dates a turn with no timings. */
export function turnRows(
  callId: string,
  turn: TurnRecord,
  fallbackAtMs: number,
): Insertable<TurnsTable>[] {
  const t = turn.timings;
  const timings = JSON.stringify(storedTimings(t));
  const errors = JSON.stringify(turn.errors);
  const userAt = wallMs(t.speechStartAt ?? t.speechEndAt ?? t.endpointAt) ?? fallbackAtMs;
  const common = {
    call_id: callId,
    idx: turn.index,
    source: turn.source,
    interrupted: 0,
    fallback: 0,
    preemptive_stt: turn.preemptiveStt ? 1 : 0,
    errors,
    timings,
  };
  return [
    {
      ...common,
      role: 'user',
      text: cleanText(turn.userText),
      heard_text: null,
      spoken_text: null,
      at_ms: userAt,
      tool_calls: '[]',
      filler: null,
      ending: null,
    },
    {
      ...common,
      role: 'bot',
      text: cleanText(turn.botText),
      heard_text: cleanText(turn.heardText),
      spoken_text:
        turn.spokenText === undefined || turn.spokenText === turn.botText
          ? null
          : cleanText(turn.spokenText),
      interrupted: turn.interrupted ? 1 : 0,
      fallback: turn.fallback ? 1 : 0,
      at_ms: wallMs(t.firstAudioAt ?? t.llmRequestAt ?? t.replyEndAt) ?? userAt,
      tool_calls: cleanText(JSON.stringify(turn.toolCalls)),
      filler: turn.filler === undefined ? null : cleanText(turn.filler),
      ending: turn.ending ?? null,
    },
  ];
}
