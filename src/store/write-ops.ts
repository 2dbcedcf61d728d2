/**
 * The queued writes and how each is applied. Every write is an upsert keyed by the call (and the
 * turn index or event id), so applying one twice — a batch retried after a commit whose reply was
 * lost — leaves the same rows. Any write creates the call row if it is missing, so a write never
 * fails on the foreign key even when an earlier one for that call was dropped.
 */
import { sql, type Insertable, type Transaction } from 'kysely';
import type { TurnRecord } from '../conversation/turn-record.js';
import type { CallsTable, Database, EndReason, HangupBy } from './schema.js';
import { cleanText, turnRows } from './turn-rows.js';

export type WriteOp =
  | {
      kind: 'callConnected';
      id: string;
      at: number;
      /** The instance holding the call (its lease id). */
      owner?: string;
      callSid?: string;
      callLogId?: string;
      from?: string;
      to?: string;
    }
  | {
      kind: 'callStarted';
      id: string;
      at: number;
      callSid?: string;
      streamSid?: string;
      accountSid?: string;
      from?: string;
      to?: string;
      customParameters: Record<string, string>;
      sampleRate: number;
      agent?: string;
    }
  | { kind: 'callStopped'; id: string; at: number; reason?: string }
  | {
      kind: 'callEnded';
      id: string;
      at: number;
      durationMs: number;
      status: 'completed' | 'failed';
      hangupBy: HangupBy;
      endReason?: EndReason;
      endDetail?: string;
      transferTo?: string;
      turnCount: number;
      bargeInCount: number;
      errorCount: number;
      /** Length of the call's recording, when it has one. */
      recordingMs?: number;
    }
  | { kind: 'turn'; id: string; at: number; turn: TurnRecord }
  | {
      kind: 'event';
      id: string;
      at: number;
      /** Order of recording within the process: keeps same-millisecond events in order and distinct. */
      seq: number;
      event: string;
      code?: string;
      detail?: string;
    }
  | {
      kind: 'summary';
      id: string;
      at: number;
      summary?: string;
      status: 'pending' | 'done' | 'failed';
    };

type Trx = Transaction<Database>;
type CallValues = Insertable<CallsTable>;

/** coalesce(new, old): an upsert that leaves a column alone when this write does not know it. */
const keep = (column: keyof CallsTable) =>
  sql`coalesce(${sql.ref(`excluded.${column}`)}, ${sql.ref(`calls.${column}`)})`;
const replace = (column: keyof CallsTable) => sql.ref(`excluded.${column}`);

async function upsertCall(
  trx: Trx,
  values: CallValues,
  merge: Partial<Record<keyof CallsTable, 'keep' | 'replace'>>,
): Promise<void> {
  const set: Record<string, unknown> = { updated_at_ms: replace('updated_at_ms') };
  for (const [column, how] of Object.entries(merge) as [keyof CallsTable, 'keep' | 'replace'][]) {
    set[column] = how === 'keep' ? keep(column) : replace(column);
  }
  await trx
    .insertInto('calls')
    .values(values)
    .onConflict((oc) => oc.column('id').doUpdateSet(set))
    .execute();
}

async function ensureCall(trx: Trx, id: string, at: number): Promise<void> {
  await trx
    .insertInto('calls')
    .values({ id, connected_at_ms: at, updated_at_ms: at })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/**
 * A retry writes the same op again, so the id comes from the op: its time and its recording
 * sequence, zero-padded so ids sort in recording order.
 */
export function eventId(at: number, seq: number): string {
  return `${String(at).padStart(15, '0')}-${String(seq).padStart(12, '0')}`;
}

export async function applyOp(trx: Trx, op: WriteOp): Promise<void> {
  const base = { id: op.id, connected_at_ms: op.at, updated_at_ms: op.at };
  switch (op.kind) {
    case 'callConnected':
      return upsertCall(
        trx,
        {
          ...base,
          call_sid: op.callSid ?? null,
          call_log_id: op.callLogId ?? null,
          from_number: op.from ?? null,
          to_number: op.to ?? null,
          owner: op.owner ?? null,
        },
        {
          call_sid: 'keep',
          owner: 'keep',
          call_log_id: 'keep',
          from_number: 'keep',
          to_number: 'keep',
          connected_at_ms: 'replace',
        },
      );
    case 'callStarted':
      return upsertCall(
        trx,
        {
          ...base,
          call_sid: op.callSid ?? null,
          stream_sid: op.streamSid ?? null,
          account_sid: op.accountSid ?? null,
          from_number: op.from ?? null,
          to_number: op.to ?? null,
          custom_parameters: JSON.stringify(op.customParameters),
          sample_rate: op.sampleRate,
          agent: op.agent ?? null,
          started_at_ms: op.at,
        },
        {
          call_sid: 'keep',
          stream_sid: 'replace',
          account_sid: 'keep',
          from_number: 'keep',
          to_number: 'keep',
          custom_parameters: 'replace',
          sample_rate: 'replace',
          agent: 'keep',
          started_at_ms: 'replace',
        },
      );
    case 'callStopped':
      return upsertCall(
        trx,
        { ...base, stop_reason: op.reason ?? null, stopped_at_ms: op.at },
        { stop_reason: 'keep', stopped_at_ms: 'replace' },
      );
    case 'callEnded':
      return upsertCall(
        trx,
        {
          ...base,
          status: op.status,
          hangup_by: op.hangupBy,
          end_reason: op.endReason ?? null,
          end_detail: op.endDetail === undefined ? null : cleanText(op.endDetail),
          transfer_to: op.transferTo ?? null,
          ended_at_ms: op.at,
          duration_ms: Math.round(op.durationMs),
          turn_count: op.turnCount,
          barge_in_count: op.bargeInCount,
          error_count: op.errorCount,
          recording_ms: op.recordingMs === undefined ? null : Math.round(op.recordingMs),
        },
        {
          status: 'replace',
          hangup_by: 'replace',
          end_reason: 'replace',
          end_detail: 'replace',
          transfer_to: 'replace',
          ended_at_ms: 'replace',
          duration_ms: 'replace',
          turn_count: 'replace',
          barge_in_count: 'replace',
          error_count: 'replace',
          recording_ms: 'replace',
        },
      );
    case 'summary':
      return upsertCall(
        trx,
        {
          ...base,
          summary: op.summary === undefined ? null : cleanText(op.summary),
          summary_status: op.status,
        },
        { summary: 'keep', summary_status: 'replace' },
      );
    case 'turn':
      await ensureCall(trx, op.id, op.at);
      await trx
        .insertInto('turns')
        .values(turnRows(op.id, op.turn, op.at))
        .onConflict((oc) => oc.columns(['call_id', 'idx', 'role']).doNothing())
        .execute();
      return;
    case 'event':
      await ensureCall(trx, op.id, op.at);
      await trx
        .insertInto('call_events')
        .values({
          id: `${op.id}:${eventId(op.at, op.seq)}`,
          call_id: op.id,
          at_ms: op.at,
          kind: op.event,
          code: op.code ?? null,
          detail: op.detail === undefined ? null : cleanText(op.detail),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      return;
  }
}
