/**
 * The Silero inference thread (see silero-pool.ts): loads its own ONNX session and scores the
 * batches the main thread posts. A batch is runs of consecutive windows from `m` streams (a
 * call's frame of 100 ms is three Silero windows), packed back to back (`input`, width floats
 * each) with the streams' recurrent states in the model's own layout (`state`, [2, m, 128]:
 * `packSileroState`). The thread scores them one model run a step (`SileroModel.runSequences`),
 * so a frame costs one round trip, not one per window; the answer carries every window's
 * probability and the streams' next states, transferred back without copying.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorCode } from '../../errors.js';
import { SileroModel, type SileroRate } from './silero-model.js';

export interface SileroWorkerData {
  modelPath?: string | undefined;
  maxBatch: number;
}

export interface SileroBatchRequest {
  id: number;
  rate: SileroRate;
  /** Windows of each stream in the batch, in order (`SileroModel.runSequences`). */
  lengths: Int32Array;
  input: Float32Array;
  state: Float32Array;
}

export type SileroWorkerMessage =
  | { type: 'ready' }
  | { type: 'load-failed'; code: string; message: string }
  | { type: 'done'; id: number; probabilities: Float32Array; state: Float32Array }
  | { type: 'failed'; id: number; code: string; message: string };

const port = parentPort;
if (port === null) throw new Error('silero-worker.ts runs as a worker thread');
const data = workerData as SileroWorkerData;

try {
  const model = await SileroModel.create({ modelPath: data.modelPath, maxBatch: data.maxBatch });
  port.on('message', (req: SileroBatchRequest) => void score(model, req));
  port.postMessage({ type: 'ready' } satisfies SileroWorkerMessage);
} catch (err) {
  port.postMessage({
    type: 'load-failed',
    code: errorCode(err),
    message: err instanceof Error ? err.message : String(err),
  } satisfies SileroWorkerMessage);
}

async function score(model: SileroModel, req: SileroBatchRequest): Promise<void> {
  try {
    const probabilities = await model.runSequences(req.rate, req.lengths, req.input, req.state);
    const state = req.state;
    port!.postMessage(
      { type: 'done', id: req.id, probabilities, state } satisfies SileroWorkerMessage,
      [probabilities.buffer as ArrayBuffer, state.buffer as ArrayBuffer],
    );
  } catch (err) {
    port!.postMessage({
      type: 'failed',
      id: req.id,
      code: errorCode(err),
      message: err instanceof Error ? err.message : String(err),
    } satisfies SileroWorkerMessage);
  }
}
