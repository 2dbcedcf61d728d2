/**
 * The one place that decides whether a database error means "unreachable or busy, try again
 * later" (the write queue holds the write, reads throw STORE_UNAVAILABLE) or "this statement is
 * wrong" (retrying cannot help). Also the log-safe description of a database error: codes only,
 * because driver messages and details can quote the values (numbers, transcripts) we wrote.
 */
import { VoicebotError } from '../errors.js';

/**
 * PostgreSQL SQLSTATE classes worth waiting out: 08 connection exception, 40 transaction rollback
 * (serialization failure, deadlock), 53 insufficient resources (too many connections, disk full),
 * 57 operator intervention (admin shutdown, cannot connect now, statement timeout), 58 system
 * error. Plus lock_not_available and the idle-in-transaction timeout.
 */
const PG_RETRY_CLASSES = new Set(['08', '40', '53', '57', '58']);
const PG_RETRY_CODES = new Set(['55P03', '25P03']);

/** SQLite result codes (extended codes share the prefix) that a later attempt can get past. */
const SQLITE_RETRY_PREFIXES = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_PROTOCOL',
  'SQLITE_READONLY',
];

/** node-postgres reports a lost or refused connection with these messages and no code. */
const PG_CONNECTION_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Query read timeout)/;

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** True when the error says the database is unreachable or busy rather than the write is bad. */
export function isUnavailableError(err: unknown): boolean {
  if (err instanceof AggregateError) return err.errors.some(isUnavailableError);
  if (err instanceof VoicebotError) return err.code === 'STORE_UNAVAILABLE' && err.retryable;
  const code = codeOf(err);
  if (code !== undefined) {
    if (code.startsWith('SQLITE_')) return SQLITE_RETRY_PREFIXES.some((p) => code.startsWith(p));
    if (/^E[A-Z]+$/.test(code)) return true; // Node socket errors: ECONNREFUSED, ECONNRESET, …
    if (/^[0-9A-Z]{5}$/.test(code)) {
      return PG_RETRY_CLASSES.has(code.slice(0, 2)) || PG_RETRY_CODES.has(code);
    }
  }
  return err instanceof Error && PG_CONNECTION_MESSAGES.test(err.message);
}

/** Log fields for a database error: the error's class and code, never its message. */
export function describeDbError(err: unknown): { errName: string; dbCode?: string } {
  const errName = err instanceof Error ? err.name : typeof err;
  const dbCode = codeOf(err);
  return dbCode === undefined ? { errName } : { errName, dbCode };
}

/** A read or direct write failed: STORE_UNAVAILABLE when waiting could help, else unchanged. */
export function toStoreError(err: unknown, what: string): unknown {
  if (err instanceof VoicebotError || !isUnavailableError(err)) return err;
  return new VoicebotError('STORE_UNAVAILABLE', `database unavailable (${what})`, {
    retryable: true,
    cause: err,
  });
}
