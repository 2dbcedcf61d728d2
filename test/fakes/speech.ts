/**
 * `POST /v1/audio/speech`: streams 24 kHz mono s16le PCM with chunked transfer, paced like a TTS
 * engine if asked. The fake produces `pcm` and `wav` only; any other `response_format` (including
 * the spec's default, mp3, when the field is omitted) is reported as something the fake cannot
 * serve, because our bot always asks for pcm and a silent fallback would hide a missing field.
 */
import type { AudioBehaviour, SpeechRequest } from './behaviours.js';
import type { EndpointHandler } from './endpoint-handler.js';
import { fixedPlan, type PlanChunk, type ResponsePlan } from './response-plan.js';
import { encodeWav } from '../../src/audio/index.js';

export const SPEECH_SAMPLE_RATE_HZ = 24_000;
/** 24 000 samples/s x 2 bytes / 1000. */
export const SPEECH_BYTES_PER_MS = 48;
export const DEFAULT_SPEECH_MS_PER_CHAR = 50;
export const DEFAULT_SPEECH_MAX_MS = 3_000;
export const DEFAULT_SPEECH_TONE_HZ = 440;

/** Duration of the default audio: 50 ms per character (code point) of input, at most 3 s. */
export function defaultSpeechDurationMs(input: string): number {
  return Math.min([...input].length * DEFAULT_SPEECH_MS_PER_CHAR, DEFAULT_SPEECH_MAX_MS);
}

/**
 * The default speech audio: a 440 Hz sine at about -10 dBFS lasting `defaultSpeechDurationMs`,
 * as 24 kHz mono s16le. Deterministic, so longer text gives longer (and predictable) audio.
 * Every answer is a prefix of one tone made once: a benchmark's fake answers hundreds of
 * requests a second, and making 3 s of sine each time held its event loop for milliseconds.
 */
export function defaultSpeechPcm(input: string): Buffer {
  const bytes = ((defaultSpeechDurationMs(input) * SPEECH_SAMPLE_RATE_HZ) / 1000) * 2;
  return Buffer.from(longestTone().subarray(0, bytes));
}

let tone: Buffer | undefined;

/** `DEFAULT_SPEECH_MAX_MS` of the default tone, made on first use. */
function longestTone(): Buffer {
  if (tone) return tone;
  const samples = (DEFAULT_SPEECH_MAX_MS * SPEECH_SAMPLE_RATE_HZ) / 1000;
  tone = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const phase = (2 * Math.PI * DEFAULT_SPEECH_TONE_HZ * i) / SPEECH_SAMPLE_RATE_HZ;
    tone.writeInt16LE(Math.round(Math.sin(phase) * 10_000), i * 2);
  }
  return tone;
}

/** A 44-byte RIFF header for 24 kHz mono 16-bit PCM of `dataBytes` bytes. */
export function wavHeader(dataBytes: number): Buffer {
  const header = Buffer.from(encodeWav(new Int16Array(0), SPEECH_SAMPLE_RATE_HZ).subarray(0, 44));
  header.writeUInt32LE(36 + dataBytes, 4);
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

function audioPlan(behaviour: AudioBehaviour, request: SpeechRequest): ResponsePlan {
  const pcm = behaviour.pcm ?? defaultSpeechPcm(request.body.input);
  const wav = request.body.response_format === 'wav';
  const firstMs = behaviour.firstByteDelayMs ?? 0;
  const chunkMs = behaviour.chunkMs ?? 40;
  const factor = behaviour.realtimeFactor ?? Infinity;
  const chunkBytes = Math.max(2, Math.round(chunkMs * SPEECH_BYTES_PER_MS) & ~1);
  const chunks: PlanChunk[] = [];
  for (let offset = 0, i = 0; offset < pcm.length; offset += chunkBytes, i++) {
    chunks.push({
      atMs: firstMs + (i * chunkMs) / factor,
      data: pcm.subarray(offset, offset + chunkBytes),
    });
  }
  if (wav) chunks.unshift({ atMs: firstMs, data: wavHeader(pcm.length) });
  const contentType = behaviour.contentType ?? (wav ? 'audio/wav' : 'application/octet-stream');
  // No Content-Length: Node sends `Transfer-Encoding: chunked`, as the spec's 200 response says.
  return {
    status: 200,
    headers: { 'content-type': contentType },
    headersAtMs: firstMs,
    chunks,
    end: true,
  };
}

export const speechHandler: EndpointHandler<SpeechRequest, AudioBehaviour> = {
  builtInDefault: { kind: 'audio' },
  unsupported(request) {
    const format = request.body.response_format ?? 'mp3';
    if (format !== 'pcm' && format !== 'wav') {
      return `fake-openai only produces pcm or wav speech; the request asked for response_format '${format}'${request.body.response_format ? '' : ' (the spec default when omitted)'}`;
    }
    if (request.body.stream_format === 'sse') {
      return "fake-openai does not implement stream_format 'sse' for speech";
    }
    return undefined;
  },
  success: audioPlan,
  /**
   * 200 with `Content-Type: application/json` and a JSON body of an odd number of bytes instead
   * of audio, as a misconfigured proxy might answer. The SDK hands it over as audio; only a client
   * that checks the Content-Type (or the byte count) notices.
   */
  malformed() {
    const body = JSON.stringify({ note: 'fake-openai malformed speech: this is not audio' });
    return fixedPlan(200, 'application/json', body.length % 2 === 0 ? `${body} ` : body);
  },
};
