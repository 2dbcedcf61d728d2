/**
 * The one way the rest of the server gets a VAD: `createVad(kind, streamRate)` per call. Both
 * detectors run natively at 8 and 16 kHz; a 24 kHz stream is resampled to 16 kHz first, which
 * costs a Speex resampler per call (~0.4 ms CPU per second of audio, a few KB). A call that
 * already resamples its inbound audio to 16 kHz (for STT) should create the VAD at 16000 instead.
 *
 * Benchmark (`node --expose-gc --import tsx test/audio/vad/vad-bench.ts`): 60 s of fixture
 * speech at 16 kHz pushed in 20 ms frames, process.cpuUsage() per second of audio, Node 20,
 * onnxruntime-node 1.30 with one intra-op thread, a shared 2-vCPU x64 build machine (ranges over
 * three runs):
 *   silero, one call, gate off                  4.0-5.7 ms  (ORT alone: ~110 us per 32 ms window)
 *   silero, one call, default gate (78% run)    3.3-3.8 ms
 *   silero, 32 calls in parallel (batched)      1.4-1.5 ms  (ORT alone: ~36 us per window)
 *   silero, default gate, digital silence       0.12-0.16 ms (the model never runs)
 *   webrtc 30 ms frames, gate off               0.36-0.43 ms
 *   webrtc, default gate                        0.18-0.32 ms
 *   webrtc, default gate, digital silence       0.09-0.14 ms
 *   the energy gate alone                       0.035 ms
 * Loading the Silero session takes 45-170 ms and ~42 MB RSS, once per process; each call's
 * stream adds 5-14 KB. Everything runs on the main thread, so one core gives Silero to roughly
 * 200 simultaneously talking callers unbatched or ~650 when their windows batch, before any
 * other work; silence is nearly free.
 */
import { VoicebotError } from '../../errors.js';
import { createStreamResampler } from '../resample.js';
import { loadSileroModel, type SileroScorer } from './silero-model.js';
import { SileroDetector } from './silero.js';
import type { StreamSampleRate, VadKind, VadStream, VoiceActivityDetector } from './types.js';
import { DetectorVadStream, type VadResampler, type VadStreamOptions } from './vad-stream.js';
import { WebRtcDetector, loadFvadModule, type WebRtcOptions } from './webrtc.js';

export interface CreateVadOptions extends VadStreamOptions {
  /** WebRTC aggressiveness and frame length (ignored for Silero). */
  webrtc?: WebRtcOptions;
  /** A Silero model to use instead of the process-wide one (tests, benchmarks). */
  sileroModel?: SileroScorer;
}

/**
 * A streaming VAD for one call whose inbound audio is at `sampleRate`. The shared model is loaded
 * on the first call (tens of ms for Silero); await `loadSileroModel()` at start-up to pay that
 * early. The caller owns the stream and must `close()` it when the call ends.
 */
export async function createVad(
  kind: VadKind,
  sampleRate: StreamSampleRate,
  options: CreateVadOptions = {},
): Promise<VadStream> {
  if (sampleRate !== 8000 && sampleRate !== 16000 && sampleRate !== 24000) {
    throw new VoicebotError('SAMPLE_RATE_UNSUPPORTED', `VAD supports 8000, 16000 or 24000 Hz`);
  }
  const detectorRate = sampleRate === 24000 ? 16000 : sampleRate;
  let detector: VoiceActivityDetector;
  if (kind === 'silero') {
    detector = new SileroDetector(options.sileroModel ?? (await loadSileroModel()), detectorRate);
  } else if (kind === 'webrtc') {
    detector = new WebRtcDetector(await loadFvadModule(), detectorRate, options.webrtc);
  } else {
    throw new VoicebotError('CONFIG_INVALID', `unknown VAD kind`);
  }
  let resampler: VadResampler | null = null;
  try {
    if (detectorRate !== sampleRate) {
      resampler = await createStreamResampler(sampleRate, detectorRate);
    }
    return new DetectorVadStream(kind, sampleRate, detector, resampler, options);
  } catch (err) {
    detector.close();
    resampler?.destroy();
    throw err;
  }
}
