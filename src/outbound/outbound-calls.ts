/**
 * Placing calls (issue 12, step 1): `place()` checks the request, stores the call's context and
 * an outbound row, and asks Exotel to dial the number onto our `/was` (or into a flow); Exotel's
 * status callbacks move the row through ringing, answered and its final status; a call that goes
 * quiet (a callback lost) is looked up with Exotel's call details API. A call Exotel never
 * connects (busy, no answer, failed) still ends with a complete row.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AgentRegistry } from '../agents/index.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { MAX_CONTEXT_CHARS, MAX_CONTEXT_PARAMS, newContextId } from '../server/voicebot-init.js';
import type { CallStore, OutboundCall, OutboundStatus } from '../store/index.js';
import { WAS_PATH } from '../telephony/was-endpoint.js';
import type { ExotelApi, ExotelCall } from './exotel-api.js';
import { normaliseIndianNumber } from './phone-number.js';

/** The error code of an outbound row whose call Exotel never got (see findUnstoredCall). */
export const NOT_PLACED = 'OUTBOUND_NOT_PLACED';

export interface OutboundSettings {
  /** Our public base URL (PUBLIC_URL): Exotel dials into it and posts status to it. */
  publicUrl: string | undefined;
  callerId: string | undefined;
  accountSid: string | undefined;
  flowAppId: string | undefined;
  maxCalls: number;
  timeLimitS: number;
  sampleRate: number;
  checkAfterMs: number;
  contextTtlMs: number;
  /** Signs status callback URLs (Exotel sends no auth header on them). */
  secret: string | undefined;
}

export interface OutboundRequest {
  to: unknown;
  agent?: unknown;
  params?: unknown;
}

/** A request we refuse, with the HTTP status to answer. */
export class OutboundRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For a 429: when to try again. */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

/** A call asked for over HTTP waits at most this long for Exotel's request budget. */
const PLACE_MAX_WAIT_MS = 5_000;

/** Exotel's statuses as they may arrive (callbacks use `no-answer`; details may say `no_answer`). */
const STATUS_WORDS: Record<string, OutboundStatus> = {
  queued: 'queued',
  ringing: 'ringing',
  'in-progress': 'in-progress',
  in_progress: 'in-progress',
  answered: 'in-progress',
  completed: 'completed',
  busy: 'busy',
  'no-answer': 'no-answer',
  no_answer: 'no-answer',
  failed: 'failed',
  canceled: 'canceled',
  cancelled: 'canceled',
};

export function exotelStatus(word: string | undefined): OutboundStatus | undefined {
  return word === undefined ? undefined : STATUS_WORDS[word.trim().toLowerCase()];
}

const FINAL = new Set<OutboundStatus>(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

export class OutboundCalls {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  /** Calls this process is handing to Exotel now: not quiet, whatever their age. */
  private readonly placing = new Set<string>();

  constructor(
    private readonly deps: {
      store: CallStore;
      api: ExotelApi | undefined;
      agents: AgentRegistry;
      settings: OutboundSettings;
      logger: Logger;
    },
  ) {}

  private get log(): Logger {
    return this.deps.logger;
  }

  /** Checks the request and places the call; throws OutboundRequestError for a 4xx/5xx. */
  async place(
    req: OutboundRequest,
    opts: {
      /** The outbound id to use (a campaign picks it when it claims the row). */
      id?: string;
      /** A campaign paces itself: wait for Exotel's request budget however long it takes. */
      waitForBudget?: boolean;
    } = {},
  ): Promise<OutboundCall> {
    const { store, api, agents, settings } = this.deps;
    if (typeof req.to !== 'string') {
      throw new OutboundRequestError(400, 'OUTBOUND_BAD_REQUEST', '"to" must be a phone number');
    }
    const number = normaliseIndianNumber(req.to);
    if (!number.ok) {
      throw new OutboundRequestError(400, 'OUTBOUND_BAD_NUMBER', `"to" ${number.reason}`);
    }
    let agent: string | undefined;
    if (req.agent !== undefined) {
      if (typeof req.agent !== 'string' || !agents.get(req.agent)) {
        throw new OutboundRequestError(
          400,
          'OUTBOUND_BAD_REQUEST',
          `"agent" must name a loaded profile (${agents.names().join(', ') || 'none loaded'})`,
        );
      }
      agent = req.agent;
    }
    const params = checkParams(req.params);
    if (!api || !settings.callerId || !settings.accountSid) {
      throw new OutboundRequestError(
        503,
        'OUTBOUND_DISABLED',
        'outbound calls need EXOTEL_ACCOUNT_SID, EXOTEL_API_KEY, EXOTEL_API_TOKEN and EXOTEL_CALLER_ID',
      );
    }
    if (!settings.publicUrl) {
      throw new OutboundRequestError(
        503,
        'OUTBOUND_DISABLED',
        'outbound calls need PUBLIC_URL: Exotel connects the call to it and posts its status there',
      );
    }
    const wait = api.waitMs();
    if (!opts.waitForBudget && wait > PLACE_MAX_WAIT_MS) {
      const seconds = Math.ceil(wait / 1000);
      throw new OutboundRequestError(
        429,
        'EXOTEL_RATE_LIMITED',
        `Exotel's request budget (EXOTEL_API_PER_MINUTE) is spent; try again in ${seconds} s`,
        seconds,
      );
    }
    if ((await store.outbound.countActive()) >= settings.maxCalls) {
      throw new OutboundRequestError(
        429,
        'OUTBOUND_BUSY',
        `${settings.maxCalls} outbound calls are in progress (OUTBOUND_MAX_CALLS); try again when one ends`,
      );
    }

    const id = opts.id ?? randomUUID();
    const contextId = newContextId();
    const context = { ...params, ...(agent ? { agent } : {}), outbound_id: id };
    await store.putContext(contextId, context, Date.now() + settings.contextTtlMs);
    await store.outbound.insert({ id, to: number.e164, agent, params, contextId });
    const { streamUrl, statusCallback } = this.urls(id, contextId);
    this.placing.add(id);
    try {
      const call = await api.connect({
        to: number.e164,
        callerId: settings.callerId,
        ...(settings.flowAppId
          ? {
              flowUrl: `http://my.exotel.com/${settings.accountSid}/exoml/start_voice/${settings.flowAppId}`,
            }
          : { streamUrl }),
        timeLimitS: settings.timeLimitS,
        statusCallback,
        customField: id,
      });
      await store.outbound.update(id, {
        callSid: call.sid,
        status: exotelStatus(call.status) ?? 'queued',
      });
      this.log.info({ outboundId: id, callSid: call.sid }, 'outbound call placed');
    } catch (err) {
      const code = errorCode(err);
      if (code === 'EXOTEL_UNCERTAIN') {
        // Exotel may have taken it: placing it again could ring the callee twice. The row stays
        // without a Sid; callbacks, its stream or the call list (checkQuiet) settle it.
        this.log.warn(
          { code, outboundId: id },
          'outbound call may have been placed; to be checked',
        );
        return (await store.outbound.get(id))!;
      }
      const message = err instanceof Error ? err.message : String(err);
      await store.outbound
        .update(id, { status: 'failed', error: `${code}: ${message}`, endedAtMs: Date.now() })
        .catch(() => undefined);
      this.log.warn({ code, outboundId: id }, 'outbound call not placed');
      throw new OutboundRequestError(
        code === 'EXOTEL_REJECTED' ? 502 : 503,
        code,
        `Exotel did not place the call: ${message}`,
      );
    } finally {
      this.placing.delete(id);
    }
    return (await store.outbound.get(id))!;
  }

  private urls(id: string, contextId: string): { streamUrl: string; statusCallback: string } {
    const base = new URL(this.deps.settings.publicUrl!);
    const path = base.pathname.replace(/\/+$/, '');
    const ws = base.protocol === 'http:' ? 'ws' : 'wss';
    const q = new URLSearchParams({
      'sample-rate': String(this.deps.settings.sampleRate),
      ctx: contextId,
    });
    return {
      streamUrl: `${ws}://${base.host}${path}${WAS_PATH}?${q.toString()}`,
      statusCallback: `${base.protocol}//${base.host}${path}/exotel/status/${id}?sig=${this.sign(id)}`,
    };
  }

  private sign(id: string): string {
    return createHmac('sha256', this.deps.settings.secret ?? '')
      .update(`exotel-status:${id}`)
      .digest('base64url')
      .slice(0, 32);
  }

  /** True when `sig` is the signature of this call's status URL. */
  signatureValid(id: string, sig: unknown): boolean {
    if (typeof sig !== 'string' || !this.deps.settings.secret) return false;
    const expected = Buffer.from(this.sign(id));
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** A status callback: `Status` (and `EventType`) from Exotel's form. */
  async onStatus(id: string, fields: Record<string, string>): Promise<void> {
    const event = fields.EventType?.toLowerCase();
    const status =
      event === 'answered'
        ? 'in-progress'
        : event === 'ringing'
          ? 'ringing'
          : exotelStatus(fields.Status);
    if (!status) {
      this.log.warn(
        { code: 'EXOTEL_STATUS_UNKNOWN', outboundId: id },
        'status callback without a known status',
      );
      return;
    }
    const now = Date.now();
    await this.deps.store.outbound.update(id, {
      status,
      ...(fields.CallSid ? { callSid: fields.CallSid } : {}),
      ...(status === 'in-progress' ? { answeredAtMs: now } : {}),
      ...(FINAL.has(status) ? { endedAtMs: now } : {}),
    });
    this.log.info({ outboundId: id, status }, 'outbound call status');
  }

  /** Looks up calls that went quiet (a lost callback) every half of OUTBOUND_CHECK_AFTER_MS. */
  start(): void {
    const every = Math.max(100, Math.min(30_000, this.deps.settings.checkAfterMs / 2));
    this.timer = setInterval(() => void this.checkQuiet(), every);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async findUnstored(api: ExotelApi, call: OutboundCall): Promise<void> {
    const { store } = this.deps;
    let found: ExotelCall | undefined;
    try {
      found = await findUnstoredCall(api, store, call);
    } catch (err) {
      this.log.warn({ code: errorCode(err), outboundId: call.id }, 'call list failed');
      return;
    }
    if (found) {
      const status = exotelStatus(found.status) ?? 'queued';
      await store.outbound.update(call.id, {
        callSid: found.sid,
        status,
        ...(FINAL.has(status) ? { endedAtMs: Date.now() } : {}),
      });
      this.log.info({ outboundId: call.id, status }, "outbound call found in Exotel's call list");
      return;
    }
    await store.outbound.update(call.id, {
      status: 'failed',
      error: `${NOT_PLACED}: the server stopped before Exotel took the call`,
      endedAtMs: Date.now(),
    });
    this.log.warn({ code: NOT_PLACED, outboundId: call.id }, 'outbound call was never placed');
  }

  async checkQuiet(): Promise<number> {
    const { store, api, settings } = this.deps;
    if (!api || this.checking) return 0;
    this.checking = true;
    let checked = 0;
    try {
      const now = Date.now();
      const quiet = await store.outbound.quiet(
        now - settings.checkAfterMs,
        now - settings.checkAfterMs,
        20,
      );
      for (const call of quiet) {
        if (this.placing.has(call.id)) continue;
        checked++;
        await store.outbound.update(call.id, { checkedAtMs: Date.now() });
        if (!call.callSid) {
          await this.findUnstored(api, call);
          continue;
        }
        try {
          const details = await api.callDetails(call.callSid);
          const status = exotelStatus(details.status);
          if (status && status !== call.status) {
            await store.outbound.update(call.id, {
              status,
              ...(FINAL.has(status) ? { endedAtMs: Date.now() } : {}),
            });
            this.log.info({ outboundId: call.id, status }, 'outbound status from call details');
          }
        } catch (err) {
          this.log.warn({ code: errorCode(err), outboundId: call.id }, 'call details failed');
        }
      }
    } catch (err) {
      this.log.warn({ code: errorCode(err) }, 'quiet outbound calls not checked');
    } finally {
      this.checking = false;
    }
    return checked;
  }
}

/**
 * A call stored without a Sid: the server that placed it stopped before storing Exotel's answer,
 * or before sending the request at all. Exotel's call list tells which: a call from this number
 * created since the row was stored is this one (its CustomField is the row's id, when Exotel
 * returns it), and gets its Sid and status. None there: it was never placed, and ends `failed`
 * with OUTBOUND_NOT_PLACED, which a campaign does not count as an attempt (it dials the row
 * again). Exotel's list leaves out calls still in progress, but those send an `answered`
 * callback and connect to /was, either of which stores the Sid; one still ringing after
 * OUTBOUND_CHECK_AFTER_MS (two minutes by default) is unheard of. A failed look-up leaves the
 * row for the next check.
 */
async function findUnstoredCall(
  api: ExotelApi,
  store: CallStore,
  call: OutboundCall,
): Promise<ExotelCall | undefined> {
  const found = await api.findCalls({
    from: call.to,
    createdFromMs: call.createdAtMs - CLOCK_SKEW_MS,
    createdToMs: Date.now() + CLOCK_SKEW_MS,
  });
  const tagged = found.filter((c) => c.customField !== undefined);
  if (tagged.length > 0) return tagged.find((c) => c.customField === call.id);
  // Without CustomField: the earliest call to this number no other row has claimed.
  const known = await store.outbound.knownSids(found.map((c) => c.sid));
  return found.find((c) => !known.has(c.sid));
}

/** How far Exotel's clock and ours may disagree when looking a call up by its time. */
const CLOCK_SKEW_MS = 60_000;

function checkParams(input: unknown): Record<string, string> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new OutboundRequestError(400, 'OUTBOUND_BAD_REQUEST', '"params" must be an object');
  }
  const out: Record<string, string> = {};
  let chars = 0;
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new OutboundRequestError(
        400,
        'OUTBOUND_BAD_REQUEST',
        `params.${k} must be a string, number or boolean`,
      );
    }
    out[k] = String(v);
    chars += k.length + out[k].length;
  }
  if (Object.keys(out).length > MAX_CONTEXT_PARAMS || chars > MAX_CONTEXT_CHARS) {
    throw new OutboundRequestError(
      400,
      'OUTBOUND_BAD_REQUEST',
      `params are limited to ${MAX_CONTEXT_PARAMS} entries and ${MAX_CONTEXT_CHARS} characters`,
    );
  }
  return out;
}
