import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Generated } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VoicebotError } from '../../src/errors.js';
import { cachingStatements } from '../../src/store/database.js';
import { openDatabase, parseDatabaseUrl } from '../../src/store/index.js';
import { describeEngines, type TestDatabase } from './harness.js';

describe('parseDatabaseUrl', () => {
  it('defaults to SQLite in the data folder', () => {
    expect(parseDatabaseUrl(undefined, '/srv/data')).toEqual({
      engine: 'sqlite',
      file: '/srv/data/voicebot.sqlite',
    });
    expect(parseDatabaseUrl('', '/srv/data')).toMatchObject({ engine: 'sqlite' });
  });

  it('accepts sqlite: and file: paths', () => {
    expect(parseDatabaseUrl('sqlite:///var/lib/vb.db')).toEqual({
      engine: 'sqlite',
      file: '/var/lib/vb.db',
    });
    expect(parseDatabaseUrl('file:///var/lib/vb.db')).toEqual({
      engine: 'sqlite',
      file: '/var/lib/vb.db',
    });
    expect(parseDatabaseUrl('sqlite:rel.db')).toEqual({
      engine: 'sqlite',
      file: path.resolve('rel.db'),
    });
  });

  it('accepts postgres:// and postgresql://', () => {
    for (const url of ['postgres://u:p@h:5432/d', 'postgresql://u:p@h/d']) {
      expect(parseDatabaseUrl(url)).toEqual({ engine: 'postgres', url });
    }
  });

  it('rejects other schemes with STORE_INVALID_URL naming DATABASE_URL, not the password', () => {
    for (const url of ['mysql://root:hunter2@db/x', 'hunter2', 'sqlite:']) {
      let caught: unknown;
      try {
        parseDatabaseUrl(url);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(VoicebotError);
      expect((caught as VoicebotError).code).toBe('STORE_INVALID_URL');
      expect((caught as VoicebotError).message).toContain('DATABASE_URL');
      expect((caught as VoicebotError).message).not.toContain('hunter2');
    }
  });
});

describe('openDatabase (SQLite specifics)', () => {
  it('creates the folder and file, in WAL mode with foreign keys on', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'vb-open-'));
    const dataDir = path.join(root, 'nested', 'data');
    const db = await openDatabase(undefined, { dataDir });
    try {
      expect(existsSync(path.join(dataDir, 'voicebot.sqlite'))).toBe(true);
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db.kysely);
      expect(mode.rows[0]?.journal_mode).toBe('wal');
      const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db.kysely);
      expect(fk.rows[0]?.foreign_keys).toBe(1);
    } finally {
      await db.close();
      await rm(root, { recursive: true });
    }
  });

  it('fails with STORE_UNAVAILABLE when the file cannot be created', async () => {
    // A folder that would have to live inside a regular file.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vb-open-'));
    await writeFile(path.join(dir, 'plain-file'), '');
    await expect(
      openDatabase(`sqlite://${path.join(dir, 'plain-file', 'x.db')}`, {}),
    ).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await rm(dir, { recursive: true });
  });
});

describe('openDatabase (PostgreSQL unreachable)', () => {
  it('fails with a retryable STORE_UNAVAILABLE', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const err = await openDatabase('postgres://postgres@127.0.0.1:1/x', {}).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
  });
});

describeEngines('migrations', (engine) => {
  let target: TestDatabase;
  beforeEach(async () => {
    target = await engine.fresh();
  });
  afterEach(async () => {
    await target.cleanup();
  });

  it('are idempotent: opening twice keeps each migration applied once, and all tables', async () => {
    for (let i = 0; i < 2; i++) {
      const db = await openDatabase(target.url, { dataDir: target.dataDir });
      const applied = await db.kysely
        .selectFrom('kysely_migration' as never)
        .select(sql<number>`count(*)`.as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(applied.n)).toBe(7);
      for (const table of [
        'calls',
        'turns',
        'call_events',
        'call_contexts',
        'call_transfers',
        'instances',
        'outbound_calls',
        'campaigns',
        'campaign_rows',
      ] as const) {
        const rows = await db.kysely.selectFrom(table).selectAll().execute();
        expect(rows).toEqual([]);
      }
      await db.close();
    }
  });
});

describe('cachingStatements (SQLite)', () => {
  function open() {
    const database = new SqliteDatabase(':memory:');
    database.exec('create table t (id integer primary key, v text)');
    let prepared = 0;
    const prepare = database.prepare.bind(database);
    database.prepare = (text: string) => {
      prepared++;
      return prepare(text);
    };
    return { database, prepared: () => prepared };
  }

  it('prepares each SQL text once and reuses the statement', () => {
    const { database, prepared } = open();
    const db = cachingStatements(database);
    const insert = 'insert into t (v) values (?)';
    expect(db.prepare(insert)).toBe(db.prepare(insert));
    db.prepare(insert).run(['a']);
    db.prepare(insert).run(['b']);
    expect(db.prepare('select v from t order by id').all([])).toEqual([{ v: 'a' }, { v: 'b' }]);
    expect(prepared()).toBe(2);
    db.close();
  });

  it('keeps nothing for SQL that does not prepare, and says why', () => {
    const { database, prepared } = open();
    const db = cachingStatements(database);
    expect(() => db.prepare('select v from missing')).toThrow(/no such table/);
    database.exec('create table missing (v text)');
    expect(db.prepare('select v from missing').all([])).toEqual([]);
    expect(prepared()).toBe(2);
    db.close();
  });

  it('keeps at most `max` statements, dropping the oldest', () => {
    const { database, prepared } = open();
    const db = cachingStatements(database, 2);
    const a = db.prepare('select 1');
    db.prepare('select 2');
    db.prepare('select 3'); // drops 'select 1'
    expect(db.prepare('select 3')).not.toBe(a);
    expect(db.prepare('select 1')).not.toBe(a);
    expect(prepared()).toBe(4);
    db.close();
  });

  it('runs Kysely queries through the kept statements', async () => {
    const { database, prepared } = open();
    const kysely = new Kysely<{ t: { id: Generated<number>; v: string } }>({
      dialect: new SqliteDialect({ database: cachingStatements(database) }),
    });
    for (const v of ['a', 'b', 'c']) await kysely.insertInto('t').values({ v }).execute();
    const rows = await kysely.selectFrom('t').select('v').orderBy('id').execute();
    expect(rows.map((r) => r.v)).toEqual(['a', 'b', 'c']);
    expect(prepared()).toBe(2); // one insert, one select
    await kysely.destroy();
  });
});
