/**
 * Exotel Voicebot wire codec: JSON text frames to typed events and back.
 *
 * Pure translation, nothing else: no sockets, timers or logging. Ordering rules (media before
 * start) and binary frames belong to the WebSocket endpoint. See /work/shared/exotel-protocol.md.
 *
 * Inbound we read every spelling real traffic uses (snake_case and camelCase keys, numbers as
 * strings or integers); outbound we write exactly the documented snake_case shapes.
 *
 * Error messages name the offending field but never echo frame contents: frames carry phone
 * numbers and caller audio.
 */

import { decodeBase64Strict, encodeBase64 } from '../audio/pcm.js';
import type { ErrorCode } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// Inbound events

export interface ConnectedEvent {
  event: 'connected';
}

export interface MediaFormat {
  /** Informational only (`audio/x-raw` or `raw` in the wild); audio is always PCM16LE mono. */
  encoding?: string;
  /** Hz. The WebSocket URL's `sample-rate` takes precedence: see `resolveSampleRate`. */
  sampleRate?: number;
  /** Informational only (`16` or `128` in the wild); undefined when not numeric. */
  bitRate?: number;
}

export interface StartEvent {
  event: 'start';
  sequenceNumber?: number;
  /**
   * Absent in some of Exotel's own material (its test client, an older reference): Exotel tells
   * streams apart by the socket, so a call runs without one and frames go out without it.
   */
  streamSid?: string;
  callSid?: string;
  accountSid?: string;
  from?: string;
  to?: string;
  /** Always present (empty when the frame has none). Values are strings; see `decode`. */
  customParameters: Record<string, string>;
  mediaFormat?: MediaFormat;
}

export interface MediaEvent {
  event: 'media';
  sequenceNumber?: number;
  streamSid?: string;
  chunk?: number;
  /** Milliseconds since the stream started, as Exotel reports it. */
  timestamp?: number;
  /** Decoded PCM16LE mono bytes at the stream's sample rate. */
  payload: Buffer;
}

export interface DtmfEvent {
  event: 'dtmf';
  sequenceNumber?: number;
  streamSid?: string;
  /** One of `0-9`, `*`, `#`, `A-D` (lower-case `a-d` is upper-cased). */
  digit: string;
  durationMs?: number;
}

export interface MarkEvent {
  event: 'mark';
  sequenceNumber?: number;
  streamSid?: string;
  name: string;
}

export interface StopEvent {
  event: 'stop';
  sequenceNumber?: number;
  streamSid?: string;
  callSid?: string;
  accountSid?: string;
  /** Free text; Exotel sends `stopped` (applet ended) or `callended` (caller hung up). */
  reason?: string;
}

/** Exotel never sends `clear`; other bridges do, as a barge-in signal. */
export interface ClearEvent {
  event: 'clear';
  streamSid?: string;
}

export type InboundEvent =
  ConnectedEvent | StartEvent | MediaEvent | DtmfEvent | MarkEvent | StopEvent | ClearEvent;

export type InboundEventName = InboundEvent['event'];

export type FrameErrorCode = Extract<
  ErrorCode,
  'FRAME_JSON' | 'FRAME_SHAPE' | 'FRAME_UNKNOWN_EVENT' | 'FRAME_BASE64' | 'FRAME_TOO_LARGE'
>;

export interface FrameError {
  code: FrameErrorCode;
  /** Log-safe: names the field at fault, never contains frame contents. */
  message: string;
}

export type DecodeResult = { ok: true; event: InboundEvent } | { ok: false; error: FrameError };

export interface DecodeOptions {
  /** Largest accepted frame, in UTF-8 bytes. Default `DEFAULT_MAX_FRAME_BYTES`. */
  maxBytes?: number;
}

/** 1 MiB: about 80 s of 24 kHz audio in one frame, far above anything Exotel sends. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Decoding

type JsonObject = Record<string, unknown>;

const DIGIT = /^[0-9*#A-D]$/;
const NUMERIC = /^\s*\d+(?:\.\d+)?\s*$/;

/**
 * Decodes one inbound text frame. Never throws for bad input: every problem comes back as a
 * coded error. Tolerance decisions:
 * - keys in snake_case or camelCase; `stream_sid` of `start` inside `start` or at top level;
 * - numeric fields as non-negative numbers or decimal strings; anything else is FRAME_SHAPE,
 *   except `bit_rate`, which is informational and becomes undefined;
 * - `null` counts as absent;
 * - custom parameter values: strings kept, numbers and booleans stringified, `null`, objects
 *   and arrays dropped (Exotel's come from URL query strings, so they are flat by nature; a
 *   nested value from another bridge should not fail the whole call);
 * - unknown keys are ignored.
 */
export function decode(text: string, options?: DecodeOptions): DecodeResult {
  const maxBytes = options?.maxBytes ?? DEFAULT_MAX_FRAME_BYTES;
  // A UTF-16 code unit is 1 to 3 UTF-8 bytes: count bytes only in the uncertain band.
  if (
    text.length > maxBytes ||
    (text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes)
  ) {
    return fail('FRAME_TOO_LARGE', `frame is larger than ${maxBytes} bytes`);
  }

  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return fail('FRAME_JSON', 'frame is not valid JSON');
  }
  if (!isObject(frame)) return fail('FRAME_JSON', 'frame is not a JSON object');

  try {
    return { ok: true, event: decodeFrame(frame) };
  } catch (err) {
    if (err instanceof FrameFault) return fail(err.code, err.message);
    throw err;
  }
}

function decodeFrame(frame: JsonObject): InboundEvent {
  const name = frame['event'];
  switch (name) {
    case 'media':
      return decodeMedia(frame);
    case 'start':
      return decodeStart(frame);
    case 'mark':
      return decodeMark(frame);
    case 'dtmf':
      return decodeDtmf(frame);
    case 'stop':
      return decodeStop(frame);
    case 'connected':
      return { event: 'connected' };
    case 'clear':
      return { event: 'clear', streamSid: streamSidOf(frame) };
    case undefined:
    case null:
      throw new FrameFault('FRAME_UNKNOWN_EVENT', 'frame has no event');
    default:
      // The name is frame content too, so it is not quoted back.
      throw new FrameFault('FRAME_UNKNOWN_EVENT', 'unknown event');
  }
}

function decodeMedia(frame: JsonObject): MediaEvent {
  const media = requiredBody(frame, 'media');
  const b64 = media['payload'];
  if (typeof b64 !== 'string') throw shape('media.payload', 'a base64 string');
  const payload = decodeBase64Strict(b64);
  if (payload === null) throw new FrameFault('FRAME_BASE64', 'media.payload is not base64');
  return {
    event: 'media',
    sequenceNumber: sequenceNumberOf(frame),
    streamSid: streamSidOf(frame),
    chunk: optNumber(media['chunk'], 'media.chunk'),
    timestamp: optNumber(media['timestamp'], 'media.timestamp'),
    payload,
  };
}

function decodeStart(frame: JsonObject): StartEvent {
  const start = optionalBody(frame, 'start') ?? {};
  const streamSid =
    optString(either(start, 'stream_sid', 'streamSid'), 'start.stream_sid') ?? streamSidOf(frame);
  return {
    event: 'start',
    sequenceNumber: sequenceNumberOf(frame),
    ...(streamSid ? { streamSid } : {}),
    callSid: optString(either(start, 'call_sid', 'callSid'), 'start.call_sid'),
    accountSid: optString(either(start, 'account_sid', 'accountSid'), 'start.account_sid'),
    from: optString(start['from'], 'start.from'),
    to: optString(start['to'], 'start.to'),
    customParameters: customParametersOf(start),
    mediaFormat: mediaFormatOf(start),
  };
}

function decodeDtmf(frame: JsonObject): DtmfEvent {
  const dtmf = requiredBody(frame, 'dtmf');
  const raw = dtmf['digit'];
  const digit =
    typeof raw === 'string' ? raw.toUpperCase() : typeof raw === 'number' ? String(raw) : '';
  if (!DIGIT.test(digit)) throw shape('dtmf.digit', 'one of 0-9, *, #, A-D');
  return {
    event: 'dtmf',
    sequenceNumber: sequenceNumberOf(frame),
    streamSid: streamSidOf(frame),
    digit,
    durationMs: optNumber(dtmf['duration'], 'dtmf.duration'),
  };
}

function decodeMark(frame: JsonObject): MarkEvent {
  const name = requiredBody(frame, 'mark')['name'];
  if (typeof name !== 'string' || name === '') throw shape('mark.name', 'a non-empty string');
  return {
    event: 'mark',
    sequenceNumber: sequenceNumberOf(frame),
    streamSid: streamSidOf(frame),
    name,
  };
}

function decodeStop(frame: JsonObject): StopEvent {
  // The body is optional: a bare stop still means the stream is over.
  const stop = optionalBody(frame, 'stop') ?? {};
  return {
    event: 'stop',
    sequenceNumber: sequenceNumberOf(frame),
    streamSid: streamSidOf(frame),
    callSid: optString(either(stop, 'call_sid', 'callSid'), 'stop.call_sid'),
    accountSid: optString(either(stop, 'account_sid', 'accountSid'), 'stop.account_sid'),
    reason: optString(stop['reason'], 'stop.reason'),
  };
}

function customParametersOf(start: JsonObject): Record<string, string> {
  const raw = either(start, 'custom_parameters', 'customParameters');
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw shape('start.custom_parameters', 'an object');
  const entries: [string, string][] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'string') entries.push([key, value]);
    else if (typeof value === 'number' || typeof value === 'boolean') {
      entries.push([key, String(value)]);
    }
  }
  // fromEntries defines own properties, so a `__proto__` key stays a plain key.
  return Object.fromEntries(entries);
}

function mediaFormatOf(start: JsonObject): MediaFormat | undefined {
  const raw = either(start, 'media_format', 'mediaFormat');
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw shape('start.media_format', 'an object');
  const encoding = raw['encoding'];
  // bit_rate is informational (16 or 128 in the wild): never fail a call over it.
  const bitRateRaw = either(raw, 'bit_rate', 'bitRate');
  const bitRate = isNumeric(bitRateRaw) ? Number(bitRateRaw) : undefined;
  return {
    encoding: typeof encoding === 'string' ? encoding : undefined,
    sampleRate: optNumber(
      either(raw, 'sample_rate', 'sampleRate'),
      'start.media_format.sample_rate',
    ),
    bitRate,
  };
}

// ---------------------------------------------------------------------------------------------
// Field helpers: each throws a FrameFault naming the field, caught by `decode`.

/** Internal control flow only: `decode` turns it into a `FrameError` result. */
class FrameFault extends Error {
  constructor(
    readonly code: FrameErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The snake_case spelling if present, else the camelCase one. */
function either(obj: JsonObject, snake: string, camel: string): unknown {
  const value = obj[snake];
  return value === undefined || value === null ? obj[camel] : value;
}

function requiredBody(frame: JsonObject, key: string): JsonObject {
  const body = frame[key];
  if (!isObject(body)) throw shape(key, 'an object');
  return body;
}

function optionalBody(frame: JsonObject, key: string): JsonObject | undefined {
  const body = frame[key];
  if (body === undefined || body === null) return undefined;
  if (!isObject(body)) throw shape(key, 'an object');
  return body;
}

function streamSidOf(frame: JsonObject): string | undefined {
  return optString(either(frame, 'stream_sid', 'streamSid'), 'stream_sid');
}

function sequenceNumberOf(frame: JsonObject): number | undefined {
  return optNumber(either(frame, 'sequence_number', 'sequenceNumber'), 'sequence_number');
}

function optString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  throw shape(field, 'a string');
}

function optNumber(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (isNumeric(value)) return Number(value);
  throw shape(field, 'a non-negative number or numeric string');
}

function isNumeric(value: unknown): value is number | string {
  return typeof value === 'number'
    ? Number.isFinite(value) && value >= 0
    : typeof value === 'string' && NUMERIC.test(value);
}

function shape(field: string, expected: string): FrameFault {
  return new FrameFault('FRAME_SHAPE', `${field} must be ${expected}`);
}

function fail(code: FrameErrorCode, message: string): DecodeResult {
  return { ok: false, error: { code, message } };
}

// ---------------------------------------------------------------------------------------------
// Outbound events

export type OutboundEvent =
  /** `payload`: PCM16LE mono bytes at the stream's rate, or the same already in base64. */
  | { event: 'media'; streamSid: string | undefined; payload: Uint8Array | string }
  | { event: 'mark'; streamSid: string | undefined; name: string }
  | { event: 'clear'; streamSid: string | undefined };

/**
 * Encodes one outbound frame in the documented snake_case shape. Chunk size (a multiple of
 * 320 bytes, at most 100 KB) and pacing are the caller's business.
 */
export function encode(event: OutboundEvent): string {
  switch (event.event) {
    case 'media': {
      const { payload } = event;
      return typeof payload === 'string'
        ? encodeMediaFromBase64(event.streamSid, payload)
        : encodeMedia(event.streamSid, payload);
    }
    case 'mark':
      return JSON.stringify({
        event: 'mark',
        ...sidField(event.streamSid),
        mark: { name: event.name },
      });
    case 'clear':
      return JSON.stringify({ event: 'clear', ...sidField(event.streamSid) });
  }
}

/**
 * A `media` message carrying `pcm`. Base64's alphabet (A-Z, a-z, 0-9, +, /, =) needs no escaping
 * in a JSON string, so Node's encoder output goes between quotes as it is: `JSON.stringify` on a
 * 100 ms frame at 16 kHz (4 268 characters) costs about 5 us to find nothing to escape, ten
 * times the base64 encoding itself.
 */
export function encodeMedia(streamSid: string | undefined, pcm: Uint8Array): string {
  return `{"event":"media",${sidMember(streamSid)}"media":{"payload":"${encodeBase64(pcm)}"}}`;
}

/**
 * Fast path for audio that is already base64 (e.g. straight from a TTS vendor): no decode and
 * re-encode, no intermediate object. `b64` is not validated; it is escaped, so whatever it holds
 * the message stays valid JSON.
 */
export function encodeMediaFromBase64(streamSid: string | undefined, b64: string): string {
  return `{"event":"media",${sidMember(streamSid)}"media":{"payload":${JSON.stringify(b64)}}}`;
}

/** `"stream_sid":"…",` when the call has one, else nothing. */
function sidMember(streamSid: string | undefined): string {
  return streamSid === undefined ? '' : `"stream_sid":${JSON.stringify(streamSid)},`;
}

/** `stream_sid` when the call has one (a start without one gets frames without one). */
function sidField(streamSid: string | undefined): { stream_sid?: string } {
  return streamSid === undefined ? {} : { stream_sid: streamSid };
}
