// Voice activity detection: Silero (default) and WebRTC detectors behind one streaming interface.
export { createVad, type CreateVadOptions } from './create-vad.js';
export type {
  StreamSampleRate,
  VadDecision,
  VadKind,
  VadStream,
  VadStreamStats,
  VoiceActivityDetector,
} from './types.js';
export {
  DEFAULT_ENERGY_GATE_DBFS,
  DetectorVadStream,
  type VadResampler,
  type VadStreamOptions,
} from './vad-stream.js';
export { createEnergyGate, meanSquare, rmsDbfs } from './energy-gate.js';
export {
  SileroModel,
  defaultSileroModelPath,
  loadSileroModel,
  releaseSileroModel,
  type SileroModelOptions,
  type SharedSileroOptions,
  type SileroModelStats,
  type SileroScorer,
  type SileroRate,
} from './silero-model.js';
export { SileroDetector } from './silero.js';
export { SileroPool, type SileroPoolOptions } from './silero-pool.js';
export {
  WebRtcDetector,
  loadFvadModule,
  type WebRtcFrameMs,
  type WebRtcMode,
  type WebRtcOptions,
  type WebRtcRate,
} from './webrtc.js';
