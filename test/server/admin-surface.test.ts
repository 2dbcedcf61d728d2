/** The admin surface: back-off after wrong keys, headers for personal data, METRICS_TOKEN. */
import { afterEach, describe, expect, it } from 'vitest';
import { issueSession, sessionValid } from '../../src/server/admin-session.js';
import { AuthThrottle } from '../../src/server/auth-throttle.js';
import { startServer, type TestServer } from '../helpers/app.js';

const KEY = 'admin-key-0123456789';
const METRICS = 'metrics-token-0123456789';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const get = (url: string, token?: string) =>
  server!.voicebot.app.inject({
    method: 'GET',
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

describe('AuthThrottle', () => {
  it('lets five wrong keys through, then makes the client wait, longer each time', () => {
    let now = 0;
    const t = new AuthThrottle({ now: () => now });
    for (let i = 0; i < 4; i++) t.failed('1.2.3.4');
    expect(t.waitMs('1.2.3.4')).toBe(0);
    t.failed('1.2.3.4');
    expect(t.waitMs('1.2.3.4')).toBe(1_000);
    now += 1_000;
    t.failed('1.2.3.4');
    expect(t.waitMs('1.2.3.4')).toBe(2_000);
    for (let i = 0; i < 20; i++) t.failed('1.2.3.4');
    expect(t.waitMs('1.2.3.4')).toBe(300_000);
    expect(t.waitMs('5.6.7.8')).toBe(0); // other clients are not held up
    t.succeeded('1.2.3.4');
    expect(t.waitMs('1.2.3.4')).toBe(0);
  });

  it('forgets the oldest clients past its bound', () => {
    const t = new AuthThrottle({ maxClients: 2, freeFailures: 0 });
    for (const ip of ['a', 'b', 'c']) t.failed(ip);
    expect(t.waitMs('a')).toBe(0);
    expect(t.waitMs('c')).toBeGreaterThan(0);
  });
});

describe('admin API', () => {
  it('answers 429 with Retry-After after five wrong keys, even to the right one, then lets it in', async () => {
    server = await startServer({ ADMIN_API_KEY: KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    for (let i = 0; i < 5; i++)
      expect((await get('/api/calls', 'wrong-key-00000000')).statusCode).toBe(401);
    const held = await get('/api/calls', KEY);
    expect(held.statusCode).toBe(429);
    expect(held.headers['retry-after']).toBe('1');
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await get('/api/calls', KEY)).statusCode).toBe(200);
    expect((await get('/api/calls', 'wrong-key-00000000')).statusCode).toBe(401);
  });

  it('marks every answer as not to be sniffed, cached or framed', async () => {
    server = await startServer({ ADMIN_API_KEY: KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    for (const res of [
      await get('/api/calls', KEY),
      await get('/api/calls/CA_none', KEY),
      await get('/api/calls'),
    ]) {
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      });
    }
    // Only the admin answers carry them.
    expect((await get('/healthz')).headers['cache-control']).toBeUndefined();
  });
});

describe('browser sessions', () => {
  const signIn = (body: string, type = 'application/json') =>
    server!.voicebot.app.inject({
      method: 'POST',
      url: '/api/session',
      payload: body,
      headers: { 'content-type': type },
    });
  const withCookie = (url: string, cookie: string) =>
    server!.voicebot.app.inject({ method: 'GET', url, headers: { cookie } });

  it('signs in with the key (JSON or form) to an HttpOnly, SameSite=Strict cookie the API accepts', async () => {
    server = await startServer({ ADMIN_API_KEY: KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    const wrong = await signIn(JSON.stringify({ key: 'wrong-key-00000000' }));
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(wrong.json()).toMatchObject({ error: { code: 'ADMIN_UNAUTHORIZED' } });

    for (const res of [
      await signIn(JSON.stringify({ key: KEY })),
      await signIn(`key=${encodeURIComponent(KEY)}`, 'application/x-www-form-urlencoded'),
    ]) {
      expect(res.statusCode).toBe(204);
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).toMatch(
        /^vb_session=v1\.\d+\.[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
      );
      expect(cookie).not.toContain(KEY);
      const session = cookie.split(';')[0]!;
      expect((await withCookie('/api/calls', session)).statusCode).toBe(200);
      expect((await withCookie('/api/calls', `other=1; ${session}`)).statusCode).toBe(200);
    }
    // Tampered, or signed with another key: refused.
    const good = String((await signIn(JSON.stringify({ key: KEY }))).headers['set-cookie']).split(
      ';',
    )[0]!;
    const [, expires] = good.split('.');
    const tampered = good.replace(`.${expires}.`, `.${Number(expires) + 1000}.`);
    expect((await withCookie('/api/calls', tampered)).statusCode).toBe(401);
    const other = issueSession('another-admin-key-0000');
    expect((await withCookie('/api/calls', `vb_session=${other}`)).statusCode).toBe(401);
    // Signing out clears the cookie.
    const out = await server.voicebot.app.inject({ method: 'DELETE', url: '/api/session' });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^vb_session=; .*Max-Age=0/);
  });

  it('refuses an expired session, and counts wrong keys at sign-in towards the wait', async () => {
    const t = 1_800_000_000_000;
    expect(sessionValid(issueSession(KEY, t, 500), KEY, t + 499)).toBe(true);
    expect(sessionValid(issueSession(KEY, t, 500), KEY, t + 500)).toBe(false);
    server = await startServer({ ADMIN_API_KEY: KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    for (let i = 0; i < 5; i++)
      expect((await signIn(JSON.stringify({ key: 'wrong-key-00000000' }))).statusCode).toBe(401);
    expect((await signIn(JSON.stringify({ key: KEY }))).statusCode).toBe(429);
  });
});

describe('/metrics', () => {
  it('wants the bearer token when METRICS_TOKEN is set', async () => {
    server = await startServer({
      METRICS_TOKEN: METRICS,
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    });
    expect((await get('/metrics')).statusCode).toBe(401);
    expect((await get('/metrics', 'wrong-token-0000000')).statusCode).toBe(401);
    const ok = await get('/metrics', METRICS);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('voicebot_live_calls');
  });

  it('is open without it', async () => {
    server = await startServer({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    expect((await get('/metrics')).statusCode).toBe(200);
  });
});
