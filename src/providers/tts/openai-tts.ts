/**
 * OpenAI text to speech (`/v1/audio/speech`) in `pcm` format: raw 24 kHz s16le mono, so no
 * decoder is needed and the first bytes are playable the moment they arrive. Text over the
 * endpoint's 4096 characters is said in pieces, one request after another, as one stream.
 */
import type OpenAI from 'openai';
import { guardStream } from '../stream-guard.js';
import { toProviderError } from '../openai-client.js';
import type { TtsProvider, TtsRequest } from './types.js';
import { cancel, linkedAbort } from '../linked-abort.js';
import { splitTtsInput } from './split-input.js';

export const OPENAI_PCM_RATE = 24_000;

export interface OpenAITtsOptions {
  model: string;
  /** Time allowed until the first audio byte. */
  timeoutMs: number;
  /** Longest gap allowed between audio chunks. */
  stallMs: number;
}

export class OpenAITts implements TtsProvider {
  readonly sampleRate = OPENAI_PCM_RATE;
  readonly model: string;

  constructor(
    private readonly client: OpenAI,
    private readonly opts: OpenAITtsOptions,
  ) {
    this.model = opts.model;
  }

  async *synthesize(req: TtsRequest): AsyncGenerator<Buffer> {
    for (const input of splitTtsInput(req.text))
      yield* this.synthesizePiece({ ...req, text: input });
  }

  private async *synthesizePiece(req: TtsRequest): AsyncGenerator<Buffer> {
    const { controller, unlink } = linkedAbort(req.signal);
    let finished = false;
    try {
      const source = this.request(req, controller.signal);
      const guarded = guardStream(source, controller, {
        firstChunkMs: this.opts.timeoutMs,
        idleMs: this.opts.stallMs,
        stage: 'tts',
      });
      let carry: Buffer | undefined;
      for await (const chunk of guarded) {
        let buf = carry ? Buffer.concat([carry, chunk]) : chunk;
        carry = undefined;
        if (buf.length % 2 === 1) {
          carry = buf.subarray(buf.length - 1);
          buf = buf.subarray(0, buf.length - 1);
        }
        if (buf.length > 0) yield buf;
      }
      finished = true;
    } catch (err) {
      throw toProviderError(err, 'tts');
    } finally {
      unlink();
      // Closes the request when the consumer stopped early; a finished one has nothing to close
      // (aborting it would still wake the SDK's own listener, which makes an AbortError).
      if (!finished) cancel(controller);
    }
  }

  private async *request(req: TtsRequest, signal: AbortSignal): AsyncGenerator<Buffer> {
    const response = await this.client.audio.speech.create(
      { model: this.model, voice: req.voice, input: req.text, response_format: 'pcm' },
      { signal, timeout: this.opts.timeoutMs > 0 ? this.opts.timeoutMs : undefined },
    );
    if (!response.body) return;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  }
}
