/**
 * The console's pages as HTTP sees them (no browser): who gets in, what the filters select,
 * that a phone number never has to travel in a URL, that text from calls is escaped, and that
 * a signed-in browser may open `/was` when the Exotel checks are on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type TestServer } from '../helpers/app.js';
import { seedCall } from '../helpers/seed-calls.js';

const KEY = 'console-pages-key-012345';
let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(env: Record<string, string> = {}) {
  server = await startServer({
    ADMIN_API_KEY: KEY,
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    ...env,
  });
  return server;
}

async function session(s: TestServer): Promise<string> {
  const res = await s.voicebot.app.inject({
    method: 'POST',
    url: '/console/sign-in',
    payload: `key=${encodeURIComponent(KEY)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expect(res.statusCode).toBe(303);
  expect(res.headers.location).toBe('/console/calls');
  return String(res.headers['set-cookie']).split(';')[0]!;
}

const get = (s: TestServer, url: string, cookie?: string, headers: Record<string, string> = {}) =>
  s.voicebot.app.inject({
    method: 'GET',
    url,
    headers: { ...(cookie ? { cookie } : {}), ...headers },
  });

const post = (s: TestServer, url: string, form: Record<string, string>, cookie: string) =>
  s.voicebot.app.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams(form).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
  });

/** The call ids in a calls table, in order. */
const rowIds = (body: string) => [...body.matchAll(/<tr data-call="([^"]+)"/g)].map((m) => m[1]);

describe('console access', () => {
  it('sends strangers to sign in, tells htmx to, and refuses wrong keys with a message', async () => {
    const s = await start();
    for (const url of ['/console/calls', '/console/live', '/console/agents', '/console/try']) {
      const res = await get(s, url);
      expect(res.statusCode, url).toBe(303);
      expect(res.headers.location).toBe('/console/sign-in');
    }
    const fragment = await get(s, '/console/live/rows', undefined, { 'hx-request': 'true' });
    expect(fragment.statusCode).toBe(401);
    expect(fragment.headers['hx-redirect']).toBe('/console/sign-in');

    const wrong = await s.voicebot.app.inject({
      method: 'POST',
      url: '/console/sign-in',
      payload: 'key=wrong-key-but-long-enough',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(wrong.body).toContain('That key is not right.');
    expect(wrong.body).not.toContain('<table');

    const cookie = await session(s);
    const page = await get(s, '/console/calls', cookie);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['cache-control']).toBe('no-store');
    const out = await s.voicebot.app.inject({
      method: 'POST',
      url: '/console/sign-out',
      headers: { cookie },
    });
    expect(out.statusCode).toBe(303);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
  });

  it('keeps making a client wait after repeated wrong keys, on the form as on the API', async () => {
    const s = await start();
    const answers = [];
    for (let i = 0; i < 12; i++) {
      const answer = await s.voicebot.app.inject({
        method: 'POST',
        url: '/console/sign-in',
        payload: `key=wrong-key-number-${i}-xxxxx`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      answers.push(answer);
      if (answer.statusCode === 429) break;
    }
    const last = answers.at(-1)!;
    expect(last.statusCode).toBe(429);
    expect(last.headers['retry-after']).toMatch(/^\d+$/);
    expect(last.body).toContain('Too many wrong keys');
    // The same count holds for the bearer API.
    const api = await s.voicebot.app.inject({
      method: 'GET',
      url: '/api/calls',
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(api.statusCode).toBe(429);
  });

  it('says how to turn it on when ADMIN_API_KEY is unset', async () => {
    server = await startServer({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    const res = await get(server, '/console/calls');
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('ADMIN_API_KEY');
  });

  it('serves its stylesheet and scripts from the package, and nothing else', async () => {
    const s = await start();
    for (const [name, type] of [
      ['console.css', 'text/css'],
      ['htmx.min.js', 'text/javascript'],
      ['console.js', 'text/javascript'],
      ['try.js', 'text/javascript'],
      ['mic-worklet.js', 'text/javascript'],
    ]) {
      const res = await get(s, `/console/assets/${name}`);
      expect(res.statusCode, name).toBe(200);
      expect(res.headers['content-type']).toContain(type);
      expect(res.body.length).toBeGreaterThan(100);
    }
    expect((await get(s, '/console/assets/..%2Fpackage.json')).statusCode).toBe(404);
    expect((await get(s, '/console/assets/app.js')).statusCode).toBe(404);
  });
});

describe('the calls list', () => {
  it('filters by date, number, agent, status and how the call ended, newest first', async () => {
    const s = await start();
    const store = s.voicebot.store;
    const day = Date.parse('2026-11-20T06:30:00Z'); // 12:00 in India
    const a = await seedCall(store, {
      startMs: day,
      turns: 2,
      agent: 'loan_hi',
      from: '+919811111111',
    });
    const b = await seedCall(store, {
      startMs: day + 86_400_000,
      turns: 3,
      agent: 'clinic_en',
      from: '+919822222222',
    });
    const c = await seedCall(store, {
      startMs: day + 2 * 86_400_000,
      turns: 1,
      agent: 'loan_hi',
      from: '+919833333333',
      status: 'failed',
    });
    await store.flush(5_000);
    const cookie = await session(s);

    expect(rowIds((await get(s, '/console/calls', cookie)).body)).toEqual([c, b, a]);
    const by = async (form: Record<string, string>) =>
      rowIds((await post(s, '/console/calls', form, cookie)).body);
    expect(await by({ agent: 'loan_hi' })).toEqual([c, a]);
    expect(await by({ status: 'failed' })).toEqual([c]);
    expect(await by({ number: '+919822222222' })).toEqual([b]);
    expect(await by({ from: '2026-11-21', to: '2026-11-21' })).toEqual([b]);
    expect(await by({ from: '2026-11-21' })).toEqual([c, b]);
    expect(await by({ ended_by: 'caller', reason: 'caller_hangup' })).toEqual([c, b, a]);
    expect(await by({ ended_by: 'bot' })).toEqual([]);
    const bad = await post(s, '/console/calls', { from: '21/11/2026' }, cookie);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('YYYY-MM-DD');

    // A number never rides in a URL: the form posts, and a number in a query is ignored.
    expect((await get(s, '/console/calls', cookie)).body).toMatch(
      /<form method="post" action="\/console\/calls"/,
    );
    expect(rowIds((await get(s, '/console/calls?number=%2B919822222222', cookie)).body)).toEqual([
      c,
      b,
      a,
    ]);
    expect(rowIds((await get(s, '/console/calls?agent=clinic_en', cookie)).body)).toEqual([b]);

    // The list shows each call's median first-audio latency, the same figure as the API's.
    const listed = await s.voicebot.app.inject({
      method: 'GET',
      url: '/api/calls?agent=clinic_en',
      headers: { authorization: `Bearer ${KEY}` },
    });
    const api = listed.json<{ calls: Array<{ id: string; firstAudioMedianMs?: number }> }>();
    expect(api.calls.map((x) => x.id)).toEqual([b]);
    const median = api.calls[0]!.firstAudioMedianMs!;
    expect(median).toBeGreaterThan(1000);
    expect((await by({ agent: 'clinic_en' })).length).toBe(1);
    expect((await post(s, '/console/calls', { agent: 'clinic_en' }, cookie)).body).toContain(
      `${median.toLocaleString('en-IN')} ms`,
    );
  });

  it('pages 50 at a time by re-posting the filters with a cursor', async () => {
    const s = await start();
    const now = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 53; i++)
      ids.push(await seedCall(s.voicebot.store, { startMs: now - i * 60_000, turns: 1 }));
    await s.voicebot.store.flush(10_000);
    const cookie = await session(s);
    const first = await get(s, '/console/calls', cookie);
    expect(rowIds(first.body)).toEqual(ids.slice(0, 50));
    const cursor = /<button type="submit" name="cursor" value="([^"]+)"/.exec(first.body)![1]!;
    const second = await post(s, '/console/calls', { cursor, agent: '' }, cookie);
    expect(rowIds(second.body)).toEqual(ids.slice(50));
    expect(second.body).not.toContain('name="cursor"');
  });
});

describe('one call', () => {
  it('escapes what was said, splits heard from not heard, and shows tools, keys and errors', async () => {
    const s = await start();
    const id = await seedCall(s.voicebot.store, {
      startMs: Date.now() - 60_000,
      turns: 17,
      exchanges: [
        ['<script>alert(1)</script> hello', 'First half of the answer. Second half <b>bold</b>.'],
        ['Kitna due hai?', 'Aapka due ₹4,500 hai.'],
      ],
    });
    await s.voicebot.store.flush(5_000);
    const cookie = await session(s);
    const res = await get(s, `/console/calls/${id}`, cookie);
    expect(res.statusCode).toBe(200);
    const body = res.body;
    expect(body).not.toContain('<script>alert(1)</script>');
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; hello');
    expect(body).not.toContain('<b>bold</b>');
    // Turn 3 was interrupted half way: the rest is struck through and labelled for readers.
    const turn3 = /<li class="msg bot" data-turn="3">([\s\S]*?)<\/li>/.exec(body)![1]!;
    expect(turn3).toContain('interrupted');
    const heard = /<span class="heard">([^<]*)<\/span>/.exec(turn3)?.[1];
    const unheard =
      /<s class="unheard"><span class="sr-only"> \(not heard:\) <\/span>([^<]*)<\/s>/.exec(
        turn3,
      )?.[1];
    expect(heard).toBe('First half of the answer.');
    expect(unheard).toBe(' Second half &lt;b&gt;bold&lt;/b&gt;.');
    // Turn 2 called a tool; turn 5 came from the keypad; turn 9 was the fallback line.
    expect(body).toContain('Tool <code>lookup_loan</code> · ok');
    // Turn 2's numbers were read out in words: the LLM's text shows, the spoken form beside it.
    const turn2 = /<li class="msg bot" data-turn="2">([\s\S]*?)<\/li>/.exec(body)![1]!;
    expect(turn2).toContain('Aapka due ₹4,500 hai.');
    expect(turn2).toMatch(
      /<summary>Spoken as<\/summary>\s*<p class="words">Aapka due four thousand five hundred rupees hai\.<\/p>/,
    );
    expect(turn3).not.toContain('Spoken as');
    expect(body).toContain('{&quot;outstanding&quot;:150000');
    expect(body).toMatch(/pressed <kbd>4<\/kbd> <kbd>5<\/kbd> <kbd>1<\/kbd> <kbd>2<\/kbd>/);
    expect(body).toContain('fallback line');
    expect(body).toContain('LLM_TIMEOUT');
    // A waterfall row per spoken turn, and seek buttons only when there is a recording (none).
    expect(body.match(/<li data-turn="\d+">/g)?.length).toBe(17);
    expect(body).not.toContain('data-seek');
    expect(body).toContain('This call has no recording.');
    expect((await get(s, '/console/calls/no-such-call', cookie)).statusCode).toBe(404);
  });
});

describe('Try an agent', () => {
  it('lets a signed-in browser open /was when Exotel credentials are required, and no one else', async () => {
    const s = await start({ EXOTEL_STREAM_BASIC_AUTH: 'exotel:secret-token' });
    const cookie = await session(s);
    const open = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${s.wsBase}/was?sample-rate=8000`, { headers });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => resolve(-1));
      });
    expect(await open({})).toBe(401);
    expect(await open({ cookie: 'vb_session=v1.99999999999999.forged' })).toBe(401);
    expect(await open({ cookie })).toBe(101);
    const page = await get(s, '/console/try?agent=clinic_en', cookie);
    expect(page.body).toMatch(/<option value="clinic_en" selected>/);
    expect(page.body).toContain('/console/assets/try.js');
  });
});
