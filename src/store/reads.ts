/**
 * The read side: the call list (newest first, keyset-paged by an opaque cursor) and one call with
 * its turns and events. Rows are mapped to camelCase records with parsed JSON and real booleans.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  CallEventsTable,
  CallsTable,
  CallStatus,
  Database,
  EndReason,
  HangupBy,
  SummaryStatus,
  TurnRole,
  TurnsTable,
} from './schema.js';
import type { ToolCallRecord, TurnEnding } from '../conversation/turn-record.js';
import type { StoredTimings } from './turn-rows.js';

export interface CallRow {
  id: string;
  callSid?: string;
  streamSid?: string;
  accountSid?: string;
  callLogId?: string;
  from?: string;
  to?: string;
  agent?: string;
  customParameters: Record<string, string>;
  sampleRate?: number;
  status: CallStatus;
  stopReason?: string;
  hangupBy?: HangupBy;
  /** Why it ended (see EndReason). */
  endReason?: EndReason;
  /** The model's reason, when it ended or handed over the call. */
  endDetail?: string;
  /** The number a transfer went to. */
  transferTo?: string;
  connectedAtMs: number;
  startedAtMs?: number;
  stoppedAtMs?: number;
  endedAtMs?: number;
  durationMs?: number;
  turnCount: number;
  bargeInCount: number;
  errorCount: number;
  summary?: string;
  summaryStatus: SummaryStatus;
  updatedAtMs: number;
  /** Length of the call's recording (`GET /api/calls/:callSid/recording`); absent: none. */
  recordingMs?: number;
}

/** A call in the list, with the median of its turns' voice-to-voice latency. */
export interface CallListRow extends CallRow {
  /** Median over the call's answered turns of end of speech → first reply audio; absent: none. */
  firstAudioMedianMs?: number;
}

export interface TurnRow {
  index: number;
  role: TurnRole;
  source: string;
  text: string;
  /** Bot turns only. */
  heardText?: string;
  /** Bot turns: the words TTS was given, when they differ from `text` (numbers in words). */
  spokenText?: string;
  interrupted: boolean;
  fallback: boolean;
  preemptiveStt: boolean;
  errors: string[];
  timings: StoredTimings;
  atMs: number;
  /** Bot rows: the tools the model called in this turn. */
  toolCalls: ToolCallRecord[];
  /** Bot rows: the line said while a tool ran. */
  filler?: string;
  /** Bot rows: set when the model ended or handed over the call here. */
  ending?: TurnEnding;
}

export interface CallEventRow {
  atMs: number;
  kind: string;
  code?: string;
  detail?: string;
}

export interface CallDetail {
  call: CallRow;
  /** By turn index, the user row before the bot row. */
  turns: TurnRow[];
  /** Oldest first. */
  events: CallEventRow[];
}

export interface ListCallsQuery {
  /** Calls connected at or after this epoch millisecond. */
  since?: number;
  /** Calls connected before this epoch millisecond. */
  until?: number;
  /** Matches the caller or the called number exactly. */
  number?: string;
  status?: string;
  agent?: string;
  /** Who hung up: caller, bot or unknown. */
  hangupBy?: string;
  /** Why it ended (an EndReason). */
  endReason?: string;
  /** 1–100; default 50. */
  limit?: number;
  /** `nextCursor` from the previous page. */
  cursor?: string;
}

export const MAX_PAGE = 100;
const DEFAULT_PAGE = 50;

const opt = <V>(v: V | null): V | undefined => (v === null ? undefined : v);

function toCall(r: Selectable<CallsTable>): CallRow {
  return {
    id: r.id,
    callSid: opt(r.call_sid),
    streamSid: opt(r.stream_sid),
    accountSid: opt(r.account_sid),
    callLogId: opt(r.call_log_id),
    from: opt(r.from_number),
    to: opt(r.to_number),
    agent: opt(r.agent),
    customParameters:
      r.custom_parameters === null
        ? {}
        : (JSON.parse(r.custom_parameters) as Record<string, string>),
    sampleRate: opt(r.sample_rate),
    status: r.status,
    stopReason: opt(r.stop_reason),
    hangupBy: opt(r.hangup_by),
    endReason: opt(r.end_reason),
    endDetail: opt(r.end_detail),
    transferTo: opt(r.transfer_to),
    connectedAtMs: r.connected_at_ms,
    startedAtMs: opt(r.started_at_ms),
    stoppedAtMs: opt(r.stopped_at_ms),
    endedAtMs: opt(r.ended_at_ms),
    durationMs: opt(r.duration_ms),
    recordingMs: opt(r.recording_ms),
    turnCount: r.turn_count,
    bargeInCount: r.barge_in_count,
    errorCount: r.error_count,
    summary: opt(r.summary),
    summaryStatus: r.summary_status,
    updatedAtMs: r.updated_at_ms,
  };
}

function toTurn(r: Selectable<TurnsTable>): TurnRow {
  return {
    index: r.idx,
    role: r.role,
    source: r.source,
    text: r.text,
    heardText: opt(r.heard_text),
    spokenText: opt(r.spoken_text),
    interrupted: r.interrupted === 1,
    fallback: r.fallback === 1,
    preemptiveStt: r.preemptive_stt === 1,
    errors: JSON.parse(r.errors) as string[],
    timings: JSON.parse(r.timings) as StoredTimings,
    atMs: r.at_ms,
    toolCalls: JSON.parse(r.tool_calls) as ToolCallRecord[],
    filler: opt(r.filler),
    ending: opt(r.ending) as TurnEnding | undefined,
  };
}

function toEvent(r: Selectable<CallEventsTable>): CallEventRow {
  return { atMs: r.at_ms, kind: r.kind, code: opt(r.code), detail: opt(r.detail) };
}

function encodeCursor(row: CallRow): string {
  return Buffer.from(JSON.stringify([row.connectedAtMs, row.id])).toString('base64url');
}

/** Throws RangeError for a cursor this code did not make. */
function decodeCursor(cursor: string): [number, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return [value[0], value[1]];
    }
  } catch {
    // reported below
  }
  throw new RangeError('invalid call list cursor');
}

export async function listCalls(
  db: Kysely<Database>,
  q: ListCallsQuery,
): Promise<{ calls: CallListRow[]; nextCursor?: string }> {
  const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(q.limit ?? DEFAULT_PAGE)));
  let query = db.selectFrom('calls').selectAll();
  if (q.since !== undefined) query = query.where('connected_at_ms', '>=', q.since);
  if (q.until !== undefined) query = query.where('connected_at_ms', '<', q.until);
  if (q.status !== undefined) query = query.where('status', '=', q.status as CallStatus);
  if (q.agent !== undefined) query = query.where('agent', '=', q.agent);
  if (q.hangupBy !== undefined) query = query.where('hangup_by', '=', q.hangupBy as HangupBy);
  if (q.endReason !== undefined) {
    query = query.where('end_reason', '=', q.endReason as EndReason);
  }
  const number = q.number;
  if (number !== undefined) {
    query = query.where((eb) =>
      eb.or([eb('from_number', '=', number), eb('to_number', '=', number)]),
    );
  }
  if (q.cursor !== undefined) {
    const [at, id] = decodeCursor(q.cursor);
    query = query.where((eb) =>
      eb.or([
        eb('connected_at_ms', '<', at),
        eb.and([eb('connected_at_ms', '=', at), eb('id', '<', id)]),
      ]),
    );
  }
  const rows = await query
    .orderBy('connected_at_ms', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const calls: CallListRow[] = rows.slice(0, limit).map(toCall);
  const medians = await firstAudioMedians(
    db,
    calls.map((c) => c.id),
  );
  for (const call of calls) {
    const median = medians.get(call.id);
    if (median !== undefined) call.firstAudioMedianMs = median;
  }
  const last = calls.at(-1);
  return rows.length > limit && last !== undefined
    ? { calls, nextCursor: encodeCursor(last) }
    : { calls };
}

export async function getCall(
  db: Kysely<Database>,
  callSidOrId: string,
): Promise<CallDetail | undefined> {
  const row = await db
    .selectFrom('calls')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', callSidOrId), eb('call_sid', '=', callSidOrId)]))
    .orderBy(sql`case when id = ${callSidOrId} then 0 else 1 end`)
    .orderBy('connected_at_ms', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const turns = await db
    .selectFrom('turns')
    .selectAll()
    .where('call_id', '=', row.id)
    .orderBy('idx')
    .orderBy(sql`case when role = 'user' then 0 else 1 end`)
    .execute();
  const events = await db
    .selectFrom('call_events')
    .selectAll()
    .where('call_id', '=', row.id)
    .orderBy('at_ms')
    .orderBy('id')
    .execute();
  return { call: toCall(row), turns: turns.map(toTurn), events: events.map(toEvent) };
}

/** Per call, the median first-audio latency of its bot turns (only calls that have one). */
async function firstAudioMedians(
  db: Kysely<Database>,
  callIds: string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (callIds.length === 0) return out;
  const rows = await db
    .selectFrom('turns')
    .select(['call_id', 'timings'])
    .where('role', '=', 'bot')
    .where('call_id', 'in', callIds)
    .execute();
  const byCall = new Map<string, number[]>();
  for (const r of rows) {
    const ms = (JSON.parse(r.timings) as StoredTimings).stages.firstAudioMs;
    if (ms === undefined) continue;
    const list = byCall.get(r.call_id) ?? [];
    list.push(ms);
    byCall.set(r.call_id, list);
  }
  for (const [id, list] of byCall) {
    list.sort((a, b) => a - b);
    const mid = list.length >> 1;
    out.set(id, list.length % 2 ? list[mid]! : Math.round((list[mid - 1]! + list[mid]!) / 2));
  }
  return out;
}
