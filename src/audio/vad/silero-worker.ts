/**
 * The Silero inference thread (see silero-pool.ts): loads its own ONNX session and scores the
 * batches the main thread posts. A batch is `n` windows packed back to back (`input`, n × width
 * floats) with their recurrent states (`state`, n × 256 floats, one stream's state after
 * another); the answer carries the `n` probabilities and the updated states, in the same buffers'
 * layout, transferred back without copying.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorCode } from '../../errors.js';
import {
  SILERO_CONTEXT_SAMPLES,
  SILERO_STATE_FLOATS,
  SILERO_WINDOW_SAMPLES,
  SileroModel,
  type SileroRate,
} from './silero-model.js';

export interface SileroWorkerData {
  modelPath?: string | undefined;
  maxBatch: number;
}

export interface SileroBatchRequest {
  id: number;
  rate: SileroRate;
  n: number;
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
    const width = SILERO_CONTEXT_SAMPLES[req.rate] + SILERO_WINDOW_SAMPLES[req.rate];
    // Submitted in one go, the windows run as one batch; each state view is updated in place.
    const scores = await Promise.all(
      Array.from({ length: req.n }, (_, b) =>
        model.infer(
          req.rate,
          req.input.subarray(b * width, (b + 1) * width),
          req.state.subarray(b * SILERO_STATE_FLOATS, (b + 1) * SILERO_STATE_FLOATS),
        ),
      ),
    );
    const probabilities = Float32Array.from(scores);
    port!.postMessage(
      {
        type: 'done',
        id: req.id,
        probabilities,
        state: req.state,
      } satisfies SileroWorkerMessage,
      [probabilities.buffer, req.state.buffer as ArrayBuffer],
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
