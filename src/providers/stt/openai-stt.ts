/**
 * OpenAI speech to text (`/v1/audio/transcriptions`): the utterance goes up as a 16-bit mono WAV
 * at the stream's own rate (the API resamples), and `json` comes back, the one response format
 * that every model (whisper-1, gpt-4o-transcribe, gpt-4o-mini-transcribe) supports.
 */
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { encodeWav } from '../../audio/wav.js';
import { VoicebotError } from '../../errors.js';
import { toProviderError } from '../openai-client.js';
import type { SttProvider, SttRequest, SttResult } from './types.js';
import { linkedAbort } from '../linked-abort.js';

/** OpenAI rejects audio shorter than this with 400 `audio_too_short`; we skip the request. */
export const MIN_STT_AUDIO_MS = 100;

export interface OpenAISttOptions {
  model: string;
  /** Time allowed for the whole request: upload, processing and the response body. */
  timeoutMs: number;
}

export class OpenAISttProvider implements SttProvider {
  readonly model: string;

  constructor(
    private readonly client: OpenAI,
    private readonly opts: OpenAISttOptions,
  ) {
    this.model = opts.model;
  }

  async transcribe(req: SttRequest): Promise<SttResult> {
    // Own controller: the SDK's `timeout` stops counting once headers arrive, so a body that
    // trickles in would otherwise hold the turn forever.
    const { controller, unlink } = linkedAbort(
      req.signal,
      (cause) => new VoicebotError('PROVIDER_ABORTED', 'stt: aborted', { cause }),
    );
    const { timeoutMs } = this.opts;
    let timedOut: VoicebotError | undefined;
    const onTimeout = () => {
      const detail = `stt: no answer within ${timeoutMs} ms`;
      timedOut = new VoicebotError('PROVIDER_TIMEOUT', detail, { retryable: true });
      controller.abort(timedOut);
    };
    const timer = timeoutMs > 0 ? setTimeout(onTimeout, timeoutMs) : undefined;
    try {
      if (controller.signal.aborted) throw controller.signal.reason;
      if ((req.audio.length * 1000) / req.sampleRate < MIN_STT_AUDIO_MS) return { text: '' };
      const file = await toFile(encodeWav(req.audio, req.sampleRate), 'utterance.wav', {
        type: 'audio/wav',
      });
      const result = await this.client.audio.transcriptions.create(
        {
          file,
          model: this.model,
          response_format: 'json',
          ...(req.language ? { language: req.language } : {}),
          ...(req.prompt ? { prompt: req.prompt } : {}),
        },
        { signal: controller.signal, timeout: timeoutMs > 0 ? timeoutMs : undefined },
      );
      if (typeof result.text !== 'string')
        throw new VoicebotError('PROVIDER_BAD_RESPONSE', 'stt: response has no text', {
          retryable: true,
        });
      return { text: result.text.trim() };
    } catch (err) {
      if (timedOut) throw timedOut;
      if (controller.signal.aborted && controller.signal.reason instanceof VoicebotError)
        throw controller.signal.reason;
      throw toProviderError(err, 'stt');
    } finally {
      clearTimeout(timer);
      unlink();
    }
  }
}
