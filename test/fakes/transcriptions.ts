/**
 * `POST /v1/audio/transcriptions`: answers with the scripted text in the requested
 * `response_format` (json, text or verbose_json). srt, vtt, diarized_json and `stream: true` are
 * valid per the spec but not implemented by the fake, and are reported as such.
 */
import type { TextBehaviour, TranscriptionRequest } from './behaviours.js';
import type { EndpointHandler } from './endpoint-handler.js';
import { fixedPlan, type ResponsePlan } from './response-plan.js';

const SUPPORTED_FORMATS = new Set(['json', 'text', 'verbose_json']);

/** Duration of a RIFF/WAVE file from its `fmt ` byte rate and `data` size; 0 if not a WAV. */
export function wavDurationSeconds(bytes: Buffer): number {
  if (bytes.length < 12 || bytes.toString('ascii', 0, 4) !== 'RIFF') return 0;
  let byteRate = 0;
  for (let offset = 12; offset + 8 <= bytes.length;) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === 'fmt ' && offset + 20 <= bytes.length) byteRate = bytes.readUInt32LE(offset + 16);
    if (id === 'data')
      return byteRate > 0 ? Math.min(size, bytes.length - offset - 8) / byteRate : 0;
    offset += 8 + size + (size % 2);
  }
  return 0;
}

function usage(request: TranscriptionRequest, text: string, seconds: number): object {
  if (request.body.model === 'whisper-1') return { type: 'duration', seconds: Math.ceil(seconds) };
  const input = Math.ceil(seconds * 10);
  const output = Math.ceil(text.length / 4);
  return {
    type: 'tokens',
    input_tokens: input,
    input_token_details: { text_tokens: 0, audio_tokens: input },
    output_tokens: output,
    total_tokens: input + output,
  };
}

function textPlan(behaviour: TextBehaviour, request: TranscriptionRequest): ResponsePlan {
  const { text } = behaviour;
  const delayMs = behaviour.delayMs ?? 0;
  const seconds = wavDurationSeconds(request.body.file.bytes);
  switch (request.body.response_format ?? 'json') {
    case 'text':
      // OpenAI ends the plain-text transcript with a newline.
      return fixedPlan(200, 'text/plain; charset=utf-8', `${text}\n`, delayMs);
    case 'verbose_json': {
      const verbose = {
        task: 'transcribe',
        language: request.body.language ?? 'english',
        duration: seconds,
        text,
        segments: [
          {
            id: 0,
            seek: 0,
            start: 0,
            end: seconds,
            text,
            tokens: [],
            temperature: 0,
            avg_logprob: 0,
            compression_ratio: 1,
            no_speech_prob: 0,
          },
        ],
        usage: { type: 'duration', seconds: Math.ceil(seconds) },
      };
      return fixedPlan(200, 'application/json', JSON.stringify(verbose), delayMs);
    }
    default:
      return fixedPlan(
        200,
        'application/json',
        JSON.stringify({ text, usage: usage(request, text, seconds) }),
        delayMs,
      );
  }
}

export const transcriptionsHandler: EndpointHandler<TranscriptionRequest, TextBehaviour> = {
  builtInDefault: { kind: 'text', text: 'hello' },
  unsupported(request) {
    const format = request.body.response_format ?? 'json';
    if (!SUPPORTED_FORMATS.has(format)) {
      return `fake-openai does not implement transcription response_format '${format}'`;
    }
    if (request.body['stream'] === true) {
      return 'fake-openai does not implement streamed transcriptions (stream: true)';
    }
    return undefined;
  },
  success: textPlan,
  /** 200 `application/json` whose body is cut off mid-string: the SDK's JSON parse throws. */
  malformed() {
    return fixedPlan(200, 'application/json', '{"text": "this transcript is cut of');
  },
};
