/**
 * What a test can script for each endpoint, and the per-endpoint FIFO that hands scripted
 * behaviours to requests in arrival order (falling back to a default once the queue is empty).
 * A behaviour may be a function of the recorded request, so a test can answer from what the
 * client actually sent.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type OpenAI from 'openai';
import type { UploadedFile } from './multipart.js';

export type Endpoint = 'speech' | 'transcriptions' | 'chat';

interface RecordedRequestOf<E extends Endpoint, B> {
  endpoint: E;
  /** The spec-valid body: parsed JSON, or multipart fields coerced to the schema's types. */
  body: B;
  headers: IncomingHttpHeaders;
  /** `performance.now()` when the request's headers arrived. */
  at: number;
}

/** Multipart fields of a transcription request (`timestamp_granularities[]` arrives as an array). */
export interface TranscriptionFields {
  file: UploadedFile;
  model: string;
  language?: string;
  prompt?: string;
  response_format?: string;
  temperature?: number;
  [field: string]: unknown;
}

export type SpeechRequest = RecordedRequestOf<'speech', OpenAI.Audio.SpeechCreateParams>;
export type TranscriptionRequest = RecordedRequestOf<'transcriptions', TranscriptionFields>;
export type ChatRequest = RecordedRequestOf<'chat', OpenAI.Chat.ChatCompletionCreateParams>;
export type RecordedRequest = SpeechRequest | TranscriptionRequest | ChatRequest;

/** An HTTP error with OpenAI's body `{error: {message, type, param, code}}`. */
export interface ErrorBehaviour {
  kind: 'error';
  status: number;
  message?: string;
  /** Defaults follow the status (e.g. 429 -> `requests` / `rate_limit_exceeded`). */
  type?: string;
  code?: string | null;
  param?: string | null;
  /** Delay before the response headers. */
  delayMs?: number;
  /**
   * For 408/409/429/5xx: sent as `retry-after-ms` (and, on 429, `retry-after` in whole seconds,
   * at least 1 as the spec requires) so SDK retries are quick. Default 10.
   */
  retryAfterMs?: number;
}

/** Accepts the request and never sends headers. `close()` destroys the socket. */
export interface HangBehaviour {
  kind: 'hang';
}

/**
 * Sends the status and headers of a normal answer (`of`, or the endpoint's built-in default) and
 * its first `afterBytes` body bytes (default 0), then nothing more; the response never ends.
 */
export interface StallBehaviour<S> {
  kind: 'stall';
  afterBytes?: number;
  of?: S;
}

/**
 * Sends the status and headers of a normal answer (`of`, or the endpoint's built-in default) and
 * its first `afterBytes` body bytes (default 0), then closes the connection mid-response: what a
 * reset or a proxy's idle cut looks like to the client.
 */
export interface DropBehaviour<S> {
  kind: 'drop';
  afterBytes?: number;
  of?: S;
}

/** A well-formed HTTP response whose body the client cannot use; see each endpoint's handler. */
export interface MalformedBehaviour {
  kind: 'malformed';
}

export type FailureBehaviour<S> =
  ErrorBehaviour | HangBehaviour | StallBehaviour<S> | DropBehaviour<S> | MalformedBehaviour;

export interface AudioBehaviour {
  kind: 'audio';
  /** 24 kHz mono s16le. Default: `defaultSpeechPcm(input)`. */
  pcm?: Buffer;
  /** Delay before the headers and first chunk. Default 0. */
  firstByteDelayMs?: number;
  /** 1 = paced at real time, 2 = twice as fast, Infinity (default) = as fast as possible. */
  realtimeFactor?: number;
  /** Audio per chunk written. Default 40 ms (1920 bytes). */
  chunkMs?: number;
  /** Override the response Content-Type (default `application/octet-stream`, as the spec says). */
  contentType?: string;
}

export interface TextBehaviour {
  kind: 'text';
  text: string;
  delayMs?: number;
}

/** A function call the fake model makes, streamed after the content in OpenAI's chunk format. */
export interface ScriptedToolCall {
  name: string;
  /** JSON arguments; an object is serialised. A string is sent as is (it may be invalid JSON). */
  arguments: string | Record<string, unknown>;
  /** Default: `call_<random>`, as OpenAI makes them. */
  id?: string;
}

export interface StreamBehaviour {
  kind: 'stream';
  /** Content deltas in order; a string is split with `splitTokens`. May be empty with tool calls. */
  tokens: string[] | string;
  /**
   * Tool calls after the content: the first chunk of each carries its index, id, type and name
   * with empty arguments, the arguments follow in pieces (one per `perTokenMs`), and the stream
   * finishes with `finish_reason: "tool_calls"`.
   */
  toolCalls?: ScriptedToolCall[];
  /** Characters of arguments per chunk. Default 12. */
  argumentsChunkChars?: number;
  /** Delay before the headers, role chunk and first token. Default 0. */
  firstTokenDelayMs?: number;
  /** Delay between tokens. Default 0. */
  perTokenMs?: number;
  finishReason?: 'stop' | 'length' | 'content_filter' | 'tool_calls';
}

export type SpeechBehaviour = AudioBehaviour | FailureBehaviour<AudioBehaviour>;
export type TranscriptionBehaviour = TextBehaviour | FailureBehaviour<TextBehaviour>;
export type ChatBehaviour = StreamBehaviour | FailureBehaviour<StreamBehaviour>;

export type Scripted<R, B> = B | ((request: R) => B | Promise<B>);

/** The test-facing handle of one endpoint: `fake.speech`, `fake.transcriptions`, `fake.chat`. */
export class EndpointControl<R extends RecordedRequest, B> {
  /** Spec-valid requests this endpoint received, oldest first. */
  readonly requests: R[] = [];
  private readonly queue: Scripted<R, B>[] = [];
  private fallback: Scripted<R, B>;

  constructor(private readonly builtInDefault: B) {
    this.fallback = builtInDefault;
  }

  /** Queues behaviours for the next requests, one each, in order. */
  enqueue(...behaviours: Scripted<R, B>[]): this {
    this.queue.push(...behaviours);
    return this;
  }

  /** What requests get once the queue is empty. */
  setDefault(behaviour: Scripted<R, B>): this {
    this.fallback = behaviour;
    return this;
  }

  /** Behaviours still queued. */
  get pending(): number {
    return this.queue.length;
  }

  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.fallback = this.builtInDefault;
  }

  /** @internal Records the request (unless `keep` is false) and picks its behaviour. */
  async take(request: R, keep = true): Promise<B> {
    if (keep) this.requests.push(request);
    const scripted = this.queue.shift() ?? this.fallback;
    return typeof scripted === 'function'
      ? await (scripted as (request: R) => B | Promise<B>)(request)
      : scripted;
  }
}
