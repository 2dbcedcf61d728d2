/**
 * Opens the call-record database named by DATABASE_URL: SQLite in the data folder when it is
 * unset, PostgreSQL for postgres:// URLs. Both sit behind one Kysely query layer, and migrations
 * run before the handle is returned. The handle owns the pool or file and closes it.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  SqliteDialect,
  sql,
  type SqliteDatabase as SqliteDialectDatabase,
} from 'kysely';
import pg from 'pg';
import { VoicebotError } from '../errors.js';
import type { Logger } from '../log.js';
import { describeDbError, isUnavailableError } from './db-errors.js';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';

export type Engine = 'sqlite' | 'postgres';

export interface Db {
  readonly engine: Engine;
  readonly kysely: Kysely<Database>;
  /** True when a trivial query succeeds now. Never throws. */
  ping(): Promise<boolean>;
  /** Closes the pool or the file. Idempotent. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Folder for the default SQLite file; default `./data`. */
  dataDir?: string;
  /** Receives dropped-connection warnings from the PostgreSQL pool. */
  logger?: Logger;
}

/**
 * How long SQLite waits for another process's lock before failing with SQLITE_BUSY. Kept short
 * on purpose: better-sqlite3 waits on the event loop (which also paces call audio), and the write
 * queue already retries with backoff.
 */
const SQLITE_BUSY_TIMEOUT_MS = 100;
const PG_POOL_SIZE = 5;
const PG_CONNECT_TIMEOUT_MS = 3_000;
const PG_STATEMENT_TIMEOUT_MS = 10_000;

type Target = { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string };

/** Where DATABASE_URL points; throws STORE_INVALID_URL for anything we cannot open. */
export function parseDatabaseUrl(url: string | undefined, dataDir = './data'): Target {
  if (url === undefined || url.trim() === '') {
    return { engine: 'sqlite', file: path.resolve(dataDir, 'voicebot.sqlite') };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return { engine: 'postgres', url };
  if (scheme === 'sqlite' || scheme === 'file') {
    const file = url.startsWith('file://')
      ? fileURLToPath(url)
      : decodeURIComponent(url.slice(scheme.length + 1).replace(/^\/\//, ''));
    if (file !== '') return { engine: 'sqlite', file: path.resolve(file) };
  }
  // Only the scheme is quoted: the rest of a URL may hold a password.
  throw new VoicebotError(
    'STORE_INVALID_URL',
    `DATABASE_URL ${scheme === undefined ? 'has no scheme' : `has an unsupported scheme "${scheme}:"`}` +
      ': use postgres://user:password@host:5432/dbname, sqlite:///absolute/path.db, ' +
      'or leave it unset for SQLite in the data folder',
  );
}

/** Opens (creating if needed) and migrates the database. Throws STORE_UNAVAILABLE or _INVALID_URL. */
export async function openDatabase(
  url: string | undefined,
  opts: OpenDatabaseOptions = {},
): Promise<Db> {
  const target = parseDatabaseUrl(url, opts.dataDir);
  const kysely =
    target.engine === 'sqlite' ? openSqlite(target.file) : openPostgres(target.url, opts.logger);
  try {
    await migrateToLatest(kysely as Kysely<unknown>);
  } catch (err) {
    await kysely.destroy().catch(() => undefined); // the migration error is the one to report
    if (err instanceof VoicebotError) throw err;
    throw new VoicebotError('STORE_UNAVAILABLE', `cannot open the ${target.engine} database`, {
      retryable: isUnavailableError(err),
      cause: err,
    });
  }
  return handle(target.engine, kysely);
}

function openSqlite(file: string): Kysely<Database> {
  let database: SqliteDatabase.Database;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    database = new SqliteDatabase(file);
    database.pragma('journal_mode = WAL');
    // NORMAL under WAL survives a process crash; only an OS crash can lose the last commits.
    database.pragma('synchronous = NORMAL');
    database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    database.pragma('foreign_keys = ON');
  } catch (err) {
    throw new VoicebotError('STORE_UNAVAILABLE', 'cannot open the SQLite database file', {
      retryable: false,
      cause: err,
    });
  }
  return new Kysely<Database>({
    dialect: new SqliteDialect({ database: cachingStatements(database) }),
  });
}

/** Prepared statements kept per SQL text (the oldest dropped beyond this many). */
export const SQLITE_STATEMENT_CACHE = 256;

/**
 * Kysely's SQLite driver prepares every query again (about 10 us each, most of a small write's
 * cost); this keeps the statement per SQL text instead. (Reuse is safe: better-sqlite3 runs one
 * statement at a time per connection, and refuses any other while an `iterate` is open.)
 */
export function cachingStatements(
  database: SqliteDatabase.Database,
  max = SQLITE_STATEMENT_CACHE,
): SqliteDialectDatabase {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare: (text: string) => {
      const kept = cache.get(text);
      if (kept !== undefined) return kept;
      const stmt = database.prepare(text); // throws on bad SQL: nothing is kept
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(text, stmt);
      return stmt;
    },
  };
}

// bigint (int8) columns hold epoch milliseconds and counts: well inside Number's exact range.
pg.types.setTypeParser(20, (value: string) => Number(value));

function openPostgres(url: string, logger: Logger | undefined): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: PG_POOL_SIZE,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    statement_timeout: PG_STATEMENT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: PG_STATEMENT_TIMEOUT_MS,
    application_name: 'exotel-voicebot',
    keepAlive: true,
  });
  // A connection the server drops emits 'error' on its client: on the pool while it is idle, on
  // the client itself while checked out (pg-pool then has no listener on it). Both must be
  // handled or the process dies; the query that was using it fails and is retried.
  const onError = (err: Error) =>
    logger?.warn({ ...describeDbError(err) }, 'database connection lost');
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

function handle(engine: Engine, kysely: Kysely<Database>): Db {
  let closing: Promise<void> | undefined;
  return {
    engine,
    kysely,
    async ping() {
      try {
        await sql`select 1`.execute(kysely);
        return true;
      } catch {
        return false;
      }
    },
    close() {
      closing ??= kysely.destroy();
      return closing;
    },
  };
}
