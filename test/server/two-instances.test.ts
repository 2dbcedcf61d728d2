/**
 * Two instances on one PostgreSQL behind Debian's nginx, with the configuration the README
 * documents (docs/nginx/voicebot-locations.conf, included as is): calls spread over both; one
 * instance is killed mid-call; the other finalises its calls as abandoned, its own calls go on,
 * and new calls and the context store (/voicebot/init) carry on through nginx.
 *
 * Needs nginx (`apt-get install nginx-light`; .ci/run installs it) and PostgreSQL
 * (scripts/with-postgres.sh). Without nginx it fails saying so; SKIP_POSTGRES_TESTS=1 skips it
 * with the other PostgreSQL tests.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { SimulatedCall } from '../../src/simulator/simulated-call.js';
import { createCallStore, openDatabase, type CallStore } from '../../src/store/index.js';
import { FakeOpenAI } from '../fakes/index.js';
import { eventually } from '../helpers/app.js';
import { fixture, nextMark } from '../helpers/calls.js';
import { freshDatabase, postgresTestUrl, SKIP_POSTGRES } from '../helpers/postgres.js';
import { freePort, serveProcess } from '../helpers/server-process.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LOCATIONS = join(ROOT, 'docs', 'nginx', 'voicebot-locations.conf');
const LEASE_TTL_MS = 1500;

function nginxBinary(): string {
  for (const p of [process.env.NGINX, '/usr/sbin/nginx', '/usr/local/sbin/nginx']) {
    if (p && existsSync(p)) return p;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'this test runs Debian nginx in front of two instances: apt-get install nginx-light ' +
        '(or set NGINX=/path/to/nginx)',
    );
  }
}

interface Instance {
  child: ChildProcess;
  port: number;
  liveCalls(): Promise<number>;
}

describe.skipIf(SKIP_POSTGRES)('two instances on one PostgreSQL behind nginx', () => {
  let fake: FakeOpenAI;
  let db: { url: string; drop(): Promise<void> };
  let dir: string;
  let nginx: ChildProcess;
  let base: string;
  let reader: CallStore;
  const children: ChildProcess[] = [];
  /** The instances' logs (warnings and up), printed when the test fails. */
  const logs: string[] = [];

  async function instance(): Promise<Instance> {
    const { child, port } = await serveProcess(
      {
        DATABASE_URL: db.url,
        DATA_DIR: dir,
        OPENAI_BASE_URL: fake.baseUrl,
        LEASE_TTL_MS: String(LEASE_TTL_MS),
        IDLE_AFTER_MS: '0',
        TRUSTED_PROXIES: '127.0.0.1',
      },
      'pipe',
    );
    children.push(child);
    createInterface({ input: child.stdout! }).on('line', (l) => logs.push(`${port} ${l}`));
    const direct = `http://127.0.0.1:${port}`;
    return {
      child,
      port,
      liveCalls: async () => {
        const text = await (await fetch(`${direct}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith('voicebot_live_calls '));
        return Number(line?.split(' ')[1] ?? NaN);
      },
    };
  }

  async function startNginx(upstreams: number[]): Promise<string> {
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    await writeFile(
      conf,
      `daemon off;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream voicebot {
    least_conn;
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=30s;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    include ${LOCATIONS};
  }
}
`,
    );
    nginx = spawn(nginxBinary(), ['-p', dir, '-c', conf, '-e', 'stderr'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(nginx);
    const http = `http://127.0.0.1:${port}`;
    await eventually(
      async () => (await fetch(`${http}/healthz`).catch(() => undefined))?.ok,
      10_000,
    );
    return http;
  }

  /** A call through nginx (`query` as /voicebot/init gives it), greeted. */
  async function dial(query = 'sample-rate=16000'): Promise<SimulatedCall> {
    const call = new SimulatedCall({
      url: `${base.replace('http:', 'ws:')}/was?${query}`,
      sampleRate: 16000,
    });
    await call.connect();
    call.start();
    call.startMic(20);
    await call.waitForMark((n) => n.startsWith('greeting_done'), 20_000);
    return call;
  }

  beforeAll(async () => {
    nginxBinary(); // fail early, saying what is missing
    fake = await FakeOpenAI.start();
    db = await freshDatabase(postgresTestUrl());
    dir = await mkdtemp(join(tmpdir(), 'voicebot-two-'));
    reader = createCallStore(await openDatabase(db.url, { dataDir: dir }), {
      logger: createLogger('silent'),
    });
  });
  afterAll(async () => {
    // nginx on SIGTERM stops its worker too (SIGKILL would leave it running, orphaned).
    const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      running.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once('exit', () => resolve());
            c.kill(c === nginx ? 'SIGTERM' : 'SIGKILL');
          }),
      ),
    );
    await reader?.close();
    await fake?.close();
    await db?.drop().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('spreads calls, survives an instance killed mid-call, and carries on', async () => {
    const [a, b] = await Promise.all([instance(), instance()]);
    base = await startNginx([a.port, b.port]);

    // A context stored through nginx (it may land on either instance).
    const init = await fetch(`${base}/voicebot/init`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ greeting_text: 'Namaste from the shared context store.' }),
    });
    expect(init.status).toBe(200);
    const initUrl = new URL(((await init.json()) as { url: string }).url);
    expect(initUrl.host).toBe(new URL(base).host); // X-Forwarded-Host believed from nginx

    // Calls spread over both instances.
    const calls: SimulatedCall[] = [];
    for (let i = 0; i < 6; i++) calls.push(await dial());
    const [onA, onB] = await Promise.all([a.liveCalls(), b.liveCalls()]);
    expect(onA + onB).toBe(6);
    expect(onA).toBeGreaterThanOrEqual(2);
    expect(onB).toBeGreaterThanOrEqual(2);

    // A dies mid-call, once its calls are on the record (writes go through a queue: a call
    // started a moment before the kill may not be written yet, and then nobody can finalise it).
    await eventually(async () => {
      const records = await Promise.all(calls.map((c) => reader.getCall(c.callSid)));
      return records.every((r) => r?.call.status === 'live');
    }, 15_000);
    a.child.kill('SIGKILL');
    const killedAt = performance.now();
    await eventually(() => calls.filter((c) => !c.isOpen).length === onA, 10_000);
    const lost = calls.filter((c) => !c.isOpen);
    const kept = calls.filter((c) => c.isOpen);
    expect(kept).toHaveLength(onB);

    // B finalises A's calls once A's lease lapses.
    const statuses = async () =>
      (await Promise.all(lost.map((c) => reader.getCall(c.callSid)))).map((r) => r?.call.status);
    const deadline = performance.now() + 20_000;
    while ((await statuses()).some((s) => s !== 'abandoned') && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    if ((await statuses()).some((s) => s !== 'abandoned')) console.log(logs.join('\n'));
    expect(await statuses()).toEqual(lost.map(() => 'abandoned'));
    console.log(
      `[two instances] ${lost.length} calls of the killed instance finalised ` +
        `${Math.round(performance.now() - killedAt)} ms after SIGKILL (LEASE_TTL_MS ${LEASE_TTL_MS})`,
    );
    const lostRecord = await reader.getCall(lost[0]!.callSid);
    expect(lostRecord?.call).toMatchObject({ endReason: 'server_lost' });

    // B's calls go on: a turn is answered.
    const reply = nextMark(kept[0]!, 'response_done');
    await kept[0]!.say(await fixture('hello-16k.wav'));
    await reply;

    // New calls land on B, and the context stored before the kill is found.
    const speechBefore = fake.speech.requests.length;
    const withContext = await dial(initUrl.search.slice(1));
    expect(
      fake.speech.requests.slice(speechBefore).map((r) => (r.body as { input?: string }).input),
    ).toContain('Namaste from the shared context store.');
    expect(await b.liveCalls()).toBe(onB + 1);

    for (const c of [...kept, withContext]) await c.hangup();
    await eventually(async () => {
      const records = await Promise.all(
        [...kept, withContext].map((c) => reader.getCall(c.callSid)),
      );
      return records.every((r) => r?.call.status === 'completed');
    }, 15_000);
  }, 120_000);
});
