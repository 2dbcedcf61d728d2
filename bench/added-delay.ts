/**
 * The server's own added delay per turn, from the timings it stored (server side, so the load
 * generator's lag is not in it), against the provider model's known delays: every millisecond
 * from the end of the caller's voice to the first reply frame sent that is not endpointing or a
 * provider's modelled wait. Split by stage, it shows where the milliseconds go.
 */
import { latencyStats } from '../src/simulator/load-report.js';
import type { StoredTimings } from '../src/store/turn-rows.js';
import * as model from './model.js';

/** Stages of the critical path and what the provider model says each should take. */
export const ADDED_STAGES = [
  'endpoint',
  'stt',
  'llmRequest',
  'llmFirstToken',
  'firstSentence',
  'ttsFirstByte',
  'firstFrame',
] as const;
export type AddedStage = (typeof ADDED_STAGES)[number];

export interface AddedDelay {
  turns: number;
  /** firstAudioMs − the preemptive floor: what the server added, per turn (ms). */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Per stage, the mean excess over the model (ms; negative: faster than the model). */
  meanByStageMs: Partial<Record<AddedStage, number>>;
}

/** Per-turn excess of each stage over the model; a stage with a missing timing is left out. */
export function stageExcess(
  t: StoredTimings,
  preemptMs: number,
): Partial<Record<AddedStage, number>> {
  const r = t.relative;
  const sttOnPath =
    preemptMs > 0 ? Math.max(0, preemptMs + model.STT_MS - model.ENDPOINTING_MS) : model.STT_MS;
  const heardAt =
    r.endpointAt === undefined ? undefined : Math.max(r.endpointAt, r.sttEndAt ?? r.endpointAt);
  const span = (a: number | undefined, b: number | undefined, want: number) =>
    a === undefined || b === undefined ? undefined : b - a - want;
  const out: Partial<Record<AddedStage, number>> = {
    endpoint: span(0, r.endpointAt, model.ENDPOINTING_MS),
    stt: span(r.endpointAt, heardAt, sttOnPath),
    llmRequest: span(heardAt, r.llmRequestAt, 0),
    llmFirstToken: span(r.llmRequestAt, r.llmFirstTokenAt, model.LLM_FIRST_TOKEN_MS),
    firstSentence: span(
      r.llmFirstTokenAt,
      r.ttsRequestAt,
      model.FIRST_SENTENCE_TOKENS * model.LLM_PER_TOKEN_MS,
    ),
    ttsFirstByte: span(r.ttsRequestAt, r.ttsFirstByteAt, model.TTS_FIRST_BYTE_MS),
    firstFrame: span(r.ttsFirstByteAt, r.firstAudioAt, 0),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

export function addedDelay(timings: StoredTimings[], preemptMs: number): AddedDelay {
  const floor = model.floorMs(preemptMs);
  const added = timings
    .map((t) => t.stages.firstAudioMs)
    .filter((v): v is number => v !== undefined)
    .map((v) => v - floor);
  const stats = latencyStats(added);
  const sums: Partial<Record<AddedStage, { sum: number; n: number }>> = {};
  for (const t of timings) {
    for (const [stage, v] of Object.entries(stageExcess(t, preemptMs)) as [AddedStage, number][]) {
      const s = (sums[stage] ??= { sum: 0, n: 0 });
      s.sum += v;
      s.n += 1;
    }
  }
  const round = (v: number | null) => (v === null ? null : Math.round(v));
  return {
    turns: added.length,
    p50Ms: round(stats.p50),
    p95Ms: round(stats.p95),
    p99Ms: round(stats.p99),
    meanByStageMs: Object.fromEntries(
      ADDED_STAGES.filter((s) => sums[s]).map((s) => [s, Math.round(sums[s]!.sum / sums[s]!.n)]),
    ),
  };
}
