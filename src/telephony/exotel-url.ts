/**
 * What Exotel tells us through the WebSocket URL: the stream's sample rate and up to three
 * custom parameters (see /work/shared/exotel-protocol.md, section 1). Pure functions.
 *
 * The URL's `sample-rate` is what configures Exotel's audio; `start.media_format.sample_rate`
 * only describes it, so the URL wins when both are present.
 */

import type { ErrorCode } from '../errors.js';

export const SUPPORTED_SAMPLE_RATES = [8000, 16000, 24000] as const;

export type SampleRate = (typeof SUPPORTED_SAMPLE_RATES)[number];

/** Exotel's default when the URL names no rate (PSTN narrowband). */
export const DEFAULT_SAMPLE_RATE: SampleRate = 8000;

export interface StreamQuery {
  /**
   * Hz, from `sample-rate` (or `sample_rate`). `NaN` when present but not a decimal integer,
   * so that `resolveSampleRate` rejects it instead of silently falling back to a default.
   */
  sampleRate?: number;
  callSid?: string;
  callLogId?: string;
  from?: string;
  to?: string;
  /** Every other query parameter, first value wins. */
  custom: Record<string, string>;
}

// Recognised names, in order of preference; all of them are kept out of `custom`.
const SAMPLE_RATE_KEYS = ['sample-rate', 'sample_rate', 'sampleRate'];
const CALL_SID_KEYS = ['call_sid', 'CallSid', 'callSid'];
const CALL_LOG_ID_KEYS = ['callLogId', 'call_log_id', 'CallLogId'];
const FROM_KEYS = ['from', 'From'];
const TO_KEYS = ['to', 'To'];
const KNOWN_KEYS = new Set([
  ...SAMPLE_RATE_KEYS,
  ...CALL_SID_KEYS,
  ...CALL_LOG_ID_KEYS,
  ...FROM_KEYS,
  ...TO_KEYS,
]);

/**
 * Reads the WebSocket upgrade request's query. Accepts a `URLSearchParams` or a plain record
 * (as a framework's parsed `request.query`); `undefined` values count as absent.
 */
export function parseStreamQuery(
  search: URLSearchParams | Record<string, string | undefined>,
): StreamQuery {
  const params = new Map<string, string>();
  const pairs = search instanceof URLSearchParams ? search.entries() : Object.entries(search);
  for (const [key, value] of pairs) {
    if (value !== undefined && !params.has(key)) params.set(key, value);
  }

  const rate = firstOf(params, SAMPLE_RATE_KEYS);
  const custom: [string, string][] = [];
  for (const [key, value] of params) {
    if (!KNOWN_KEYS.has(key)) custom.push([key, value]);
  }
  return {
    sampleRate: rate === undefined ? undefined : /^\d+$/.test(rate) ? Number(rate) : NaN,
    callSid: firstOf(params, CALL_SID_KEYS),
    callLogId: firstOf(params, CALL_LOG_ID_KEYS),
    from: firstOf(params, FROM_KEYS),
    to: firstOf(params, TO_KEYS),
    // fromEntries defines own properties, so a `__proto__` key stays a plain key.
    custom: Object.fromEntries(custom),
  };
}

export type SampleRateResult =
  | { ok: true; rate: SampleRate }
  | { ok: false; error: { code: Extract<ErrorCode, 'SAMPLE_RATE_UNSUPPORTED'>; message: string } };

/**
 * Picks the stream's sample rate: the URL's if given, else `start.media_format.sample_rate`,
 * else 8000. A given rate that is not 8000, 16000 or 24000 (including `NaN`) is an error, never
 * a silent fallback: audio at the wrong rate plays too fast or too slow.
 */
export function resolveSampleRate(
  urlRate: number | undefined,
  startRate: number | undefined,
): SampleRateResult {
  const rate = urlRate ?? startRate ?? DEFAULT_SAMPLE_RATE;
  if (isSupportedSampleRate(rate)) return { ok: true, rate };
  const source = urlRate === undefined ? 'start.media_format.sample_rate' : 'URL sample-rate';
  return {
    ok: false,
    error: {
      code: 'SAMPLE_RATE_UNSUPPORTED',
      message: Number.isFinite(rate)
        ? `${source} ${rate} is not one of ${SUPPORTED_SAMPLE_RATES.join(', ')}`
        : `${source} is not a number`,
    },
  };
}

export function isSupportedSampleRate(rate: number): rate is SampleRate {
  return (SUPPORTED_SAMPLE_RATES as readonly number[]).includes(rate);
}

function firstOf(params: Map<string, string>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = params.get(key);
    if (value !== undefined) return value;
  }
  return undefined;
}
