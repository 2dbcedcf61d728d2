/**
 * Placing calls through Exotel's API (its fake, strict as the real one) onto our own `/was`: an
 * answered call becomes a conversation whose record is linked to the outbound row; busy and
 * unanswered calls still end with a complete row; a lost status callback is made good by the
 * call details API; Exotel's rate limit is waited out; bad requests get clear 4xx answers.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatedCall } from '../../src/simulator/simulated-call.js';
import { FakeExotel } from '../fakes/exotel-api.js';
import { FakeOpenAI } from '../fakes/index.js';
import { consoleCookie, eventually, startServer, type TestServer } from '../helpers/app.js';
import { fixture, nextEcho, nextMark } from '../helpers/calls.js';
import { LLM, STT, TTS } from '../helpers/conversation-env.js';
import { freePort } from '../helpers/server-process.js';

const KEY = 'outbound-admin-key-0123';
let openai: FakeOpenAI;
let exotel: FakeExotel;
let server: TestServer | undefined;

beforeAll(async () => {
  openai = await FakeOpenAI.start();
});
afterAll(() => openai.close());
beforeEach(async () => {
  openai.reset();
  openai.speech.setDefault(TTS);
  openai.transcriptions.setDefault({ kind: 'text', text: 'Haan, boliye.', ...STT });
  openai.chat.setDefault({
    kind: 'stream',
    tokens: 'Aapki EMI paanch December ko due hai.',
    ...LLM,
  });
  exotel = await FakeExotel.start();
});
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && server) {
    console.log(server.logs.map((l) => JSON.stringify(l)).join('\n'));
  }
  await exotel.close();
  await server?.close();
  server = undefined;
  expect(openai.violations).toEqual([]);
});

async function start(env: Record<string, string> = {}): Promise<TestServer> {
  const port = await freePort();
  server = await startServer({
    OPENAI_BASE_URL: openai.baseUrl,
    ADMIN_API_KEY: KEY,
    GREETING_TEXT: 'Namaste.',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    // A silent callee is greeted soon; tests of the answer check set their own.
    OUTBOUND_GREET_AFTER_MS: '300',
    ...exotel.env(),
    ...env,
  });
  return server;
}

const place = (s: TestServer, body: unknown) =>
  fetch(`${s.httpBase}/api/calls/outbound`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

interface OutboundView {
  id: string;
  to: string;
  status: string;
  callSid?: string;
  error?: string;
  answeredAtMs?: number;
  endedAtMs?: number;
  record?: {
    id: string;
    agent?: string;
    status: string;
    turnCount: number;
    customParameters: Record<string, string>;
  };
}

const view = async (s: TestServer, id: string): Promise<OutboundView> => {
  const res = await fetch(`${s.httpBase}/api/calls/outbound/${id}`, {
    headers: { authorization: `Bearer ${KEY}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as OutboundView;
};

describe('placing a call', () => {
  it('dials through Exotel onto /was, talks, and links the conversation to the outbound row', async () => {
    const s = await start();
    exotel.onDial(() => ({
      outcome: 'answer',
      talk: async (call) => {
        await nextEcho(call, 'greeting_done');
        const answered = nextEcho(call, 'response_done');
        await call.say(await fixture('hello-8k.wav', 8000));
        await answered;
      },
    }));
    const res = await place(s, {
      to: '098123 45670',
      agent: 'loan_hi',
      params: { customer_name: 'Rahul', due_amount: 4500 },
    });
    expect(res.status).toBe(201);
    const placed = (await res.json()) as { id: string; callSid: string; to: string };
    expect(placed.to).toBe('+919812345670');
    expect(placed.callSid).toBe(exotel.placed[0]!.sid);

    // What Exotel was asked: the stream URL under our PUBLIC_URL with a context id, the status
    // callback signed, the ExoPhone as caller id.
    const form = exotel.placed[0]!.form;
    expect(form).toMatchObject({
      From: '+919812345670',
      CallerId: '08047491899',
      StreamType: 'bidirectional',
      TimeLimit: '3600',
      CustomField: placed.id,
    });
    expect(form.StreamUrl).toMatch(
      /^ws:\/\/127\.0\.0\.1:\d+\/was\?sample-rate=8000&ctx=[A-Za-z0-9]{12}$/,
    );
    expect(form.StatusCallback).toMatch(
      new RegExp(`/exotel/status/${placed.id}\\?sig=[\\w-]{32}$`),
    );
    expect(form.StreamUrl).not.toContain('Rahul');

    const done = await eventually(async () => {
      const v = await view(s, placed.id);
      return v.status === 'completed' && v.record?.status === 'completed' ? v : undefined;
    }, 20_000);
    expect(done.answeredAtMs).toBeGreaterThan(0);
    expect(done.endedAtMs).toBeGreaterThanOrEqual(done.answeredAtMs!);
    expect(done.record).toMatchObject({ agent: 'loan_hi', turnCount: 1 });
    expect(done.record!.customParameters).toMatchObject({
      customer_name: 'Rahul',
      due_amount: '4500',
      outbound_id: placed.id,
    });
    // The console's Outbound page lists it, linked to its conversation.
    const cookie = await consoleCookie(s.httpBase, KEY);
    const page = await (
      await fetch(`${s.httpBase}/console/outbound`, { headers: { cookie } })
    ).text();
    const row = new RegExp(`<tr data-outbound="${placed.id}">([\\s\\S]*?)</tr>`).exec(page)?.[1];
    expect(row).toContain('+919812345670');
    expect(row).toContain('status-completed');
    expect(row).toContain(`href="/console/calls/${placed.callSid}"`);
    expect(exotel.placed[0]!.callbacks.map((c) => [c.event, c.answer])).toEqual([
      ['answered', 200],
      ['terminal', 200],
    ]);
    expect(exotel.rejections).toEqual([]);
  });

  it.each(['busy', 'no-answer', 'failed'] as const)(
    'a %s call never reaches /was and still ends with a complete row',
    async (outcome) => {
      const s = await start();
      exotel.onDial(() => ({ outcome }));
      const res = await place(s, { to: '+919812345670' });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      const done = await eventually(async () => {
        const v = await view(s, id);
        return v.status === outcome ? v : undefined;
      });
      expect(done.endedAtMs).toBeGreaterThan(0);
      expect(done.answeredAtMs).toBeUndefined();
      expect(done.record).toBeUndefined();
    },
  );

  it('asks Exotel for the call details when the status callback never comes', async () => {
    const s = await start({ OUTBOUND_CHECK_AFTER_MS: '400' });
    exotel.onDial(() => ({ outcome: 'no-answer', callback: 'never' }));
    const res = await place(s, { to: '9812345670' });
    const { id } = (await res.json()) as { id: string };
    const done = await eventually(async () => {
      const v = await view(s, id);
      return v.status === 'no-answer' ? v : undefined;
    });
    expect(exotel.placed[0]!.callbacks).toEqual([]);
    expect(
      exotel.requests.some(
        (r) => r.method === 'GET' && r.path.endsWith(`/Calls/${done.callSid}.json`),
      ),
    ).toBe(true);
  });

  it('links a call whose placement answer and callbacks were lost by its stream', async () => {
    const s = await start();
    exotel.lostAnswers.push('taken');
    exotel.onDial(() => ({
      outcome: 'answer',
      answeredCallback: 'never',
      callback: 'never',
      talk: () => new Promise((r) => setTimeout(r, 1_000)),
    }));
    const res = await place(s, { to: '9812345670' });
    expect(res.status).toBe(201);
    const placed = (await res.json()) as OutboundView;
    expect(placed.callSid).toBeUndefined();
    const linked = await eventually(async () => {
      const v = await view(s, placed.id);
      return v.callSid ? v : undefined;
    });
    expect(linked.callSid).toBe(exotel.placed[0]!.sid);
    expect(linked.answeredAtMs).toBeGreaterThan(0);
    expect(exotel.placed).toHaveLength(1);
    expect(exotel.placed[0]!.callbacks).toEqual([]);
    expect(s.logs.some((l) => l.code === 'EXOTEL_UNCERTAIN')).toBe(true);
  });

  it('a late "answered" callback does not undo a final status', async () => {
    const s = await start();
    exotel.onDial(() => ({ outcome: 'busy' }));
    const { id } = (await (await place(s, { to: '9812345670' })).json()) as { id: string };
    await eventually(async () => (await view(s, id)).status === 'busy');
    const statusUrl = exotel.placed[0]!.form.StatusCallback!;
    const late = await fetch(statusUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'CallSid=x&Status=in-progress&EventType=answered',
    });
    expect(late.status).toBe(200);
    expect((await view(s, id)).status).toBe('busy');
    // A forged callback (wrong signature) is refused.
    const forged = await fetch(
      statusUrl.replace(/sig=[\w-]+/, 'sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'CallSid=x&Status=completed',
      },
    );
    expect(forged.status).toBe(403);
  });

  it("waits out Exotel's rate limit (429 with Retry-After) and still places every call", async () => {
    const s = await start();
    exotel.perMinute = 2;
    exotel.windowMs = 1_500;
    exotel.onDial(() => ({ outcome: 'busy', callback: 'never' }));
    const answers = await Promise.all([1, 2, 3].map((i) => place(s, { to: `981234567${i}` })));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(exotel.requests.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(1);
    expect(exotel.placed.map((p) => p.form.From).sort()).toEqual([
      '+919812345671',
      '+919812345672',
      '+919812345673',
    ]);
  });
});

describe('placing a call into a flow', () => {
  it("starts the flow, and its Voicebot applet gets the call's context from /voicebot/init", async () => {
    const s = await start({ EXOTEL_FLOW_APP_ID: '123456' });
    exotel.onDial(() => ({ outcome: 'answer', callback: 'never' }));
    const res = await place(s, {
      to: '9812345670',
      agent: 'loan_hi',
      params: { customer_name: 'Asha' },
    });
    expect(res.status).toBe(201);
    const { id, callSid } = (await res.json()) as { id: string; callSid: string };
    const form = exotel.placed[0]!.form;
    expect(form.Url).toBe(`http://my.exotel.com/${exotel.accountSid}/exoml/start_voice/123456`);
    expect(form.StreamUrl).toBeUndefined();
    // The flow's Voicebot applet asks our dynamic URL, with the call's CustomField.
    const init = await fetch(
      `${s.httpBase}/voicebot/init?CallSid=${callSid}&CallFrom=09812345670&CustomField=${id}`,
    );
    const { url } = (await init.json()) as { url: string };
    const ctx = new URL(url).searchParams.get('ctx');
    expect(ctx).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(await s.voicebot.store.getContext(ctx!, Date.now())).toMatchObject({
      agent: 'loan_hi',
      customer_name: 'Asha',
      outbound_id: id,
    });
  });
});

describe('refusing a call', () => {
  it('answers 400 with the reason for a bad number, agent or params, and places nothing', async () => {
    const s = await start();
    for (const [body, text] of [
      [{ to: '+14155550100' }, 'Indian number'],
      [{ to: '12345' }, '"to"'],
      [{}, '"to" must be a phone number'],
      [{ to: '9812345670', agent: 'nobody' }, '"agent" must name a loaded profile'],
      [{ to: '9812345670', params: { a: { b: 1 } } }, 'params.a'],
    ] as const) {
      const res = await place(s, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(text);
    }
    expect(exotel.placed).toEqual([]);
  });

  it('says what is missing when Exotel is not configured, and needs the admin key', async () => {
    const s = await start({ EXOTEL_API_TOKEN: '' });
    const res = await place(s, { to: '9812345670' });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'OUTBOUND_DISABLED',
    );
    const anonymous = await fetch(`${s.httpBase}/api/calls/outbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: '9812345670' }),
    });
    expect(anonymous.status).toBe(401);
  });

  it('reports what Exotel refused (wrong credentials) as 502 and keeps the failed row', async () => {
    const s = await start({ EXOTEL_API_KEY: 'wrong-key' });
    const res = await place(s, { to: '9812345670' });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('EXOTEL_REJECTED');
    expect(body.error.message).toContain('Authentication');
  });

  it('answers 429 with Retry-After when its own Exotel request budget is spent', async () => {
    const s = await start({ EXOTEL_API_PER_MINUTE: '2' });
    exotel.onDial(() => ({ outcome: 'busy', callback: 'never' }));
    expect((await place(s, { to: '9812345670' })).status).toBe(201);
    expect((await place(s, { to: '9812345671' })).status).toBe(201);
    const third = await place(s, { to: '9812345672' });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe(
      'EXOTEL_RATE_LIMITED',
    );
    expect(exotel.placed).toHaveLength(2);
  });

  it('holds to OUTBOUND_MAX_CALLS calls in progress', async () => {
    const s = await start({ OUTBOUND_MAX_CALLS: '1' });
    exotel.onDial(() => ({ outcome: 'busy', ringMs: 3_000 }));
    expect((await place(s, { to: '9812345670' })).status).toBe(201);
    const second = await place(s, { to: '9812345671' });
    expect(second.status).toBe(429);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('OUTBOUND_BUSY');
  });
});

describe('the answer check (voicemail)', () => {
  const VOICEMAIL =
    'The person you are calling is not available. Please leave a message after the beep.';
  const greetings = (s: TestServer) =>
    s.logs.filter((l) => l.msg === 'greeting started').map((l) => l.after);

  it('ends a call a voicemail greeting answers, says nothing to it, and keeps `voicemail` over Exotel\'s "completed"', async () => {
    // The default wait: a machine talks well before it is up.
    const s = await start({ OUTBOUND_GREET_AFTER_MS: '2000' });
    openai.transcriptions.setDefault({ kind: 'text', text: VOICEMAIL, ...STT });
    let sim: SimulatedCall | undefined;
    exotel.onDial(() => ({
      outcome: 'answer',
      talk: async (call) => {
        sim = call;
        // A machine starts talking as soon as it picks up, and goes on.
        await call.say(await fixture('hello-8k.wav', 8000));
        await call.closed();
      },
    }));
    const { id } = (await (await place(s, { to: '9812345670' })).json()) as { id: string };
    const done = await eventually(async () => {
      const v = await view(s, id);
      return v.record?.status === 'completed' && exotel.placed[0]?.callbacks.length === 2
        ? v
        : undefined;
    }, 20_000);
    expect(done.status).toBe('voicemail');
    expect(exotel.placed[0]!.callbacks.at(-1)).toMatchObject({ status: 'completed', answer: 200 });
    expect((await view(s, id)).status).toBe('voicemail');
    const record = (await (
      await fetch(`${s.httpBase}/api/calls/${done.record!.id}`, {
        headers: { authorization: `Bearer ${KEY}` },
      })
    ).json()) as { call: { endReason: string; hangupBy: string } };
    expect(record.call).toMatchObject({ endReason: 'voicemail', hangupBy: 'bot' });
    // Not a word to the machine: no greeting, no reply, no LLM request.
    expect(sim!.botAudio.length).toBe(0);
    expect(greetings(s)).toEqual([]);
    expect(openai.chat.requests).toHaveLength(0);
    const verdict = s.logs.find((l) => l.msg === 'answer check: a machine answered');
    expect(verdict?.cues).toEqual(expect.arrayContaining(['leave a message', 'after the beep']));
    // Fixed cue words are logged; the transcript is not.
    expect(JSON.stringify(s.logs)).not.toContain('The person you are calling');
  });

  it('greets as soon as a person says "hello", without waiting out the silence', async () => {
    const s = await start({ OUTBOUND_GREET_AFTER_MS: '6000' });
    openai.transcriptions.enqueue({ kind: 'text', text: 'Haan ji?', ...STT });
    exotel.onDial(() => ({
      outcome: 'answer',
      talk: async (call) => {
        const greeted = nextEcho(call, 'greeting_done');
        await call.say(await fixture('haan-16k.wav', 8000));
        await greeted;
        const answered = nextEcho(call, 'response_done');
        await call.say(await fixture('hello-8k.wav', 8000));
        await answered;
      },
    }));
    const { id } = (await (await place(s, { to: '9812345670' })).json()) as { id: string };
    const done = await eventually(async () => {
      const v = await view(s, id);
      return v.status === 'completed' && v.record?.status === 'completed' ? v : undefined;
    }, 20_000);
    expect(done.record!.turnCount).toBe(1);
    expect(greetings(s)).toEqual(['hello']);
    // The "hello" is answered by the greeting, not by a turn of its own.
    const userWords = openai.chat.requests.flatMap((r) =>
      r.body.messages.filter((m) => m.role === 'user').map((m) => m.content),
    );
    expect(userWords).not.toContain('Haan ji?');
  });

  it('greets a silent callee after OUTBOUND_GREET_AFTER_MS, and still hangs up on a machine that speaks after', async () => {
    const s = await start({ OUTBOUND_GREET_AFTER_MS: '300' });
    // STT well inside the endpoint's wait, so the preemptive transcript is always in before the
    // endpoint: a speculative reply would ask the LLM then, and it must not for words the answer
    // check judges. (With STT at PREEMPT_MS + STT = ENDPOINTING_MS the order was a coin toss.)
    openai.transcriptions.setDefault({
      kind: 'text',
      text: 'आप जिस नंबर पर कॉल कर रहे हैं वह अभी स्विच ऑफ है।',
      delayMs: 50,
    });
    exotel.onDial(() => ({
      outcome: 'answer',
      talk: async (call) => {
        await nextMark(call, 'greeting_done');
        await call.say(await fixture('hello-8k.wav', 8000));
        await call.closed();
      },
    }));
    const { id } = (await (await place(s, { to: '9812345670' })).json()) as { id: string };
    await eventually(async () => (await view(s, id)).status === 'voicemail', 20_000);
    expect(greetings(s)).toEqual(['silence']);
    // The machine's words ended the call before any reply was asked for.
    expect(openai.chat.requests).toHaveLength(0);
  });

  it('is off with OUTBOUND_VOICEMAIL_CHECK_MS=0: the bot greets at once', async () => {
    const s = await start({ OUTBOUND_VOICEMAIL_CHECK_MS: '0' });
    exotel.onDial(() => ({
      outcome: 'answer',
      talk: async (call) => {
        await nextEcho(call, 'greeting_done');
      },
    }));
    const { id } = (await (await place(s, { to: '9812345670' })).json()) as { id: string };
    await eventually(async () => (await view(s, id)).status === 'completed', 20_000);
    expect(greetings(s)).toEqual(['start']);
  });
});
