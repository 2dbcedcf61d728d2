/**
 * Exotel's dynamic URL (`GET`/`POST /voicebot/init`): answers the wss URL the Voicebot applet
 * should stream to. Extra parameters (customer name, agent, language...) are stored server side
 * under a short id with an expiry, so the URL carries only `sample-rate`, `call_sid` and
 * `ctx=<id>` and stays within Exotel's limits however much context there is. When the database
 * is down, parameters that fit Exotel's limits go inline instead.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { BlockList } from 'node:net';
import { addressList, listed } from '../addresses.js';
import { errorCode } from '../errors.js';
import type { CallStore } from '../store/index.js';
import { WAS_PATH } from '../telephony/was-endpoint.js';

/** Exotel's own limits on a Voicebot URL's custom parameters. */
export const MAX_CUSTOM_PARAMS = 3;
export const MAX_CUSTOM_PARAM_CHARS = 256;
export const STREAM_SAMPLE_RATE = 16000;

/** Parameters Exotel adds to every flow request: never forwarded as custom parameters. */
const EXOTEL_FLOW_PARAMS = new Set(
  [
    'CallSid',
    'CallFrom',
    'CallTo',
    'Direction',
    'Created',
    'DialCallDuration',
    'StartTime',
    'EndTime',
    'CallType',
    'DialWhomNumber',
    'From',
    'To',
    'flow_id',
    'tenant_id',
    'CurrentTime',
    'DialCallStatus',
    'ForwardedFrom',
    'OutgoingPhoneNumber',
    'RecordingUrl',
    'ProcessStatus',
    'digits',
    'DigitsRaw',
    'CustomField',
    'Legs',
    'AccountSid',
    'Status',
    'CallStatus',
  ].map((k) => k.toLowerCase()),
);

export interface InitResult {
  url: string;
  websocket_url: string;
}

export class InitParamsError extends Error {
  readonly code = 'INIT_PARAMS_INVALID';
}

/** Builds the wss URL from Exotel's request parameters (query and body merged; body wins). */
export function buildStreamUrl(base: string, params: Record<string, string>): string {
  const pick = (...keys: string[]) =>
    keys.map((k) => params[k]).find((v) => v !== undefined && v !== '');
  const extras = Object.entries(params).filter(([k]) => !EXOTEL_FLOW_PARAMS.has(k.toLowerCase()));
  if (extras.length > MAX_CUSTOM_PARAMS) {
    throw new InitParamsError(
      `at most ${MAX_CUSTOM_PARAMS} custom parameters fit in an Exotel stream URL; got ${extras.length} (${extras.map(([k]) => k).join(', ')})`,
    );
  }
  const customPart = new URLSearchParams(extras).toString();
  if (customPart.length > MAX_CUSTOM_PARAM_CHARS) {
    throw new InitParamsError(
      `custom parameters must fit in ${MAX_CUSTOM_PARAM_CHARS} characters once URL-encoded; got ${customPart.length}`,
    );
  }
  const q = new URLSearchParams({ 'sample-rate': String(STREAM_SAMPLE_RATE) });
  const callSid = pick('CallSid', 'call_sid');
  const from = pick('CallFrom', 'From', 'from');
  const to = pick('CallTo', 'To', 'to');
  if (callSid) q.set('call_sid', callSid);
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  const query = customPart ? `${q.toString()}&${customPart}` : q.toString();
  return `${base}${WAS_PATH}?${query}`;
}

/**
 * The ws(s) base (scheme, host, path prefix) from PUBLIC_URL, or from the request: its Host, or
 * the `X-Forwarded-Host`/`-Proto` of a trusted proxy (`request.host`/`protocol` apply
 * TRUSTED_PROXIES). `wss` unless a trusted proxy says the client came over plain http, because
 * Exotel needs TLS and the server usually sits behind a proxy that ends it.
 */
export function streamBase(
  publicUrl: string | undefined,
  request: FastifyRequest,
  trustedProxies: BlockList,
): string {
  if (publicUrl) {
    const u = new URL(publicUrl);
    const scheme = u.protocol === 'http:' || u.protocol === 'ws:' ? 'ws' : 'wss';
    return `${scheme}://${u.host}${u.pathname.replace(/\/+$/, '')}`;
  }
  const peer = request.socket.remoteAddress ?? '';
  const proxied =
    request.headers['x-forwarded-proto'] !== undefined && listed(trustedProxies, peer);
  const scheme = proxied && request.protocol === 'http' ? 'ws' : 'wss';
  return `${scheme}://${request.host}`;
}

/** Bounds on what one call's context may hold. */
export const MAX_CONTEXT_PARAMS = 32;
/** Room for a persona's documents (MAX_DOCUMENT_CHARS, 6000 by default) and the rest. */
export const MAX_CONTEXT_CHARS = 16_000;
const CTX_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A 12-character random id (about 71 bits). */
export function newContextId(): string {
  const bytes = randomBytes(12);
  let id = '';
  for (const b of bytes) id += CTX_ALPHABET[b % CTX_ALPHABET.length];
  return id;
}

export interface InitOptions {
  publicUrl: string | undefined;
  store: CallStore;
  contextTtlMs: number;
  /** Exotel's credentials and addresses (exotel-auth.ts), checked first. */
  guard: preHandlerAsyncHookHandler;
  /** Proxies whose X-Forwarded-Proto is believed. */
  trustedProxies: readonly string[];
}

export function registerVoicebotInit(app: FastifyInstance, opts: InitOptions): void {
  const trusted = addressList(opts.trustedProxies, 'TRUSTED_PROXIES');
  const handler = async (request: FastifyRequest) => {
    const params = { ...flatten(request.query), ...flatten(request.body) };
    const base = streamBase(opts.publicUrl, request, trusted);
    const callSid = params.CallSid ?? params.call_sid;
    const context = contextParams(params);
    let url: string;
    // An outbound call placed into a flow (EXOTEL_FLOW_APP_ID): its CustomField is our outbound
    // id, whose stored context (agent, parameters) the stream takes.
    const placed = params.CustomField
      ? await opts.store.outbound.get(params.CustomField).catch(() => undefined)
      : undefined;
    if (placed?.contextId) {
      const q = new URLSearchParams({ 'sample-rate': String(STREAM_SAMPLE_RATE) });
      if (callSid) q.set('call_sid', callSid);
      q.set('ctx', placed.contextId);
      url = `${base}${WAS_PATH}?${q.toString()}`;
    } else if (Object.keys(context).length === 0) {
      url = buildStreamUrl(base, callSid ? { CallSid: callSid } : {});
    } else {
      const id = newContextId();
      try {
        await opts.store.putContext(id, context, Date.now() + opts.contextTtlMs);
        const q = new URLSearchParams({ 'sample-rate': String(STREAM_SAMPLE_RATE) });
        if (callSid) q.set('call_sid', callSid);
        q.set('ctx', id);
        url = `${base}${WAS_PATH}?${q.toString()}`;
      } catch (err) {
        // The database is down: inline what fits Exotel's limits, refuse what does not.
        request.log.warn(
          { code: errorCode(err) },
          'call context not stored; passing parameters inline',
        );
        url = buildStreamUrl(base, params);
      }
    }
    request.log.info({ contextParams: Object.keys(context).length }, 'voicebot init');
    return { url, websocket_url: url } satisfies InitResult;
  };
  app.get('/voicebot/init', { onRequest: opts.guard }, handler);
  app.post('/voicebot/init', { onRequest: opts.guard }, handler);
}

/** Everything worth keeping for the call: the caller's numbers and every non-Exotel parameter. */
function contextParams(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const from = params.CallFrom ?? params.From ?? params.from;
  const to = params.CallTo ?? params.To ?? params.to;
  if (from) out.from = from;
  if (to) out.to = to;
  let chars = 0;
  for (const [k, v] of Object.entries(params)) {
    if (EXOTEL_FLOW_PARAMS.has(k.toLowerCase()) || k === 'call_sid' || k === 'from' || k === 'to')
      continue;
    out[k] = v;
    chars += k.length + v.length;
  }
  if (Object.keys(out).length > MAX_CONTEXT_PARAMS || chars > MAX_CONTEXT_CHARS) {
    throw new InitParamsError(
      `call context is limited to ${MAX_CONTEXT_PARAMS} parameters and ${MAX_CONTEXT_CHARS} characters`,
    );
  }
  return out;
}

function flatten(input: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!input || typeof input !== 'object') return out;
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    const value = Array.isArray(v) ? (v as unknown[])[0] : v;
    if (typeof value === 'string') out[k] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[k] = String(value);
    else if (value !== null && value !== undefined) {
      throw new InitParamsError(`parameter ${k} must be a string, number or boolean`);
    }
  }
  return out;
}
