/**
 * Exotel's dynamic URL (`GET`/`POST /voicebot/init`): answers the wss URL the Voicebot applet
 * should stream to, carrying the call's identity and up to three extra custom parameters.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
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

/** The ws(s) base (scheme, host, path prefix) from PUBLIC_URL, or from the request. */
export function streamBase(publicUrl: string | undefined, request: FastifyRequest): string {
  if (publicUrl) {
    const u = new URL(publicUrl);
    const scheme = u.protocol === 'http:' || u.protocol === 'ws:' ? 'ws' : 'wss';
    return `${scheme}://${u.host}${u.pathname.replace(/\/+$/, '')}`;
  }
  const forwarded = firstHeader(request.headers['x-forwarded-proto']);
  const scheme = forwarded === 'http' ? 'ws' : 'wss';
  const host = firstHeader(request.headers['x-forwarded-host']) ?? request.host;
  return `${scheme}://${host}`;
}

export function registerVoicebotInit(app: FastifyInstance, publicUrl: string | undefined): void {
  const handler = (request: FastifyRequest) => {
    const params = { ...flatten(request.query), ...flatten(request.body) };
    const url = buildStreamUrl(streamBase(publicUrl, request), params);
    request.log.info({ customParams: Object.keys(params).length }, 'voicebot init');
    return { url, websocket_url: url } satisfies InitResult;
  };
  app.get('/voicebot/init', handler);
  app.post('/voicebot/init', handler);
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

function firstHeader(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  return v?.split(',')[0]?.trim() || undefined;
}
