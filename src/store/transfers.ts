/**
 * Transfer decisions by CallSid: written when the bot hands a call over, just before it closes
 * the stream, and read moments later by Exotel's Passthru and Connect applets (on any instance
 * sharing the database). Direct, not queued: the flow asks right after the socket closes.
 */
import type { Kysely } from 'kysely';
import { withQuickRetries } from './direct.js';
import type { Database } from './schema.js';

export interface TransferDecision {
  callSid: string;
  callId: string;
  number: string;
  reason?: string;
  at: number;
}

export function putTransfer(db: Kysely<Database>, t: TransferDecision): Promise<void> {
  const row = {
    call_sid: t.callSid,
    call_id: t.callId,
    number: t.number,
    reason: t.reason ?? null,
    at_ms: t.at,
  };
  return withQuickRetries('putTransfer', async () => {
    await db
      .insertInto('call_transfers')
      .values(row)
      .onConflict((oc) =>
        oc.column('call_sid').doUpdateSet({
          call_id: row.call_id,
          number: row.number,
          reason: row.reason,
          at_ms: row.at_ms,
        }),
      )
      .execute();
  });
}

export function getTransfer(
  db: Kysely<Database>,
  callSid: string,
): Promise<TransferDecision | undefined> {
  return withQuickRetries('getTransfer', async () => {
    const row = await db
      .selectFrom('call_transfers')
      .selectAll()
      .where('call_sid', '=', callSid)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      callSid: row.call_sid,
      callId: row.call_id,
      number: row.number,
      ...(row.reason === null ? {} : { reason: row.reason }),
      at: row.at_ms,
    };
  });
}
