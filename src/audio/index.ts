/** Pure audio utilities: PCM and base64, WAV, resampling and Exotel outbound framing. */

export {
  MAX_SAMPLE_RATE,
  assertSampleRate,
  bytesFromPcm,
  bytesPerMs,
  decodeBase64Strict,
  durationMs,
  encodeBase64,
  pcmFromBytes,
  silence,
} from './pcm.js';
export { decodeWav, encodeWav, type DecodedWav } from './wav.js';
export { createStreamResampler, resample, type StreamResampler } from './resample.js';
export {
  EXOTEL_CHUNK_ALIGN_BYTES,
  EXOTEL_MAX_CHUNK_BYTES,
  FrameSplitter,
  frameBytesFor,
} from './frames.js';
