/**
 * A fake of Exotel's REST API for outbound calls, strict where the real one is: HTTP Basic with
 * the account's key and token, the `Calls/connect` form (`From` a dialable number, `CallerId`,
 * `StreamUrl` ws(s) under 600 characters with `StreamType=bidirectional`, or a flow `Url`;
 * `TimeLimit` up to 14400; `CustomField` up to 128 characters), and a rolling per-minute request
 * limit answered with 429 and `Retry-After`. Then it behaves like Exotel: per dialled number it
 * answers and connects a real Exotel-protocol call (our simulator) to the `StreamUrl`, or reports
 * busy / no-answer / failed, and posts the status callbacks: on time, late, or never.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SimulatedCall } from '../../src/simulator/simulated-call.js';

export type Outcome = 'answer' | 'busy' | 'no-answer' | 'failed';

export interface Behaviour {
  outcome: Outcome;
  /** Ringing before the outcome. Default 50 ms. */
  ringMs?: number;
  /** When answered: what the caller does on the call; the call is hung up when it returns. */
  talk?: (call: SimulatedCall) => Promise<void>;
  /** The terminal callback: sent at once (default), after `callbackDelayMs`, or never. */
  callback?: 'on-time' | 'late' | 'never';
  /** The `answered` callback: sent (default) or lost. */
  answeredCallback?: 'on-time' | 'never';
  callbackDelayMs?: number;
}

export interface PlacedCall {
  sid: string;
  form: Record<string, string>;
  status: string;
  /** Callbacks posted, in order, with our server's answer. */
  callbacks: Array<{ status: string; event?: string; answer: number }>;
  done: Promise<void>;
  placedAt: number;
  /** When it reached its final status. */
  endedAt?: number;
}

export class FakeExotel {
  readonly placed: PlacedCall[] = [];
  /** Every request and its answer's status. */
  readonly requests: Array<{ method: string; path: string; status: number }> = [];
  /** Rejections, with Exotel's message: a test that expects none asserts this is empty. */
  readonly rejections: string[] = [];
  perMinute = 200;
  /** Calls between Exotel taking the request and its final status, now and at most. */
  inFlight = 0;
  maxInFlight = 0;
  /** The rate limit's window (Exotel's is a minute; tests shorten it). */
  windowMs = 60_000;
  /**
   * The next placements' answers go wrong: `taken` places the call, then resets the connection
   * before answering; `error` answers 500 without placing it.
   */
  readonly lostAnswers: Array<'taken' | 'error'> = [];
  private readonly times: number[] = [];
  private behave: (to: string) => Behaviour = () => ({ outcome: 'answer' });
  private active = new Set<SimulatedCall>();

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    readonly accountSid: string,
    readonly apiKey: string,
    readonly apiToken: string,
  ) {}

  static async start(): Promise<FakeExotel> {
    const holder: { fake?: FakeExotel } = {};
    const server = createServer((req, res) => void holder.fake!.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeExotel(
      server,
      `http://127.0.0.1:${port}`,
      'exoteltest1',
      'key_' + randomBytes(6).toString('hex'),
      'token_' + randomBytes(12).toString('hex'),
    );
    holder.fake = fake;
    return fake;
  }

  /** What happens when a number is dialled. */
  onDial(fn: (to: string) => Behaviour): void {
    this.behave = fn;
  }

  /** The environment for our server to use this fake. */
  env(): Record<string, string> {
    return {
      EXOTEL_API_URL: this.baseUrl,
      EXOTEL_ACCOUNT_SID: this.accountSid,
      EXOTEL_API_KEY: this.apiKey,
      EXOTEL_API_TOKEN: this.apiToken,
      EXOTEL_CALLER_ID: '08047491899',
    };
  }

  async close(): Promise<void> {
    for (const c of this.active) if (c.isOpen) await c.hangup().catch(() => undefined);
    await Promise.allSettled(this.placed.map((p) => p.done));
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private reply(res: ServerResponse, req: IncomingMessage, status: number, body: unknown) {
    this.requests.push({ method: req.method ?? '', path: req.url ?? '', status });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private reject(res: ServerResponse, req: IncomingMessage, status: number, message: string) {
    this.rejections.push(message);
    this.reply(res, req, status, { RestException: { Status: status, Message: message } });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const expected = `Basic ${Buffer.from(`${this.apiKey}:${this.apiToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      return this.reject(res, req, 401, 'Authentication is required to view this resource.');
    }
    const now = Date.now();
    while (this.times.length > 0 && this.times[0]! <= now - this.windowMs) this.times.shift();
    if (this.times.length >= this.perMinute) {
      const wait = Math.ceil((this.times[0]! + this.windowMs - now) / 1000);
      this.requests.push({ method: req.method ?? '', path: req.url ?? '', status: 429 });
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(wait) });
      res.end(JSON.stringify({ RestException: { Status: 429, Message: 'Too many requests' } }));
      return;
    }
    this.times.push(now);
    const base = `/v1/Accounts/${this.accountSid}/Calls`;
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method === 'POST' && path === `${base}/connect.json`)
      return this.connect(req, res, body);
    if (req.method === 'GET' && path === `${base}.json`) return this.list(req, res);
    const details = new RegExp(`^${base}/([^/]+)\\.json$`).exec(path);
    if (req.method === 'GET' && details) {
      const call = this.placed.find((p) => p.sid === decodeURIComponent(details[1]!));
      if (!call) return this.reject(res, req, 404, 'Call not found');
      return this.reply(res, req, 200, { Call: { Sid: call.sid, Status: call.status } });
    }
    return this.reject(res, req, 404, `No route ${req.method} ${path}`);
  }

  /**
   * Bulk call details, as Exotel filters them: `From` (up to 5 E.164 numbers), `DateCreated`
   * (`gte:…;lte:…` in India time, at most a month), `SortBy`, `PageSize` (up to 100). Calls
   * still ringing or in progress are not listed, as Exotel says of its API.
   */
  private list(req: IncomingMessage, res: ServerResponse): void {
    const q = new URL(req.url ?? '', 'http://x').searchParams;
    const problems: string[] = [];
    const froms = (q.get('From') ?? '').split(',').filter((f) => f !== '');
    if (froms.length > 5) problems.push('From takes at most 5 numbers');
    if (froms.some((f) => !/^\+\d{10,15}$/.test(f))) problems.push('From must be E.164');
    let range: [number, number] = [-Infinity, Infinity];
    const created = q.get('DateCreated');
    if (created !== null) {
      const m = /^gte:(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d);lte:(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$/.exec(
        created,
      );
      const ist = (t: string) => Date.parse(`${t.replace(' ', 'T')}+05:30`);
      if (!m) problems.push('DateCreated must be gte:YYYY-MM-DD HH:MM:SS;lte:YYYY-MM-DD HH:MM:SS');
      else {
        range = [ist(m[1]!), ist(m[2]!)];
        if (range[1] - range[0] > 31 * 86_400_000) problems.push('DateCreated spans over a month');
      }
    }
    const size = Number(q.get('PageSize') ?? 50);
    if (!(Number.isInteger(size) && size >= 1 && size <= 100)) {
      problems.push('PageSize must be 1 to 100');
    }
    const sort = q.get('SortBy') ?? 'DateCreated:desc';
    if (!/^DateCreated:(asc|desc)$/.test(sort))
      problems.push('SortBy must be DateCreated:asc|desc');
    if (problems.length > 0) return this.reject(res, req, 400, problems.join('; '));
    const calls = this.placed
      .filter((p) => p.endedAt !== undefined)
      .filter((p) => froms.length === 0 || froms.includes(p.form.From!))
      .filter((p) => p.placedAt >= range[0] && p.placedAt <= range[1] + 999)
      .sort((a, b) => (sort.endsWith('asc') ? 1 : -1) * (a.placedAt - b.placedAt))
      .slice(0, size)
      .map((p) => ({
        Sid: p.sid,
        DateCreated: new Date(p.placedAt).toLocaleString('sv-SE', { timeZone: 'Asia/Kolkata' }),
        From: p.form.From,
        To: p.form.CallerId,
        Status: p.status,
        Direction: 'outbound-api',
      }));
    this.reply(res, req, 200, {
      Metadata: { Total: calls.length, PageSize: size, FirstPageUri: null, NextPageUri: null },
      Calls: calls,
    });
  }

  private connect(req: IncomingMessage, res: ServerResponse, body: string): void {
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) {
      return this.reject(res, req, 400, 'Content-Type must be application/x-www-form-urlencoded');
    }
    const form = Object.fromEntries(new URLSearchParams(body));
    const problems: string[] = [];
    if (!/^(\+91[6-9]\d{9}|\+91[1-9]\d{9}|0\d{10}|[6-9]\d{9})$/.test(form.From ?? '')) {
      problems.push(`From is not a dialable number: ${form.From ?? '(missing)'}`);
    }
    if (!form.CallerId) problems.push('CallerId is required');
    if (form.StreamUrl !== undefined) {
      if (!/^wss?:\/\//.test(form.StreamUrl)) problems.push('StreamUrl must be ws:// or wss://');
      if (form.StreamUrl.length >= 600) problems.push('StreamUrl must be under 600 characters');
      if (form.StreamType !== 'bidirectional') problems.push('StreamType must be bidirectional');
    } else if (!form.Url) {
      problems.push('StreamUrl or Url is required');
    }
    if (
      form.TimeLimit !== undefined &&
      !(Number(form.TimeLimit) > 0 && Number(form.TimeLimit) <= 14_400)
    ) {
      problems.push('TimeLimit must be 1 to 14400');
    }
    if ((form.CustomField ?? '').length > 128) problems.push('CustomField is over 128 characters');
    if (form.StatusCallback !== undefined && !/^https?:\/\//.test(form.StatusCallback)) {
      problems.push('StatusCallback must be an http(s) URL');
    }
    if (problems.length > 0) return this.reject(res, req, 400, problems.join('; '));
    const lost = this.lostAnswers.shift();
    if (lost === 'error') {
      return this.reply(res, req, 500, { RestException: { Status: 500, Message: 'Internal' } });
    }

    const sid = randomBytes(16).toString('hex');
    const call: PlacedCall = {
      sid,
      form,
      status: 'queued',
      callbacks: [],
      done: Promise.resolve(),
      placedAt: Date.now(),
    };
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.placed.push(call);
    call.done = this.run(call, this.behave(form.From!));
    if (lost === 'taken') {
      this.requests.push({ method: req.method ?? '', path: req.url ?? '', status: -1 });
      req.socket.destroy();
      return;
    }
    this.reply(res, req, 200, {
      Call: { Sid: sid, Status: 'in-progress', From: form.From, PhoneNumberSid: form.CallerId },
    });
  }

  private async callback(call: PlacedCall, status: string, event?: string): Promise<void> {
    if (!call.form.StatusCallback) return;
    const form = new URLSearchParams({ CallSid: call.sid, Status: status, DateUpdated: '' });
    if (event) form.set('EventType', event);
    let answer = 0;
    try {
      const res = await fetch(call.form.StatusCallback, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      answer = res.status;
    } catch {
      answer = -1;
    }
    call.callbacks.push({ status, ...(event ? { event } : {}), answer });
  }

  private async run(call: PlacedCall, b: Behaviour): Promise<void> {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    call.status = 'ringing';
    await sleep(b.ringMs ?? 50);
    if (b.outcome === 'answer') {
      call.status = 'in-progress';
      if (b.answeredCallback !== 'never') await this.callback(call, 'in-progress', 'answered');
      if (call.form.StreamUrl) {
        const url = new URL(call.form.StreamUrl);
        const sim = new SimulatedCall({
          url: call.form.StreamUrl,
          sampleRate: Number(url.searchParams.get('sample-rate') ?? 8000),
          callSid: call.sid,
          from: call.form.From,
          to: call.form.CallerId,
        });
        this.active.add(sim);
        try {
          await sim.connect();
          sim.start();
          sim.startMic(20);
          await b.talk?.(sim);
          if (sim.isOpen) await sim.hangup();
        } catch {
          // Our server went away mid-call: Exotel ends the call all the same.
        } finally {
          this.active.delete(sim);
        }
      }
      call.status = 'completed';
    } else {
      call.status = b.outcome;
    }
    call.endedAt = Date.now();
    this.inFlight--;
    if (b.callback === 'never') return;
    if (b.callback === 'late') await sleep(b.callbackDelayMs ?? 2_000);
    await this.callback(call, call.status, 'terminal');
  }
}
