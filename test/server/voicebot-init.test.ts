import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/app.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ LOG_LEVEL: 'silent' });
});
afterAll(() => server.close());

async function init(opts: {
  method?: string;
  query?: string;
  body?: string;
  type?: string;
  headers?: Record<string, string>;
}) {
  const res = await server.voicebot.app.inject({
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

describe('/voicebot/init', () => {
  it('answers GET with url and websocket_url built from Exotel parameters', async () => {
    const r = await init({
      query: 'CallSid=CA123&CallFrom=%2B919876543210&CallTo=08047491899&Direction=incoming',
    });
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    expect(r.json.url).toBe(r.json.websocket_url);
    const u = new URL(r.json.url as string);
    expect(u.protocol).toBe('wss:');
    expect(u.host).toBe('bot.example.com');
    expect(u.pathname).toBe('/was');
    expect(Object.fromEntries(u.searchParams)).toEqual({
      'sample-rate': '16000',
      call_sid: 'CA123',
      from: '+919876543210',
      to: '08047491899',
    });
  });

  it('accepts POST as a form and as JSON, and forwards extra custom parameters', async () => {
    const form = await init({
      method: 'POST',
      body: 'CallSid=CA1&CallFrom=1&CallTo=2&agent=loan_hi&customer_name=Asha',
      type: 'application/x-www-form-urlencoded',
    });
    const json = await init({
      method: 'POST',
      body: JSON.stringify({
        CallSid: 'CA1',
        CallFrom: '1',
        CallTo: '2',
        agent: 'loan_hi',
        customer_name: 'Asha',
      }),
      type: 'application/json',
    });
    for (const r of [form, json]) {
      expect(r.status).toBe(200);
      const q = new URL(r.json.url as string).searchParams;
      expect(q.get('agent')).toBe('loan_hi');
      expect(q.get('customer_name')).toBe('Asha');
      expect(q.get('call_sid')).toBe('CA1');
    }
  });

  it('merges query and body parameters', async () => {
    const r = await init({
      method: 'POST',
      query: 'CallSid=CA9&agent=a',
      body: '{"language":"hi"}',
      type: 'application/json',
    });
    const q = new URL(r.json.url as string).searchParams;
    expect(q.get('call_sid')).toBe('CA9');
    expect(q.get('agent')).toBe('a');
    expect(q.get('language')).toBe('hi');
  });

  it('refuses more than 3 custom parameters with a clear 400', async () => {
    const r = await init({ query: 'CallSid=CA1&a=1&b=2&c=3&d=4' });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { code: 'INIT_PARAMS_INVALID' } });
    expect(JSON.stringify(r.json)).toMatch(/at most 3 custom parameters/);
  });

  it('refuses custom parameters over 256 characters with a clear 400', async () => {
    const r = await init({ query: `CallSid=CA1&documents=${'x'.repeat(300)}` });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toMatch(/256 characters/);
    const ok = await init({ query: `CallSid=CA1&documents=${'x'.repeat(200)}` });
    expect(ok.status).toBe(200);
  });

  it('uses X-Forwarded-Proto/Host when behind a proxy', async () => {
    const r = await init({
      query: 'CallSid=CA1',
      headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'inner:9000' },
    });
    expect((r.json.url as string).startsWith('ws://inner:9000/was?')).toBe(true);
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
    expect(h.json()).toEqual({ status: 'ok' });
    const r = await server.voicebot.app.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'ready', calls: 0 });
  });
});
