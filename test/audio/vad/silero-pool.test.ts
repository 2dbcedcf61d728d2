// Silero on inference threads: the same probabilities as on the event loop, windows of concurrent
// calls batched, and a thread that dies or cannot load reported with a code, not a hang.
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SILERO_CONTEXT_SAMPLES,
  SILERO_STATE_FLOATS,
  SILERO_WINDOW_SAMPLES,
  SileroModel,
  defaultSileroModelPath,
} from '../../../src/audio/vad/silero-model.js';
import { SileroPool } from '../../../src/audio/vad/silero-pool.js';
import { SileroDetector } from '../../../src/audio/vad/silero.js';
import { probabilities } from './fixtures.js';

const closing: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  await Promise.all(closing.map((m) => m.close()));
});

async function pool(options: Partial<Parameters<typeof SileroPool.create>[0]> = {}) {
  const p = await SileroPool.create({ threads: 1, ...options });
  closing.push(p);
  return p;
}

describe('SileroPool', () => {
  it('scores every fixture as the event-loop model does, batching concurrent calls', async () => {
    const names = [
      'hello-16k.wav',
      'pause-16k.wav',
      'long-16k.wav',
      'hello-8k.wav',
      'hello-8k.wav',
    ];
    const local = await SileroModel.create({ maxBatch: 1 });
    closing.push(local);
    const expected: number[][] = [];
    for (const name of names) expected.push(await probabilities(local, name));

    const threads = await pool({ threads: 2 });
    expect(threads.threads).toBe(2);
    const together = await Promise.all(names.map((name) => probabilities(threads, name)));
    expect(threads.stats.windows).toBe(local.stats.windows);
    // Five calls side by side: most windows shared an inference with another call's.
    expect(threads.stats.runs).toBeLessThan(0.7 * threads.stats.windows);
    together.forEach((probs, i) => {
      const want = expected[i]!;
      expect(probs).toHaveLength(want.length);
      probs.forEach((p, j) => expect(p).toBeCloseTo(want[j]!, 4));
    });
    expect(Math.max(...together[0]!)).toBeGreaterThan(0.9);
  });

  it('sends a frame’s windows to a thread in one round trip, with the same probabilities', async () => {
    const local = await SileroModel.create({ maxBatch: 1 });
    closing.push(local);
    const want = await probabilities(local, 'long-16k.wav');
    const p = await pool();
    // Exotel's 100 ms frames: three or four 32 ms windows each, in one message.
    const got = await probabilities(p, 'long-16k.wav', 100);
    expect(got).toHaveLength(want.length);
    got.forEach((prob, j) => expect(prob).toBeCloseTo(want[j]!, 4));
    expect(p.stats.windows).toBe(want.length);
    expect(p.stats.trips).toBeLessThan(0.4 * want.length);
    // Five calls side by side: runs of different lengths share each step's model run.
    const names = [
      'hello-8k.wav',
      'hello-16k.wav',
      'pause-16k.wav',
      'long-16k.wav',
      'hello-8k.wav',
    ];
    const expected: number[][] = [];
    for (const name of names) expected.push(await probabilities(local, name));
    const together = await Promise.all(names.map((name) => probabilities(p, name, 100)));
    together.forEach((probs, i) => {
      expect(probs).toHaveLength(expected[i]!.length);
      probs.forEach((prob, j) => expect(prob).toBeCloseTo(expected[i]![j]!, 4));
    });
  });

  it('fails a dead thread’s windows with VAD_UNAVAILABLE and replaces the thread', async () => {
    const workers: Worker[] = [];
    const p = await pool({ onSpawn: (w) => workers.push(w) });
    const detector = new SileroDetector(p, 16000);
    await expect(detector.process(new Int16Array(512))).resolves.toBeLessThan(0.1);

    const inFlight = detector.process(new Int16Array(512).fill(3000));
    await workers[0]!.terminate();
    await expect(inFlight).rejects.toMatchObject({ code: 'VAD_UNAVAILABLE' });
    // With no thread up, a window fails at once instead of waiting for one.
    await expect(detector.process(new Int16Array(512))).rejects.toMatchObject({
      code: 'VAD_UNAVAILABLE',
    });
    // A replacement starts after a second and the detector goes on working.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    for (let i = 0; i < 50 && p.threads === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(workers).toHaveLength(2);
    expect(p.threads).toBe(1);
    await expect(detector.process(new Int16Array(512))).resolves.toBeLessThan(0.1);
  });

  it('refuses to start on a model it cannot use, with the loader’s code', async () => {
    const legacy = defaultSileroModelPath().replace('silero_vad_v5', 'silero_vad_legacy');
    await expect(SileroPool.create({ threads: 1, modelPath: legacy })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    await expect(SileroPool.create({ threads: 0 })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    await expect(SileroPool.create({ threads: 1, holdMs: -1 })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });

  it('holds a small batch for more calls under load, never a lone call’s', async () => {
    // The pool's clock is virtual here: a hold ends only when the test moves it on.
    let now = 0;
    const p = await pool({ holdMs: 5, fullBatch: 4, now: () => now });
    const local = await SileroModel.create({ maxBatch: 1 });
    closing.push(local);
    const width = SILERO_CONTEXT_SAMPLES[8000] + SILERO_WINDOW_SAMPLES[8000];
    const window = (seed: number) =>
      Float32Array.from({ length: width }, (_, i) => 0.4 * Math.sin(i * 0.01 * (seed + 1)));
    const state = () => new Float32Array(SILERO_STATE_FLOATS).fill(0.01);
    const idle = () => new Promise((resolve) => setTimeout(resolve, 20));

    // One call: a frame every 100 ms is sent at once, each in its own trip.
    for (let i = 0; i < 20; i++) {
      now += 100;
      await p.inferMany(8000, window(i), 1, state());
    }
    expect(p.stats).toMatchObject({ trips: 20, held: 0 });

    // Load: 300 calls' windows, one a millisecond (a full queue is never held).
    now += 1000;
    const burst: Array<Promise<Float32Array>> = [];
    for (let i = 0; i < 300; i++) {
      now += 1;
      burst.push(p.inferMany(8000, window(i), 1, state()));
    }
    await Promise.all(burst);
    expect(p.stats.held).toBe(0);

    // A lone window now waits for company. The virtual clock stands still (the windows come in
    // separate event-loop turns, 20 ms apart in real time), so only a full batch sends them.
    const trips = p.stats.trips;
    const inputs = [0, 1, 2, 3].map((i) => window(100 + i));
    const states = inputs.map(() => state());
    const answers: Array<Promise<Float32Array>> = [];
    let answered = 0;
    for (let i = 0; i < 3; i++) {
      answers.push(p.inferMany(8000, inputs[i]!, 1, states[i]!.slice()));
      void answers[i]!.then(() => (answered += 1));
      await idle();
    }
    expect(answered).toBe(0);
    expect(p.stats.trips).toBe(trips);
    answers.push(p.inferMany(8000, inputs[3]!, 1, states[3]!.slice()));
    const got = await Promise.all(answers);
    expect(p.stats).toMatchObject({ trips: trips + 1, held: 1 });
    for (let i = 0; i < 4; i++) {
      const want = await local.inferMany(8000, inputs[i]!, 1, states[i]!.slice());
      expect(got[i]![0]).toBeCloseTo(want[0]!, 5);
    }

    // A hold ends when its oldest window has waited holdMs, full or not.
    now += 1;
    const alone = p.inferMany(8000, window(7), 1, state());
    await idle();
    expect(p.stats.trips).toBe(trips + 1);
    now += 5;
    await alone;
    expect(p.stats).toMatchObject({ trips: trips + 2, held: 2 });

    // Load gone: the rate decays within seconds and a window goes at once again.
    now += 5000;
    await p.inferMany(8000, window(8), 1, state());
    expect(p.stats).toMatchObject({ trips: trips + 3, held: 2 });
  });

  it('rejects queued and later windows once closed', async () => {
    const p = await SileroPool.create({ threads: 1 });
    const detectors = Array.from({ length: 4 }, () => new SileroDetector(p, 8000));
    const pending = Promise.allSettled(
      detectors.map((d) => d.process(new Int16Array(256).fill(2000))),
    );
    await p.close();
    for (const r of await pending) {
      expect(r.status).toBe('rejected');
    }
    await expect(new SileroDetector(p, 8000).process(new Int16Array(256))).rejects.toMatchObject({
      code: 'VAD_UNAVAILABLE',
    });
  });
});
