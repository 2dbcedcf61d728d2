/**
 * Voice activity detection contracts. A detector scores fixed windows at its own native rate; a
 * `VadStream` (one per call) adapts the call's audio to it and reports one decision per window.
 */

/** Sample rates an Exotel stream can carry. */
export type StreamSampleRate = 8000 | 16000 | 24000;

export type VadKind = 'silero' | 'webrtc';

/**
 * One detector instance holds one call's state; windows must be fed in order. Heavy resources (an
 * ONNX session, a WASM module) are shared per process by the implementations, not per detector.
 */
export interface VoiceActivityDetector {
  /** Rate in Hz that `process` expects (8000 or 16000 here). */
  readonly sampleRate: number;
  /** Exact number of samples `process` expects per window. */
  readonly frameSamples: number;
  /**
   * Speech probability in 0..1 for the next window (WebRTC answers only 0 or 1). `frame` is read
   * before this returns, so the caller may reuse it. Rejects with `AUDIO_INVALID` when the window
   * has the wrong length, the previous window is still in flight, or the detector is closed.
   */
  process(frame: Int16Array): Promise<number>;
  /**
   * The next windows in order, scored in one go where that is cheaper (Silero on inference
   * threads: one round trip for all of them); the same answers as `process` on each in turn.
   */
  processMany?(frames: readonly Int16Array[]): Promise<number[]>;
  /** Forgets the history, as if the next window started a new stream. */
  reset(): void;
  /** Releases this detector's resources; idempotent. The shared model stays loaded. */
  close(): void;
}

/** The verdict for one detector window. Positions are on the stream's clock (not the model's). */
export interface VadDecision {
  /**
   * First sample of the window at the stream rate, counted from the start of the stream. Behind a
   * resampler (24 kHz streams) the audio lags this by the filter delay, a few milliseconds.
   */
  readonly startSample: number;
  /** `startSample` in milliseconds. */
  readonly startMs: number;
  /** Window length in milliseconds (32 for Silero, 10/20/30 for WebRTC). */
  readonly durationMs: number;
  /** Detector output in 0..1; 0 when the energy gate skipped the model. */
  readonly probability: number;
  /**
   * Speech with hysteresis: becomes true when `probability >= threshold` and stays true until
   * `probability < negThreshold`.
   */
  readonly speech: boolean;
  /** True when the window was below the energy gate and the model was not run. */
  readonly gated: boolean;
  /**
   * On a speech window whose sound stops before its end (its last 4 ms blocks are below the
   * energy gate): the stream sample where the sound stops. The voice ended there, not at the
   * window's end, so the silence that ends the turn is timed from it. Absent otherwise (and
   * when the gate is off).
   */
  readonly soundEndSample?: number;
}

export interface VadStreamStats {
  /** Windows decided so far. */
  windows: number;
  /** Windows that reached the detector (the rest were gated). */
  modelCalls: number;
}

/** Per-call streaming VAD: accepts audio of any length at the stream rate. */
export interface VadStream {
  readonly kind: VadKind;
  /** Rate of the audio given to `push`. */
  readonly sampleRate: StreamSampleRate;
  /** Length of one decision window in milliseconds. */
  readonly windowMs: number;
  readonly stats: Readonly<VadStreamStats>;
  /**
   * Buffers `pcm` and resolves with the decisions for every window it completed (possibly none).
   * Calls are processed in order even if the caller does not await each one. Rejects with
   * `AUDIO_INVALID` after `close()`.
   */
  push(pcm: Int16Array): Promise<VadDecision[]>;
  /**
   * Read right after a `push`: the stream sample to which the audio past the last complete window
   * (the window still being filled) is below the energy gate, as a gated window is; null when that
   * part is empty or has sound, or the gate is off. A silence can be timed to here at once instead
   * of when the window fills (with 100 ms frames and 30 or 32 ms windows, often a frame later).
   */
  readonly quietEnd: number | null;
  /** Drops buffered audio and detector state (e.g. after the bot barged in); time keeps running. */
  reset(): void;
  /** Releases the detector and resampler. Idempotent; pending pushes resolve with what they had. */
  close(): void;
}
