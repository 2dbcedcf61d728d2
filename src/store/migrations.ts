/**
 * Schema migrations, kept in code (not files on disk) so the built package carries them. They run
 * at open on both engines through Kysely's `Migrator`, which records what ran in
 * `kysely_migration` and takes a lock on PostgreSQL, so two servers starting at once are safe.
 * Never edit a migration that has shipped: add the next one.
 */
import {
  Migrator,
  SqliteAdapter,
  sql,
  type Kysely,
  type Migration,
  type MigrationProvider,
} from 'kysely';
import { VoicebotError } from '../errors.js';

const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('calls')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('call_sid', 'text')
      .addColumn('stream_sid', 'text')
      .addColumn('account_sid', 'text')
      .addColumn('call_log_id', 'text')
      .addColumn('from_number', 'text')
      .addColumn('to_number', 'text')
      .addColumn('agent', 'text')
      .addColumn('custom_parameters', 'text')
      .addColumn('sample_rate', 'integer')
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('live'))
      .addColumn('stop_reason', 'text')
      .addColumn('hangup_by', 'text')
      .addColumn('connected_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('started_at_ms', 'bigint')
      .addColumn('stopped_at_ms', 'bigint')
      .addColumn('ended_at_ms', 'bigint')
      .addColumn('duration_ms', 'bigint')
      .addColumn('turn_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('barge_in_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('summary', 'text')
      .addColumn('summary_status', 'text', (c) => c.notNull().defaultTo('none'))
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addCheckConstraint('calls_status_check', sql`status in ('live', 'completed', 'failed')`)
      .execute();
    // (connected_at_ms, id) is the call list's keyset order.
    await db.schema
      .createIndex('calls_connected_idx')
      .on('calls')
      .columns(['connected_at_ms', 'id'])
      .execute();
    for (const column of ['call_sid', 'from_number', 'to_number', 'status']) {
      await db.schema.createIndex(`calls_${column}_idx`).on('calls').column(column).execute();
    }

    await db.schema
      .createTable('turns')
      .addColumn('call_id', 'text', (c) => c.notNull().references('calls.id').onDelete('cascade'))
      .addColumn('idx', 'integer', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('heard_text', 'text')
      .addColumn('interrupted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('fallback', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('preemptive_stt', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('errors', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('timings', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('turns_pk', ['call_id', 'idx', 'role'])
      .addCheckConstraint('turns_role_check', sql`role in ('user', 'bot')`)
      .execute();

    await db.schema
      .createTable('call_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('call_id', 'text', (c) => c.notNull().references('calls.id').onDelete('cascade'))
      .addColumn('at_ms', 'bigint', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('code', 'text')
      .addColumn('detail', 'text')
      .execute();
    await db.schema
      .createIndex('call_events_call_idx')
      .on('call_events')
      .columns(['call_id', 'at_ms'])
      .execute();

    await db.schema
      .createTable('call_contexts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('call_contexts_expires_idx')
      .on('call_contexts')
      .column('expires_at_ms')
      .execute();
  },
};

/** Issue 9: how the call ended, tool calls on turns, transfer decisions by CallSid. */
const actions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const column of ['end_reason', 'end_detail', 'transfer_to']) {
      await db.schema.alterTable('calls').addColumn(column, 'text').execute();
    }
    await db.schema
      .alterTable('turns')
      .addColumn('tool_calls', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();
    for (const column of ['filler', 'ending']) {
      await db.schema.alterTable('turns').addColumn(column, 'text').execute();
    }
    await db.schema
      .createTable('call_transfers')
      .addColumn('call_sid', 'text', (c) => c.primaryKey())
      .addColumn('call_id', 'text', (c) => c.notNull())
      .addColumn('number', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('at_ms', 'bigint', (c) => c.notNull())
      .execute();
  },
};

/** Every column of `calls` as of 0002, in order (the SQLite rebuild below copies them). */
const CALLS_COLUMNS_0002 = [
  'id',
  'call_sid',
  'stream_sid',
  'account_sid',
  'call_log_id',
  'from_number',
  'to_number',
  'agent',
  'custom_parameters',
  'sample_rate',
  'status',
  'stop_reason',
  'hangup_by',
  'connected_at_ms',
  'started_at_ms',
  'stopped_at_ms',
  'ended_at_ms',
  'duration_ms',
  'turn_count',
  'barge_in_count',
  'error_count',
  'summary',
  'summary_status',
  'updated_at_ms',
  'end_reason',
  'end_detail',
  'transfer_to',
];

/**
 * Issue 10: instance leases (a call's owner; calls whose owner's lease lapsed are finalised as
 * `abandoned` by whoever is alive). `calls` gets `owner` and the status `abandoned`. PostgreSQL
 * changes the constraint in place; SQLite cannot, so it rebuilds the table the way SQLite's
 * documentation prescribes (foreign keys off, new table, copy, drop, rename, check, on).
 */
const leases: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('instances')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('started_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('renewed_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    const status = sql`status in ('live', 'completed', 'failed', 'abandoned')`;
    if (!(db.getExecutor().adapter instanceof SqliteAdapter)) {
      await db.schema.alterTable('calls').addColumn('owner', 'text').execute();
      await db.schema.alterTable('calls').dropConstraint('calls_status_check').execute();
      await db.schema
        .alterTable('calls')
        .addCheckConstraint('calls_status_check', status)
        .execute();
      await db.schema.createIndex('calls_owner_idx').on('calls').column('owner').execute();
      return;
    }
    await sql`pragma foreign_keys = off`.execute(db);
    try {
      await sql`begin`.execute(db);
      await db.schema
        .createTable('calls_new')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('call_sid', 'text')
        .addColumn('stream_sid', 'text')
        .addColumn('account_sid', 'text')
        .addColumn('call_log_id', 'text')
        .addColumn('from_number', 'text')
        .addColumn('to_number', 'text')
        .addColumn('agent', 'text')
        .addColumn('custom_parameters', 'text')
        .addColumn('sample_rate', 'integer')
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('live'))
        .addColumn('stop_reason', 'text')
        .addColumn('hangup_by', 'text')
        .addColumn('connected_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('started_at_ms', 'bigint')
        .addColumn('stopped_at_ms', 'bigint')
        .addColumn('ended_at_ms', 'bigint')
        .addColumn('duration_ms', 'bigint')
        .addColumn('turn_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('barge_in_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('summary', 'text')
        .addColumn('summary_status', 'text', (c) => c.notNull().defaultTo('none'))
        .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('end_reason', 'text')
        .addColumn('end_detail', 'text')
        .addColumn('transfer_to', 'text')
        .addColumn('owner', 'text')
        .addCheckConstraint('calls_status_check', status)
        .execute();
      const cols = sql.join(CALLS_COLUMNS_0002.map((c) => sql.ref(c)));
      await sql`insert into calls_new (${cols}) select ${cols} from calls`.execute(db);
      await sql`drop table calls`.execute(db);
      await sql`alter table calls_new rename to calls`.execute(db);
      await db.schema
        .createIndex('calls_connected_idx')
        .on('calls')
        .columns(['connected_at_ms', 'id'])
        .execute();
      for (const column of ['call_sid', 'from_number', 'to_number', 'status', 'owner']) {
        await db.schema.createIndex(`calls_${column}_idx`).on('calls').column(column).execute();
      }
      const broken = await sql`pragma foreign_key_check`.execute(db);
      if (broken.rows.length > 0) throw new Error('foreign keys broken by the calls rebuild');
      await sql`commit`.execute(db);
    } catch (err) {
      await sql`rollback`.execute(db).catch(() => undefined);
      throw err;
    } finally {
      await sql`pragma foreign_keys = on`.execute(db);
    }
  },
};

/** Issue 11: the call's recording and its length (null: none). */
const recordings: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('calls').addColumn('recording_ms', 'bigint').execute();
  },
};

const outbound: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('outbound_calls')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('to_number', 'text', (c) => c.notNull())
      .addColumn('agent', 'text')
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('context_id', 'text')
      .addColumn('exotel_call_sid', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('answered_at_ms', 'bigint')
      .addColumn('ended_at_ms', 'bigint')
      .addColumn('checked_at_ms', 'bigint')
      .execute();
    await db.schema
      .createIndex('outbound_calls_sid_idx')
      .on('outbound_calls')
      .column('exotel_call_sid')
      .execute();
    await db.schema
      .createIndex('outbound_calls_status_idx')
      .on('outbound_calls')
      .columns(['status', 'updated_at_ms'])
      .execute();
  },
};

const campaigns: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('campaigns')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('agent', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('pause_reason', 'text')
      .addColumn('concurrency', 'integer', (c) => c.notNull())
      .addColumn('calls_per_second', 'real', (c) => c.notNull())
      .addColumn('window_start', 'text', (c) => c.notNull())
      .addColumn('window_end', 'text', (c) => c.notNull())
      .addColumn('timezone', 'text', (c) => c.notNull())
      .addColumn('retry_on', 'text', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('retry_after_ms', 'bigint', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('last_dial_at_ms', 'bigint')
      .execute();
    await db.schema
      .createTable('campaign_rows')
      .addColumn('campaign_id', 'text', (c) =>
        c.notNull().references('campaigns.id').onDelete('cascade'),
      )
      .addColumn('idx', 'integer', (c) => c.notNull())
      .addColumn('to_number', 'text', (c) => c.notNull())
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('outcome', 'text')
      .addColumn('outbound_id', 'text')
      .addColumn('claimed_by', 'text')
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('campaign_rows_pk', ['campaign_id', 'idx'])
      .execute();
    await db.schema
      .createIndex('campaign_rows_due_idx')
      .on('campaign_rows')
      .columns(['campaign_id', 'state', 'next_at_ms'])
      .execute();
    await db.schema
      .createIndex('campaign_rows_outbound_idx')
      .on('campaign_rows')
      .column('outbound_id')
      .execute();
  },
};

/** Bot turns: the words sent to TTS when they differ from the LLM's (numbers in words). */
const spokenText: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('turns').addColumn('spoken_text', 'text').execute();
  },
};

const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_actions': actions,
  '0003_leases': leases,
  '0004_recordings': recordings,
  '0005_outbound': outbound,
  '0006_campaigns': campaigns,
  '0007_spoken_text': spokenText,
};

/** The migrations in order (exported for tests that start from an older schema). */
export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};

/** Brings the schema up to date; a no-op when it already is. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  const { error, results } = await new Migrator({
    db,
    provider: migrationProvider,
  }).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new VoicebotError('STORE_UNAVAILABLE', `database migration ${failed} failed`, {
      retryable: true,
      cause: error,
    });
  }
}
