/**
 * Exotel's REST API, the calls outbound needs: "connect a number to a voice bot"
 * (`POST /v1/Accounts/{sid}/Calls/connect.json`: `From`, `CallerId`, `StreamUrl` and
 * `StreamType=bidirectional`, or `Url` to start a flow instead) and the call details
 * (`GET /v1/Accounts/{sid}/Calls/{CallSid}.json`, and in bulk `GET …/Calls.json` with filters),
 * with HTTP Basic `key:token`.
 *
 * Exotel allows about 200 requests a minute per account: requests wait for a slot in a rolling
 * window (shared by everything this process sends), and a 429 is retried after its
 * `Retry-After` (or a growing pause). Other failures are coded: EXOTEL_REJECTED (4xx: our
 * request was wrong; not retried), EXOTEL_UNAVAILABLE (5xx or the network, retried a few times).
 * A call placement is not idempotent: one whose answer is lost (a timeout, a reset, a 5xx) may
 * have been taken, so it is not sent again but fails EXOTEL_UNCERTAIN; only one that never
 * reached Exotel (connection refused) is retried.
 * See developer.exotel.com "Connect Voice AI API" and "Call details".
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { VoicebotError, networkCode } from '../errors.js';

export interface ExotelApiOptions {
  /** `https://api.in.exotel.com` (Mumbai) or `https://api.exotel.com` (Singapore). */
  baseUrl: string;
  accountSid: string;
  apiKey: string;
  apiToken: string;
  /** Requests a minute (Exotel: 200). */
  perMinute?: number;
  /** Attempts for a 429 or a 5xx/network failure, in all. */
  attempts?: number;
  /** Longest single request. */
  timeoutMs?: number;
  /** Injected in tests. */
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ConnectRequest {
  /** E.164. */
  to: string;
  callerId: string;
  /** ws(s) URL of our `/was` (under 600 characters), or… */
  streamUrl?: string;
  /** …an Exotel flow to start (`http://my.exotel.com/{sid}/exoml/start_voice/{app_id}`). */
  flowUrl?: string;
  timeLimitS?: number;
  statusCallback?: string;
  customField?: string;
}

/** What Exotel says of a call (its `Call` object, the fields we use). */
export interface ExotelCall {
  sid: string;
  /** queued, ringing, in-progress, completed, failed, busy, no-answer, canceled. */
  status: string;
  /** The `CustomField` we placed it with, when Exotel returns it. */
  customField?: string;
  startTime?: string;
  endTime?: string;
  duration?: number;
}

export const STREAM_URL_MAX = 600;
export const CUSTOM_FIELD_MAX = 128;

export class ExotelApi {
  private readonly perMinute: number;
  private readonly sent: number[] = [];
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly auth: string;

  constructor(private readonly opts: ExotelApiOptions) {
    this.perMinute = opts.perMinute ?? 200;
    this.fetch = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => sleep(ms));
    this.auth = `Basic ${Buffer.from(`${opts.apiKey}:${opts.apiToken}`).toString('base64')}`;
  }

  private url(path: string): string {
    const base = this.opts.baseUrl.replace(/\/+$/, '');
    return `${base}/v1/Accounts/${encodeURIComponent(this.opts.accountSid)}${path}`;
  }

  async connect(req: ConnectRequest): Promise<ExotelCall> {
    if (!req.streamUrl === !req.flowUrl) {
      throw new VoicebotError('EXOTEL_REJECTED', 'connect needs a StreamUrl or a flow Url');
    }
    if (req.streamUrl && req.streamUrl.length >= STREAM_URL_MAX) {
      throw new VoicebotError(
        'EXOTEL_REJECTED',
        `StreamUrl is ${req.streamUrl.length} characters; Exotel takes under ${STREAM_URL_MAX}`,
      );
    }
    const form = new URLSearchParams({ From: req.to, CallerId: req.callerId });
    if (req.streamUrl) {
      form.set('StreamUrl', req.streamUrl);
      form.set('StreamType', 'bidirectional');
    } else {
      form.set('Url', req.flowUrl!);
    }
    if (req.timeLimitS !== undefined) form.set('TimeLimit', String(req.timeLimitS));
    if (req.customField) form.set('CustomField', req.customField.slice(0, CUSTOM_FIELD_MAX));
    if (req.statusCallback) {
      form.set('StatusCallback', req.statusCallback);
      form.append('StatusCallbackEvents[0]', 'terminal');
      form.append('StatusCallbackEvents[1]', 'answered');
    }
    const body = await this.request('POST', '/Calls/connect.json', form);
    return callFrom(body);
  }

  async callDetails(callSid: string): Promise<ExotelCall> {
    const body = await this.request('GET', `/Calls/${encodeURIComponent(callSid)}.json`);
    return callFrom(body);
  }

  /**
   * Calls placed from `from` (the number dialled first: our callee) created between the two
   * times, from the bulk call details API (`GET /Calls.json?From=…&DateCreated=gte:…;lte:…`).
   * Exotel lists only calls that ended; its times are India time. Used to find a call our server
   * handed to Exotel but died before storing its Sid.
   */
  async findCalls(q: {
    from: string;
    createdFromMs: number;
    createdToMs: number;
  }): Promise<ExotelCall[]> {
    const query = new URLSearchParams({
      From: q.from,
      DateCreated: `gte:${exotelTime(q.createdFromMs)};lte:${exotelTime(q.createdToMs)}`,
      SortBy: 'DateCreated:asc',
      PageSize: '100',
    });
    const body = await this.request('GET', `/Calls.json?${query.toString()}`);
    const calls = (body as { Calls?: unknown } | null)?.Calls;
    if (!Array.isArray(calls)) {
      throw new VoicebotError('EXOTEL_UNAVAILABLE', 'Exotel answered the call list without Calls');
    }
    return (calls as unknown[]).map((c) => callFrom({ Call: c }));
  }

  /** How long a request sent now would wait for a slot in the rolling minute (0: none). */
  waitMs(): number {
    const now = this.now();
    while (this.sent.length > 0 && this.sent[0]! <= now - 60_000) this.sent.shift();
    return this.sent.length < this.perMinute ? 0 : this.sent[0]! + 60_000 - now + 1;
  }

  /** Waits for a slot in the rolling minute. */
  private async slot(): Promise<void> {
    for (;;) {
      const now = this.now();
      while (this.sent.length > 0 && this.sent[0]! <= now - 60_000) this.sent.shift();
      if (this.sent.length < this.perMinute) {
        this.sent.push(now);
        return;
      }
      await this.sleep(this.sent[0]! + 60_000 - now + 1);
    }
  }

  private async request(
    method: 'GET' | 'POST',
    path: string,
    form?: URLSearchParams,
  ): Promise<unknown> {
    const attempts = this.opts.attempts ?? 4;
    let last: VoicebotError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await this.slot();
      let res: Response;
      try {
        res = await this.fetch(this.url(path), {
          method,
          headers: {
            authorization: this.auth,
            accept: 'application/json',
            ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          ...(form ? { body: form.toString() } : {}),
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
        });
      } catch (err) {
        if (method === 'POST' && !neverReached(err)) {
          throw new VoicebotError(
            'EXOTEL_UNCERTAIN',
            `Exotel's answer was lost (${String(err)}); it may have taken the request`,
            { cause: err },
          );
        }
        last = new VoicebotError('EXOTEL_UNAVAILABLE', `Exotel did not answer: ${String(err)}`, {
          retryable: true,
          cause: err,
        });
        await this.sleep(500 * attempt);
        continue;
      }
      const text = await res.text();
      if (res.ok) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new VoicebotError(
            'EXOTEL_UNAVAILABLE',
            'Exotel answered something other than JSON',
          );
        }
      }
      const message = exotelMessage(text) ?? `HTTP ${res.status}`;
      if (res.status === 429) {
        const after = Number(res.headers.get('retry-after'));
        last = new VoicebotError('EXOTEL_RATE_LIMITED', `Exotel: ${message}`, { retryable: true });
        await this.sleep(Number.isFinite(after) && after > 0 ? after * 1000 : 1000 * 2 ** attempt);
        continue;
      }
      if (res.status >= 500 && method === 'POST') {
        throw new VoicebotError(
          'EXOTEL_UNCERTAIN',
          `Exotel failed (${res.status}: ${message}); it may have taken the request`,
        );
      }
      if (res.status >= 500) {
        last = new VoicebotError('EXOTEL_UNAVAILABLE', `Exotel: ${message}`, { retryable: true });
        await this.sleep(500 * attempt);
        continue;
      }
      throw new VoicebotError('EXOTEL_REJECTED', `Exotel refused (${res.status}): ${message}`);
    }
    throw last ?? new VoicebotError('EXOTEL_UNAVAILABLE', 'Exotel did not answer');
  }
}

/** A connection refused or a name not found: the request never reached Exotel. */
function neverReached(err: unknown): boolean {
  const code = networkCode(err);
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
}

/** Exotel's error text: `{"RestException": {"Message": …}}` in JSON. */
function exotelMessage(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { RestException?: { Message?: unknown } };
    const m = body.RestException?.Message;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return text.slice(0, 200) || undefined;
  }
}

function callFrom(body: unknown): ExotelCall {
  const call = (body as { Call?: Record<string, unknown> } | null)?.Call;
  const sid = call?.Sid;
  if (!call || typeof sid !== 'string' || sid === '') {
    throw new VoicebotError('EXOTEL_UNAVAILABLE', 'Exotel answered without a Call Sid');
  }
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const duration = Number(call.Duration);
  return {
    sid,
    status: str(call.Status) ?? 'queued',
    ...(str(call.CustomField) ? { customField: str(call.CustomField) } : {}),
    ...(str(call.StartTime) ? { startTime: str(call.StartTime) } : {}),
    ...(str(call.EndTime) ? { endTime: str(call.EndTime) } : {}),
    ...(Number.isFinite(duration) && call.Duration !== null && call.Duration !== ''
      ? { duration }
      : {}),
  };
}

/** `YYYY-MM-DD HH:MM:SS` in India time, as Exotel's filters take it. */
export function exotelTime(ms: number): string {
  // sv-SE formats as ISO date and 24-hour time.
  return new Date(ms).toLocaleString('sv-SE', { timeZone: 'Asia/Kolkata', hour12: false });
}
