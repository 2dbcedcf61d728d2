import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSystemPrompt } from '../../src/conversation/persona.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCallStore, openDatabase, type CallStore } from '../../src/store/index.js';
import { createLogger } from '../../src/log.js';
import { VoicebotError } from '../../src/errors.js';
import { startServer, type TestServer } from '../helpers/app.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ LOG_LEVEL: 'silent' });
});
afterAll(() => server.close());

async function init(
  s: TestServer,
  opts: {
    method?: string;
    query?: string;
    body?: string;
    type?: string;
    headers?: Record<string, string>;
  },
) {
  const res = await s.voicebot.app.inject({
    method: (opts.method ?? 'GET') as 'GET' | 'POST',
    url: `/voicebot/init${opts.query ? `?${opts.query}` : ''}`,
    payload: opts.body,
    headers: {
      host: 'bot.example.com',
      ...(opts.type ? { 'content-type': opts.type } : {}),
      ...opts.headers,
    },
  });
  return {
    status: res.statusCode,
    type: res.headers['content-type'],
    json: res.json<Record<string, unknown>>(),
  };
}

const query = (r: { json: Record<string, unknown> }) => new URL(r.json.url as string).searchParams;

describe('/voicebot/init', () => {
  it('answers GET with url and websocket_url carrying only sample-rate, call_sid and ctx', async () => {
    const r = await init(server, {
      query: 'CallSid=CA123&CallFrom=%2B919876543210&CallTo=08047491899&Direction=incoming',
    });
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    expect(r.json.url).toBe(r.json.websocket_url);
    const u = new URL(r.json.url as string);
    expect(u.protocol).toBe('wss:');
    expect(u.host).toBe('bot.example.com');
    expect(u.pathname).toBe('/was');
    expect([...u.searchParams.keys()]).toEqual(['sample-rate', 'call_sid', 'ctx']);
    expect(u.searchParams.get('sample-rate')).toBe('16000');
    expect(u.searchParams.get('call_sid')).toBe('CA123');
    // The numbers live server side, not in the URL Exotel logs.
    const ctx = await server.voicebot.store.getContext(u.searchParams.get('ctx')!, Date.now());
    expect(ctx).toEqual({ from: '+919876543210', to: '08047491899' });
  });

  it('stores a persona with ten fields and 5 KB of documents behind a URL of at most 256 characters', async () => {
    const documents = 'Home loan interest is 8.5 percent a year. '.repeat(125).slice(0, 5120);
    const persona = {
      CallSid: 'CA77aa0123456789abcdef0123456789',
      CallFrom: '09876543210',
      CallTo: '08047491899',
      agent: 'loan_hi',
      persona_name: 'Meera',
      persona_age: '28',
      tone: 'warm',
      gender: 'female',
      city: 'Pune',
      language: 'Hindi',
      customer_name: 'Asha',
      greeting_text: 'Namaste Asha ji!',
      voice_id: 'nova',
      documents,
    };
    const r = await init(server, {
      method: 'POST',
      body: JSON.stringify(persona),
      type: 'application/json',
    });
    expect(r.status).toBe(200);
    const url = r.json.url as string;
    expect(url.length).toBeLessThanOrEqual(256);
    expect(new URL(url).search.length).toBeLessThanOrEqual(256);
    const ctx = await server.voicebot.store.getContext(query(r).get('ctx')!, Date.now());
    expect(ctx?.documents).toBe(documents);
    expect(ctx?.persona_name).toBe('Meera');
    expect(buildSystemPrompt(ctx!)).toContain('Meera');
  });

  it('accepts POST as a form and as JSON', async () => {
    for (const [body, type] of [
      [
        'CallSid=CA1&CallFrom=1&CallTo=2&agent=loan_hi&customer_name=Asha',
        'application/x-www-form-urlencoded',
      ],
      [
        JSON.stringify({
          CallSid: 'CA1',
          CallFrom: '1',
          CallTo: '2',
          agent: 'loan_hi',
          customer_name: 'Asha',
        }),
        'application/json',
      ],
    ] as const) {
      const r = await init(server, { method: 'POST', body, type });
      expect(r.status).toBe(200);
      const ctx = await server.voicebot.store.getContext(query(r).get('ctx')!, Date.now());
      expect(ctx).toEqual({ from: '1', to: '2', agent: 'loan_hi', customer_name: 'Asha' });
    }
  });

  it('refuses a context over its bounds with a clear 400', async () => {
    const many = Array.from({ length: 70 }, (_, i) => `p${i}=v`).join('&');
    const r = await init(server, { query: `CallSid=CA1&${many}` });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { code: 'INIT_PARAMS_INVALID' } });
  });

  it('ignores X-Forwarded-Proto/Host from a client that is not a trusted proxy', async () => {
    const r = await init(server, {
      query: 'CallSid=CA1',
      headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'evil.example:9000' },
    });
    expect(r.json.url).toBe('wss://bot.example.com/was?sample-rate=16000&call_sid=CA1');
  });

  it('uses X-Forwarded-Proto/Host from a trusted proxy (TRUSTED_PROXIES)', async () => {
    const proxied = await startServer({ LOG_LEVEL: 'silent', TRUSTED_PROXIES: '127.0.0.1, ::1' });
    try {
      const r = await init(proxied, {
        query: 'CallSid=CA1',
        headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'inner:9000' },
      });
      expect(r.json.url).toBe('ws://inner:9000/was?sample-rate=16000&call_sid=CA1');
    } finally {
      await proxied.close();
    }
  });
});

describe('/voicebot/init when the database is down', () => {
  let down: TestServer;
  let real: CallStore;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'voicebot-init-'));
    real = createCallStore(await openDatabase(undefined, { dataDir: dir }), {
      logger: createLogger('silent'),
    });
    // The same store, but its context writes fail as when the database is down.
    const failing = new Proxy(real, {
      get(target, prop) {
        if (prop === 'putContext')
          return () => Promise.reject(new VoicebotError('STORE_UNAVAILABLE', 'down'));
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    down = await startServer({ LOG_LEVEL: 'silent' }, { store: failing });
  });
  afterAll(async () => {
    await down.close();
    await real.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes parameters that fit Exotel limits inline', async () => {
    const r = await init(down, { query: 'CallSid=CA1&CallFrom=1&CallTo=2&agent=loan_hi' });
    expect(r.status).toBe(200);
    expect(Object.fromEntries(query(r))).toEqual({
      'sample-rate': '16000',
      call_sid: 'CA1',
      from: '1',
      to: '2',
      agent: 'loan_hi',
    });
  });

  it('refuses with 400 what cannot fit', async () => {
    const r = await init(down, { query: `CallSid=CA1&documents=${'x'.repeat(300)}` });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toMatch(/256 characters/);
  });
});

describe('/voicebot/init with PUBLIC_URL', () => {
  it('builds the wss URL from PUBLIC_URL, keeping its path', async () => {
    const s = await startServer({
      LOG_LEVEL: 'silent',
      PUBLIC_URL: 'https://voice.example.in/bot/',
    });
    try {
      const res = await s.voicebot.app.inject({ method: 'GET', url: '/voicebot/init?CallSid=CA5' });
      expect(res.json<{ url: string }>().url).toBe(
        'wss://voice.example.in/bot/was?sample-rate=16000&call_sid=CA5',
      );
    } finally {
      await s.close();
    }
  });
});

describe('health', () => {
  it('answers /healthz and /readyz', async () => {
    const h = await server.voicebot.app.inject({ method: 'GET', url: '/healthz' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toEqual({ status: 'ok', pid: process.pid });
    const r = await server.voicebot.app.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'ready', calls: 0 });
  });
});
