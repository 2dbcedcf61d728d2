/**
 * OpenAI chat completions, streamed: content deltas are yielded the moment they arrive so the
 * first sentence can go to TTS while the model is still writing the rest. Tool calls arrive in
 * pieces (the first delta of a call carries its index, id and name; later ones add to its
 * arguments); each is yielded whole as soon as the next one starts or the stream ends.
 *
 * The response is read eagerly into a queue, whatever the consumer is doing: the stall guard
 * then measures gaps in the network stream, not the time the consumer spends speaking a
 * sentence, and the SDK's stream is never left paused (asking a paused SDK stream for more
 * after an abort hangs forever when its body had already ended).
 */
import type OpenAI from 'openai';
import { VoicebotError } from '../../errors.js';
import { toProviderError } from '../openai-client.js';
import { guardStream } from '../stream-guard.js';
import type { LlmEvent, LlmProvider, LlmRequest, LlmToolCall } from './types.js';
import { cancel, linkedAbort } from '../linked-abort.js';

export interface OpenAILlmOptions {
  model: string;
  /** Time allowed from the request until the first non-empty content delta. */
  firstTokenTimeoutMs: number;
  /** Longest gap allowed between two content deltas arriving. */
  stallMs: number;
  /** Sent as `max_completion_tokens` (the spec marks `max_tokens` deprecated). */
  maxTokens?: number;
  /** 0 to 2. */
  temperature?: number;
}

export class OpenAILlmProvider implements LlmProvider {
  readonly model: string;

  constructor(
    private readonly client: OpenAI,
    private readonly opts: OpenAILlmOptions,
  ) {
    this.model = opts.model;
  }

  async *stream(req: LlmRequest): AsyncGenerator<LlmEvent> {
    const { controller, unlink } = linkedAbort(
      req.signal,
      (cause) => new VoicebotError('PROVIDER_ABORTED', 'llm: aborted', { cause }),
    );
    const prefetch = new Prefetch(
      guardStream(this.request(req, controller.signal), controller, {
        firstChunkMs: this.opts.firstTokenTimeoutMs,
        idleMs: this.opts.stallMs,
        stage: 'llm',
      }),
    );
    let finished = false;
    try {
      for (;;) {
        const event = await prefetch.next();
        // The SDK's stream ends quietly, without an error, when its request is aborted.
        if (controller.signal.aborted) throw controller.signal.reason;
        if (event === undefined) {
          finished = true;
          return;
        }
        if (event !== PROGRESS) yield event;
      }
    } catch (err) {
      if (controller.signal.aborted && controller.signal.reason instanceof VoicebotError)
        throw controller.signal.reason;
      throw toProviderError(err, 'llm');
    } finally {
      unlink();
      // Closes the HTTP request when the consumer breaks out early (a finished one has nothing to
      // close, and aborting it would still wake the SDK's own listener).
      if (!finished) cancel(controller);
      await prefetch.ended;
    }
  }

  /**
   * The response as events, plus PROGRESS for a piece of a tool call that is not complete yet,
   * so the stall guard sees the stream moving while long arguments arrive.
   */
  private async *request(
    req: LlmRequest,
    signal: AbortSignal,
  ): AsyncGenerator<LlmEvent | typeof PROGRESS> {
    const { firstTokenTimeoutMs, maxTokens, temperature } = this.opts;
    const tools = req.tools?.length ? req.tools : undefined;
    const stream = await this.client.chat.completions.create(
      {
        model: this.model,
        messages: req.messages,
        stream: true,
        ...(tools ? { tools, ...(req.toolChoice ? { tool_choice: req.toolChoice } : {}) } : {}),
        ...(maxTokens !== undefined ? { max_completion_tokens: maxTokens } : {}),
        ...(temperature !== undefined ? { temperature } : {}),
      },
      { signal, timeout: firstTokenTimeoutMs > 0 ? firstTokenTimeoutMs : undefined },
    );
    const calls = new ToolCallAssembler();
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      if (delta?.content) yield { type: 'text', text: delta.content };
      for (const piece of delta?.tool_calls ?? []) {
        const done = calls.push(piece);
        yield done ? { type: 'tool-call', call: done } : PROGRESS;
      }
      // Never ask the SDK for more once aborted: see the module comment.
      if (signal.aborted) return;
    }
    const last = calls.finish();
    if (last) yield { type: 'tool-call', call: last };
  }
}

const PROGRESS = Symbol('progress');

interface ToolCallPiece {
  index: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/**
 * Builds whole tool calls from streamed pieces. A piece with a new index starts the next call,
 * which completes the one before it (OpenAI streams calls one after another).
 */
export class ToolCallAssembler {
  private current: (LlmToolCall & { index: number }) | undefined;

  /** Takes a piece; returns the previous call when this piece starts a new one. */
  push(piece: ToolCallPiece): LlmToolCall | undefined {
    let done: LlmToolCall | undefined;
    if (this.current === undefined || piece.index !== this.current.index) {
      done = this.finish();
      this.current = { index: piece.index, id: '', name: '', arguments: '' };
    }
    const c = this.current;
    if (piece.id) c.id = piece.id;
    if (piece.function?.name) c.name += piece.function.name;
    if (piece.function?.arguments) c.arguments += piece.function.arguments;
    return done;
  }

  /** The call in progress, if any (the stream ended). */
  finish(): LlmToolCall | undefined {
    const c = this.current;
    this.current = undefined;
    if (!c || !c.name) return undefined;
    return { id: c.id || `call_${c.index}`, name: c.name, arguments: c.arguments };
  }
}

/**
 * Reads `source` to its end as fast as it yields, queueing items until they are taken. Items
 * already queued are delivered before the source's error.
 */
class Prefetch<T> {
  /** Settles (never rejects) once the source has ended or failed. */
  readonly ended: Promise<void>;
  private readonly queue: T[] = [];
  private done = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  constructor(source: AsyncIterable<T>) {
    this.ended = this.run(source);
  }

  /** The next item, or undefined at the end; throws what the source threw. */
  async next(): Promise<T | undefined> {
    while (this.queue.length === 0 && !this.done) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.queue.length > 0) return this.queue.shift();
    if (this.failure) throw this.failure.error;
    return undefined;
  }

  private async run(source: AsyncIterable<T>): Promise<void> {
    try {
      for await (const item of source) {
        this.queue.push(item);
        this.notify();
      }
    } catch (error) {
      this.failure = { error };
    } finally {
      this.done = true;
      this.notify();
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
