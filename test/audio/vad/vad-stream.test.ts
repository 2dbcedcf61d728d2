// The streaming wrapper, driven by a scripted detector so that windowing, timing, gating and
// hysteresis can be checked exactly.
import { describe, expect, it } from 'vitest';
import { DetectorVadStream, type VadResampler } from '../../../src/audio/vad/vad-stream.js';
import type { StreamSampleRate, VoiceActivityDetector } from '../../../src/audio/vad/types.js';
import { VoicebotError } from '../../../src/errors.js';

/** Answers each window with the next scripted probability (0.9 when the script runs out). */
class ScriptedDetector implements VoiceActivityDetector {
  readonly windows: Int16Array[] = [];
  resets = 0;
  closed = false;
  #busy = false;

  constructor(
    readonly sampleRate: number,
    readonly frameSamples: number,
    private readonly script: number[] = [],
    private readonly delayMs = 0,
  ) {}

  async process(frame: Int16Array): Promise<number> {
    if (this.#busy) throw new Error('process() called while another window was in flight');
    this.#busy = true;
    this.windows.push(frame.slice());
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.#busy = false;
    const p = this.script[this.windows.length - 1] ?? 0.9;
    if (p < 0) throw new VoicebotError('AUDIO_INVALID', 'scripted failure');
    return p;
  }

  reset(): void {
    this.resets += 1;
  }

  close(): void {
    this.closed = true;
  }
}

/** Loud, non-repeating samples, so every window is above the energy gate and identifiable. */
function ramp(length: number, from = 0): Int16Array {
  return Int16Array.from({ length }, (_, i) => 1000 + ((from + i) % 20000));
}

function stream(
  detector: VoiceActivityDetector,
  options: ConstructorParameters<typeof DetectorVadStream>[4] = {},
  sampleRate: StreamSampleRate = 16000,
  resampler: VadResampler | null = null,
): DetectorVadStream {
  return new DetectorVadStream('silero', sampleRate, detector, resampler, options);
}

describe('DetectorVadStream windowing', () => {
  it('cuts any chunk sizes into the same exact windows, in order', async () => {
    const audio = ramp(512 * 5 + 100);
    const whole = new ScriptedDetector(16000, 512);
    const wholeDecisions = await stream(whole).push(audio);

    const chunked = new ScriptedDetector(16000, 512);
    const s = stream(chunked);
    const chunkDecisions = [];
    let offset = 0;
    for (const size of [1, 37, 320, 1000, 7, 1295]) {
      chunkDecisions.push(...(await s.push(audio.subarray(offset, offset + size))));
      offset += size;
    }
    expect(offset).toBe(audio.length);
    expect(chunkDecisions).toEqual(wholeDecisions);
    expect(wholeDecisions.map((d) => d.startSample)).toEqual([0, 512, 1024, 1536, 2048]);
    expect(wholeDecisions.map((d) => d.startMs)).toEqual([0, 32, 64, 96, 128]);
    expect(wholeDecisions.every((d) => d.durationMs === 32)).toBe(true);
    expect(chunked.windows).toHaveLength(5);
    chunked.windows.forEach((w, i) => expect(w).toEqual(audio.subarray(i * 512, (i + 1) * 512)));
  });

  it('keeps a partial window until it is complete', async () => {
    const s = stream(new ScriptedDetector(8000, 256), {}, 8000);
    expect(await s.push(ramp(255))).toEqual([]);
    const decisions = await s.push(ramp(1, 255));
    expect(decisions).toHaveLength(1);
    expect(s.stats).toEqual({ windows: 1, modelCalls: 1 });
  });

  it('lets the caller reuse its buffer as soon as push returns', async () => {
    const detector = new ScriptedDetector(16000, 512);
    const s = stream(detector);
    const buffer = ramp(512);
    const pending = s.push(buffer);
    buffer.fill(0);
    await pending;
    expect(detector.windows[0]).toEqual(ramp(512));
  });

  it('decides un-awaited pushes in order, one window at a time', async () => {
    const detector = new ScriptedDetector(16000, 512, [0.1, 0.2, 0.3, 0.4], 2);
    const s = stream(detector);
    const pushes = [s.push(ramp(700)), s.push(ramp(700, 700)), s.push(ramp(700, 1400))];
    const results = await Promise.all(pushes);
    expect(results.map((r) => r.map((d) => d.probability))).toEqual([[0.1], [0.2], [0.3, 0.4]]);
    expect(results.flat().map((d) => d.startSample)).toEqual([0, 512, 1024, 1536]);
    // Decided windows are filled again by later pushes: none was reused while still in flight.
    const audio = ramp(2100);
    detector.windows.forEach((w, i) => expect(w).toEqual(audio.subarray(i * 512, (i + 1) * 512)));
  });

  it('reuses decided windows without mixing their audio into later decisions', async () => {
    // Speech whose sound stops at a different point in each window: the end of sound is read
    // from the window after the detector's await, when later pushes have cut new windows.
    const detector = new ScriptedDetector(16000, 512, [], 1);
    const s = stream(detector);
    const frames = Array.from({ length: 6 }, (_, k) => {
      const f = ramp(512, k * 512);
      f.fill(0, 128 + k * 64); // on a 4 ms block boundary (64 samples)
      return f;
    });
    const results = await Promise.all(frames.map((f) => s.push(f)));
    expect(results.flat().map((d) => d.soundEndSample)).toEqual(
      frames.map((_, k) => k * 512 + 128 + k * 64),
    );
  });

  it('reports positions on the stream clock when a resampler sits in front', async () => {
    // A 24 kHz stream decimated 3:2 to a 16 kHz detector by dropping every third sample.
    const resampler: VadResampler & { destroyed: boolean } = {
      destroyed: false,
      push: (pcm) => pcm.filter((_, i) => i % 3 !== 2),
      destroy() {
        this.destroyed = true;
      },
    };
    const detector = new ScriptedDetector(16000, 512);
    const s = stream(detector, {}, 24000, resampler);
    const decisions = await s.push(ramp(768 * 3));
    expect(decisions.map((d) => d.startSample)).toEqual([0, 768, 1536]);
    expect(decisions.map((d) => d.startMs)).toEqual([0, 32, 64]);
    s.close();
    expect(resampler.destroyed).toBe(true);
  });

  it('refuses a resampler that does not match the rates', () => {
    const identity: VadResampler = { push: (pcm) => pcm, destroy: () => undefined };
    expect(() => stream(new ScriptedDetector(16000, 512), {}, 16000, identity)).toThrow(
      VoicebotError,
    );
    expect(() => stream(new ScriptedDetector(16000, 512), {}, 24000, null)).toThrow(VoicebotError);
  });
});

describe('DetectorVadStream energy gate', () => {
  it('settles quiet windows as silence without calling the detector', async () => {
    const detector = new ScriptedDetector(16000, 512, [0.9, 0.9]);
    const s = stream(detector);
    const audio = new Int16Array(512 * 4);
    audio.set(ramp(512), 512); // window 1 loud
    audio.set(ramp(512), 1536); // window 3 loud; windows 0 and 2 are digital silence
    const decisions = await s.push(audio);
    expect(decisions.map((d) => d.gated)).toEqual([true, false, true, false]);
    expect(decisions.map((d) => d.probability)).toEqual([0, 0.9, 0, 0.9]);
    expect(detector.windows).toHaveLength(2);
    expect(s.stats).toEqual({ windows: 4, modelCalls: 2 });
  });

  it('gates at -50 dBFS by default', async () => {
    const detector = new ScriptedDetector(16000, 512);
    const s = stream(detector);
    const hum = (amplitude: number): Int16Array =>
      Int16Array.from({ length: 512 }, (_, i) => (i % 2 ? amplitude : -amplitude));
    const decisions = await s.push(Int16Array.from([...hum(58), ...hum(184)])); // -55, -45 dBFS
    expect(decisions.map((d) => d.gated)).toEqual([true, false]);
    expect(detector.windows).toHaveLength(1);
  });

  it('gates by RMS level, not by exact zeros', async () => {
    const detector = new ScriptedDetector(16000, 512);
    const s = stream(detector, { energyGateDbfs: -40 });
    const hum = Int16Array.from({ length: 512 }, (_, i) => (i % 2 ? 200 : -200)); // -44 dBFS
    expect((await s.push(hum))[0]?.gated).toBe(true);
    expect(detector.windows).toHaveLength(0);
  });

  it('runs the detector on every window when the gate is off', async () => {
    const detector = new ScriptedDetector(16000, 512, [0.7]);
    const decisions = await stream(detector, { energyGateDbfs: null }).push(new Int16Array(512));
    expect(decisions[0]).toMatchObject({ gated: false, probability: 0.7, speech: true });
    expect(detector.windows).toHaveLength(1);
  });
});

describe('DetectorVadStream quiet end (the window still being filled)', () => {
  it('reaches the end of a quiet partial window, on the stream clock', async () => {
    const s = stream(new ScriptedDetector(16000, 512, [0.9]));
    expect(s.quietEnd).toBeNull();
    // One loud window, then 300 samples of digital silence not yet a window.
    const decisions = s.push(Int16Array.from([...ramp(512), ...new Int16Array(300)]));
    expect(s.quietEnd).toBe(812);
    expect((await decisions).map((d) => d.startSample)).toEqual([0]);
    // A hum below the gate (-55 dBFS) counts as quiet, as a gated window would.
    const hum = s.push(Int16Array.from({ length: 100 }, (_, i) => (i % 2 ? 58 : -58)));
    expect(s.quietEnd).toBe(912);
    // Completing the window exactly leaves nothing pending.
    const rest = s.push(new Int16Array(112));
    expect(s.quietEnd).toBeNull();
    expect(await hum).toEqual([]);
    expect((await rest).map((d) => d.gated)).toEqual([true]);
  });

  it('is null when the partial window has sound, or the gate is off', async () => {
    const s = stream(new ScriptedDetector(16000, 512));
    const pushes = [s.push(Int16Array.from([...new Int16Array(200), ...ramp(100)]))];
    expect(s.quietEnd).toBeNull();
    pushes.push(s.push(new Int16Array(100))); // 300 quiet against 100 loud: still above the gate
    expect(s.quietEnd).toBeNull();
    const ungated = stream(new ScriptedDetector(16000, 512), { energyGateDbfs: null });
    pushes.push(ungated.push(new Int16Array(300)));
    expect(ungated.quietEnd).toBeNull();
    expect((await Promise.all(pushes)).flat()).toEqual([]);
  });

  it('converts from the detector rate and forgets the partial window on reset', async () => {
    const doubler: VadResampler = {
      push: (pcm) => Int16Array.from({ length: pcm.length * 2 }, (_, i) => pcm[i >> 1]!),
      destroy: () => undefined,
    };
    const s = stream(new ScriptedDetector(16000, 512), {}, 8000, doubler);
    const pushed = s.push(new Int16Array(100)); // 200 samples at 16 kHz
    expect(s.quietEnd).toBe(100);
    s.reset();
    expect(s.quietEnd).toBeNull();
    expect(await pushed).toEqual([]);
  });
});

describe('DetectorVadStream end of sound in a speech window', () => {
  it('marks where the sound stops inside a speech window, on the stream clock', async () => {
    const detector = new ScriptedDetector(16000, 512, [0.9, 0.9, 0.9]);
    const audio = new Int16Array(512 * 3);
    audio.set(ramp(512)); // window 0 loud to its end
    audio.set(ramp(200, 512), 512); // window 1: sound in its first 200 samples
    audio.set(ramp(512, 1024), 1024); // window 2 loud again
    const decisions = await stream(detector).push(audio);
    expect(decisions.map((d) => d.speech)).toEqual([true, true, true]);
    // 64-sample (4 ms) blocks counted back from the window's end: [192,256) holds samples 192-199.
    expect(decisions.map((d) => d.soundEndSample)).toEqual([undefined, 512 + 256, undefined]);
  });

  it('is absent on silence windows and with the gate off', async () => {
    const audio = new Int16Array(512 * 2);
    audio.set(ramp(100), 512);
    const quietScript = new ScriptedDetector(16000, 512, [0.1]);
    const silenceDecisions = await stream(quietScript).push(audio);
    expect(silenceDecisions.map((d) => d.speech)).toEqual([false, false]);
    expect(silenceDecisions.every((d) => d.soundEndSample === undefined)).toBe(true);
    const ungated = new ScriptedDetector(16000, 512, [0.9, 0.9]);
    const decisions = await stream(ungated, { energyGateDbfs: null }).push(audio);
    expect(decisions.map((d) => d.speech)).toEqual([true, true]);
    expect(decisions.every((d) => d.soundEndSample === undefined)).toBe(true);
  });

  it('converts from the detector rate to the stream rate', async () => {
    // A 16 kHz detector behind a 2:1 "resampler" on an 8 kHz stream.
    const upsample: VadResampler = {
      push: (pcm) => Int16Array.from({ length: pcm.length * 2 }, (_, i) => pcm[i >> 1]!),
      destroy: () => undefined,
    };
    const detector = new ScriptedDetector(16000, 512, [0.9]);
    const s = stream(detector, {}, 8000, upsample);
    const audio = new Int16Array(256);
    audio.set(ramp(64)); // 128 detector samples of sound: blocks end at 128
    const [d] = await s.push(audio);
    expect(d?.soundEndSample).toBe(64);
  });
});

describe('DetectorVadStream speech hysteresis', () => {
  it('starts at threshold and ends only below negThreshold', async () => {
    const script = [0.4, 0.5, 0.36, 0.35, 0.34, 0.49, 0.5];
    const s = stream(new ScriptedDetector(16000, 512, script));
    const decisions = await s.push(ramp(512 * script.length));
    expect(decisions.map((d) => d.speech)).toEqual([false, true, true, true, false, false, true]);
  });

  it('honours custom thresholds', async () => {
    const script = [0.6, 0.75, 0.65, 0.59];
    const s = stream(new ScriptedDetector(16000, 512, script), {
      threshold: 0.7,
      negThreshold: 0.6,
    });
    const decisions = await s.push(ramp(512 * script.length));
    expect(decisions.map((d) => d.speech)).toEqual([false, true, true, false]);
  });

  it('rejects inconsistent thresholds', () => {
    const d = new ScriptedDetector(16000, 512);
    expect(() => stream(d, { threshold: 0.5, negThreshold: 0.6 })).toThrow(VoicebotError);
    expect(() => stream(d, { threshold: 1.5 })).toThrow(VoicebotError);
    expect(() => stream(d, { threshold: 0 })).toThrow(VoicebotError);
  });
});

describe('DetectorVadStream lifecycle', () => {
  it('reset drops the partial window and detector state but keeps the clock', async () => {
    const detector = new ScriptedDetector(16000, 512, [0.9, 0.1]);
    const s = stream(detector);
    const first = await s.push(ramp(512 + 100));
    expect(first.map((d) => d.speech)).toEqual([true]);
    s.reset();
    expect(detector.resets).toBe(1);
    const next = await s.push(ramp(512));
    expect(next.map((d) => d.startSample)).toEqual([612]);
    expect(detector.windows[1]).toEqual(ramp(512));
    // Speech state was cleared too: 0.1 would have been "still speech" only after 0.9.
    expect(next[0]?.speech).toBe(false);
  });

  it('a failing window rejects its push; later pushes still work', async () => {
    const s = stream(new ScriptedDetector(16000, 512, [-1, 0.8]));
    await expect(s.push(ramp(512))).rejects.toThrow('scripted failure');
    const later = await s.push(ramp(512));
    expect(later.map((d) => d.probability)).toEqual([0.8]);
  });

  it('close frees the detector, is idempotent and stops further pushes', async () => {
    const detector = new ScriptedDetector(16000, 512, [], 5);
    const s = stream(detector);
    const inFlight = s.push(ramp(512 * 3));
    await new Promise((resolve) => setTimeout(resolve, 1));
    s.close();
    s.close();
    expect(detector.closed).toBe(true);
    expect((await inFlight).length).toBeLessThan(3);
    await expect(s.push(ramp(512))).rejects.toMatchObject({ code: 'AUDIO_INVALID' });
  });
});
