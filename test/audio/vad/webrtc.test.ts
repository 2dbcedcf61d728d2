// WebRTC (libfvad WASM) specifics: options, frame sizes, reset and freeing WASM memory.
import { describe, expect, it } from 'vitest';
import {
  WebRtcDetector,
  loadFvadModule,
  type WebRtcFrameMs,
  type WebRtcMode,
} from '../../../src/audio/vad/webrtc.js';
import { DetectorVadStream } from '../../../src/audio/vad/vad-stream.js';
import { readFixture, runStream, speechMs } from './fixtures.js';

async function speechInHello(mode: WebRtcMode, frameMs: WebRtcFrameMs): Promise<number> {
  const fixture = readFixture('hello-16k.wav');
  const detector = new WebRtcDetector(await loadFvadModule(), 16000, { mode, frameMs });
  const stream = new DetectorVadStream('webrtc', 16000, detector, null, { energyGateDbfs: null });
  const decisions = await runStream(stream, fixture.samples);
  stream.close();
  expect(decisions[0]?.durationMs).toBe(frameMs);
  return speechMs(decisions);
}

describe('WebRtcDetector', () => {
  it.each<WebRtcFrameMs>([10, 20, 30])('works with %i ms frames', async (frameMs) => {
    const ms = await speechInHello(3, frameMs);
    // The voiced part of hello-16k.wav is 2.7 s.
    expect(ms).toBeGreaterThan(2000);
    expect(ms).toBeLessThan(3100);
  });

  it('marks less speech as it gets more aggressive', async () => {
    const quality = await speechInHello(0, 30);
    const aggressive = await speechInHello(3, 30);
    expect(aggressive).toBeLessThan(quality);
  });

  it('validates rate, frame length and mode', async () => {
    const fvad = await loadFvadModule();
    expect(() => new WebRtcDetector(fvad, 24000 as 16000)).toThrow(
      expect.objectContaining({ code: 'SAMPLE_RATE_UNSUPPORTED' }),
    );
    expect(() => new WebRtcDetector(fvad, 16000, { frameMs: 25 as 20 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => new WebRtcDetector(fvad, 16000, { mode: 4 as 3 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    const detector = new WebRtcDetector(fvad, 8000, { frameMs: 20 });
    expect(detector.frameSamples).toBe(160);
    await expect(detector.process(new Int16Array(161))).rejects.toMatchObject({
      code: 'AUDIO_INVALID',
    });
    detector.close();
  });

  it('keeps its mode across reset and answers a replay identically', async () => {
    const fixture = readFixture('pause-16k.wav');
    const detector = new WebRtcDetector(await loadFvadModule(), 16000, { mode: 3 });
    const pass = async (): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i + 480 <= fixture.samples.length; i += 480) {
        out.push(await detector.process(fixture.samples.subarray(i, i + 480)));
      }
      return out;
    };
    const first = await pass();
    detector.reset();
    expect(await pass()).toEqual(first);
    detector.close();

    // A fresh mode-0 detector answers differently, so the comparison above can tell modes apart.
    const lenient = new WebRtcDetector(await loadFvadModule(), 16000, { mode: 0 });
    const other: number[] = [];
    for (let i = 0; i + 480 <= fixture.samples.length; i += 480) {
      other.push(await lenient.process(fixture.samples.subarray(i, i + 480)));
    }
    lenient.close();
    expect(other).not.toEqual(first);
  });

  it('scores a 100 ms frame’s windows at once as it would one by one', async () => {
    const fixture = readFixture('hello-16k.wav');
    const run = async (frameMs: number) => {
      const detector = new WebRtcDetector(await loadFvadModule(), 16000, { frameMs: 30 });
      const stream = new DetectorVadStream('webrtc', 16000, detector, null, {
        energyGateDbfs: null,
      });
      const decisions = await runStream(stream, fixture.samples, frameMs);
      stream.close();
      return decisions.map((d) => d.probability);
    };
    const one = await run(20);
    expect(one.filter((p) => p === 1).length).toBeGreaterThan(50);
    expect(await run(100)).toEqual(one);
    const detector = new WebRtcDetector(await loadFvadModule(), 16000, { frameMs: 30 });
    await expect(
      detector.processMany([new Int16Array(480), new Int16Array(479)]),
    ).rejects.toMatchObject({ code: 'AUDIO_INVALID' });
    detector.close();
    await expect(detector.processMany([new Int16Array(480)])).rejects.toMatchObject({
      code: 'AUDIO_INVALID',
    });
  });

  it('frees its WASM memory on close, and refuses work afterwards', async () => {
    const fvad = await loadFvadModule();
    const warm = new WebRtcDetector(fvad, 16000);
    warm.close();
    const heapBytes = fvad.HEAP16.buffer.byteLength;
    // An fvad instance is ~750 bytes: 50 000 leaked ones would outgrow the 16 MB initial heap.
    for (let i = 0; i < 50_000; i++) new WebRtcDetector(fvad, 16000).close();
    expect(fvad.HEAP16.buffer.byteLength).toBe(heapBytes);

    const detector = new WebRtcDetector(fvad, 16000);
    detector.close();
    detector.close();
    await expect(detector.process(new Int16Array(480))).rejects.toMatchObject({
      code: 'AUDIO_INVALID',
    });
  });
});
