/**
 * PostgreSQL for tests. `scripts/with-postgres.sh` starts a throwaway server and exports
 * DATABASE_URL_TEST; without it the PostgreSQL tests FAIL (with a message saying how to run them)
 * unless SKIP_POSTGRES_TESTS=1 says to skip them. Never a silent skip.
 *
 * `freshDatabase` gives each test its own database on that server. `PrivateCluster` is a server of
 * a test's own, for tests that stop and start the server: stopping the shared one would break
 * every other test file running in parallel.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './server-process.js';

const run = promisify(execFile);

export const SKIP_POSTGRES = process.env.SKIP_POSTGRES_TESTS === '1';

/** The shared test server's URL; throws a how-to-fix error when it is not configured. */
export function postgresTestUrl(): string {
  const url = process.env.DATABASE_URL_TEST;
  if (url === undefined || url === '') {
    throw new Error(
      'PostgreSQL tests need a server: run them as `bash scripts/with-postgres.sh npx vitest run`, ' +
        'or set DATABASE_URL_TEST=postgres://…, or set SKIP_POSTGRES_TESTS=1 to skip them on purpose',
    );
  }
  return url;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<R>(url: string, work: (client: pg.Client) => Promise<R>): Promise<R> {
  const client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database on the server at `serverUrl`; `drop` removes it. */
export async function freshDatabase(
  serverUrl: string = postgresTestUrl(),
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `vb_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: withDatabase(serverUrl, name),
    drop: async () => {
      await admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** initdb, pg_ctl as the right user: "postgres" when we are root (initdb refuses root). */
function pgUser(): string {
  return (
    process.env.PG_CTL_USER ?? (process.getuid?.() === 0 ? 'postgres' : os.userInfo().username)
  );
}

async function asPgUser(command: string, args: string[]): Promise<void> {
  const user = pgUser();
  const asOther = user !== os.userInfo().username;
  await (asOther ? run('runuser', ['-u', user, '--', command, ...args]) : run(command, args));
}

/** A PostgreSQL server of the test's own, which it may stop and start. */
export class PrivateCluster {
  private constructor(
    private readonly base: string,
    readonly url: string,
  ) {}

  private get data(): string {
    return path.join(this.base, 'data');
  }

  /** Made beside the shared cluster when there is one, so with-postgres.sh cleans up after us. */
  static async create(): Promise<PrivateCluster> {
    const shared = process.env.PGDATA_TEST;
    const parent = shared === undefined ? os.tmpdir() : path.dirname(shared);
    const base = await mkdtemp(path.join(parent, 'private-'));
    const user = pgUser();
    if (user !== os.userInfo().username) {
      const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
      await chown(base, uid, gid);
    }
    const data = path.join(base, 'data');
    await asPgUser('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    const port = await freePort();
    await appendFile(
      path.join(data, 'postgresql.conf'),
      `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${base}'\n` +
        'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n',
    );
    const cluster = new PrivateCluster(base, `postgres://postgres@127.0.0.1:${port}/postgres`);
    await cluster.start();
    return cluster;
  }

  /** `pg_ctl start`, waiting until it accepts connections. */
  async start(): Promise<void> {
    await asPgUser('pg_ctl', [
      '-D',
      this.data,
      '-l',
      path.join(this.base, 'server.log'),
      '-w',
      'start',
    ]);
  }

  /** `pg_ctl stop -m fast`: open sessions are terminated, as in a real restart. */
  async stop(): Promise<void> {
    await asPgUser('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', 'stop']);
  }

  async destroy(): Promise<void> {
    await asPgUser('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']).catch(
      () => undefined,
    );
    await rm(this.base, { recursive: true, force: true });
  }
}
