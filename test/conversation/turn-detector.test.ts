// TurnDetector on real VADs (Silero, and WebRTC for the basic cases) fed with the speech
// fixtures in 20 ms and 100 ms frames, plus its audio buffer on its own. Fixtures end with only
// 300 ms of silence, so most runs append a second of digital silence: the line stays open.
import { describe, expect, it } from 'vitest';
import { createVad } from '../../src/audio/vad/create-vad.js';
import type { StreamSampleRate, VadKind } from '../../src/audio/vad/types.js';
import { TurnAudioBuffer } from '../../src/conversation/turn-audio.js';
import {
  DEFAULT_TURN_OPTIONS,
  TurnDetector,
  type TurnDetectorOptions,
  type TurnEvent,
} from '../../src/conversation/turn-detector.js';
import { longestZeroRun, readFixture, type Fixture } from '../audio/vad/fixtures.js';
import { concatPcm } from '../helpers/tone.js';

type EventOf<T extends TurnEvent['type']> = Extract<TurnEvent, { type: T }>;

interface Run {
  events: TurnEvent[];
  /** detector.streamMs when each event was returned. */
  seenAtMs: number[];
  /** detector.inTurn after the push that returned each event. */
  inTurnAfter: boolean[];
  inTurnAtEnd: boolean;
  windowMs: number;
}

const silence = (ms: number, rate = 16000): Int16Array => new Int16Array((rate * ms) / 1000);

/** `fixture`'s samples followed by `padMs` of digital silence. */
function padded(fixture: Fixture, padMs = 1000): Int16Array {
  return concatPcm([fixture.samples, silence(padMs, fixture.sampleRate)]);
}

async function detector(
  rate: number,
  opts: Partial<TurnDetectorOptions> = {},
  kind: VadKind = 'silero',
): Promise<TurnDetector> {
  return new TurnDetector(await createVad(kind, rate as StreamSampleRate), rate, opts);
}

async function run(
  samples: Int16Array,
  opts: Partial<TurnDetectorOptions> = {},
  {
    kind = 'silero',
    frameMs = 20,
    rate = 16000,
  }: { kind?: VadKind; frameMs?: number; rate?: number } = {},
): Promise<Run> {
  const vad = await createVad(kind, rate as StreamSampleRate);
  const td = new TurnDetector(vad, rate, opts);
  const out: Run = {
    events: [],
    seenAtMs: [],
    inTurnAfter: [],
    inTurnAtEnd: false,
    windowMs: vad.windowMs,
  };
  const step = (rate * frameMs) / 1000;
  for (let i = 0; i < samples.length; i += step) {
    for (const e of await td.push(samples.subarray(i, i + step))) {
      out.events.push(e);
      out.seenAtMs.push(td.streamMs);
      out.inTurnAfter.push(td.inTurn);
    }
  }
  out.inTurnAtEnd = td.inTurn;
  td.close();
  checkProtocol(out.events, rate);
  return out;
}

/**
 * The rules every event sequence must follow: turns do not nest, barge-in is once per turn, a
 * preempt stays current until a resume names it or an end adopts it (with its very audio), and
 * no turn's audio overlaps the previous one's.
 */
function checkProtocol(events: TurnEvent[], rate: number): void {
  let inTurn = false;
  let bargedIn = false;
  let current: EventOf<'preempt'> | null = null;
  let lastAudioEndMs = 0;
  for (const e of events) {
    if (e.type === 'speech-start') {
      expect(inTurn).toBe(false);
      expect(e.atMs).toBeGreaterThanOrEqual(lastAudioEndMs);
      inTurn = true;
      bargedIn = false;
      continue;
    }
    expect(inTurn).toBe(true);
    if (e.type === 'barge-in') {
      expect(bargedIn).toBe(false);
      bargedIn = true;
    } else if (e.type === 'preempt') {
      expect(current).toBeNull();
      current = e;
    } else if (e.type === 'resume') {
      expect(e.preemptId).toBe(current?.id);
      current = null;
    } else {
      expect(e.preemptId).toBe(current?.id);
      if (current) expect(e.audio).toBe(current.audio);
      expect(e.startMs).toBeGreaterThanOrEqual(lastAudioEndMs);
      lastAudioEndMs = e.startMs + ms(e.audio, rate);
      inTurn = false;
      current = null;
    }
  }
}

const types = (r: Run): string[] => r.events.map((e) => e.type);
function all<T extends TurnEvent['type']>(r: Run, type: T): EventOf<T>[] {
  return r.events.filter((e): e is EventOf<T> => e.type === type);
}
function one<T extends TurnEvent['type']>(r: Run, type: T): EventOf<T> {
  const found = all(r, type);
  expect(found).toHaveLength(1);
  return found[0]!;
}
/** The stream samples [fromMs, fromMs + length) at `rate`. */
const slice = (src: Int16Array, fromMs: number, length: number, rate = 16000): Int16Array => {
  const from = Math.round((fromMs * rate) / 1000);
  return src.subarray(from, from + length);
};
const ms = (audio: Int16Array, rate = 16000): number => (audio.length * 1000) / rate;

/** `fixture` padded, with `gapMs` zeroed in every 400 ms of the voiced part (a 16 kHz fixture). */
function zeroGaps(fixture: Fixture, gapMs: number): Int16Array {
  const out = padded(fixture);
  for (let at = 600; at < 2800; at += 400) out.fill(0, at * 16, (at + gapMs) * 16);
  return out;
}

const TAIL_MS = DEFAULT_TURN_OPTIONS.preemptMs;
const PRE_ROLL_MS = DEFAULT_TURN_OPTIONS.preRollMs;

describe('TurnDetector: one sentence (hello)', () => {
  const cases: [VadKind, number][] = [
    ['silero', 20],
    ['silero', 100],
    ['webrtc', 20],
    ['webrtc', 100],
  ];
  it.each(cases)(
    '%s in %d ms frames: exactly one turn with a covering preempt',
    async (kind, frameMs) => {
      const hello = readFixture('hello-16k.wav');
      const src = padded(hello);
      const r = await run(src, {}, { kind, frameMs });
      expect(types(r)).toEqual(['speech-start', 'barge-in', 'preempt', 'end']);
      expect(r.inTurnAfter).toEqual([true, true, true, false]);
      expect(r.inTurnAtEnd).toBe(false);

      const start = one(r, 'speech-start');
      const end = one(r, 'end');
      const preempt = one(r, 'preempt');
      expect(start.atMs).toBeGreaterThanOrEqual(300 - 150);
      expect(start.atMs).toBeLessThanOrEqual(300 + 150);
      expect(Math.abs(end.speechEndMs - (hello.durationMs - 300))).toBeLessThanOrEqual(200);
      // The speech ends where the sound does (to a 4 ms block), not at the end of the VAD window
      // that holds it: the silences that preempt and end the turn are timed from the voice.
      const lastSoundMs = (hello.samples.findLastIndex((v) => v !== 0) + 1) / 16;
      expect(Math.abs(end.speechEndMs - lastSoundMs)).toBeLessThanOrEqual(4);
      expect(end.reason).toBe('silence');
      expect(end.endMs - end.speechEndMs).toBeGreaterThanOrEqual(500);
      expect(end.endMs - end.speechEndMs).toBeLessThan(500 + r.windowMs);
      // It is seen with the first frame that brings 500 ms of silence, not when the VAD window
      // holding that moment is complete: with 100 ms frames and 30 or 32 ms windows that would
      // often be a frame later (the silence runs through the quiet part of a window received).
      const endSeen = r.seenAtMs[r.events.indexOf(end)]!;
      expect(endSeen - end.speechEndMs).toBeLessThan(500 + frameMs);
      expect(end.endMs).toBeLessThanOrEqual(endSeen);
      expect(end.voicedMs).toBeGreaterThan(0.8 * (end.speechEndMs - start.atMs));
      expect(end.voicedMs).toBeLessThanOrEqual(end.speechEndMs - start.atMs);

      // The audio: pre-roll, the speech, then the tail, sample for sample from the stream.
      expect(end.startMs).toBe(Math.max(start.atMs - PRE_ROLL_MS, 0));
      expect(ms(end.audio)).toBeCloseTo(end.speechEndMs + TAIL_MS - end.startMs, 6);
      expect(end.audio).toEqual(slice(src, end.startMs, end.audio.length));
      expect(end.audio.some((v) => v !== 0)).toBe(true);

      // The preempt came at 200 ms of trailing silence and is exactly the final audio.
      const preemptSeen = r.seenAtMs[r.events.indexOf(preempt)]!;
      expect(preemptSeen - end.speechEndMs).toBeGreaterThanOrEqual(200);
      expect(preemptSeen - end.speechEndMs).toBeLessThan(200 + frameMs);
      expect(preempt.startMs).toBe(end.startMs);
      expect(preempt.endMs).toBe(end.speechEndMs + TAIL_MS);
      expect(end.preemptId).toBe(preempt.id);
      expect(end.audio).toEqual(preempt.audio);
    },
  );

  it('waits for the window when the silence after the voice is above the energy gate', async () => {
    // A hum at -45 dBFS after the voice: Silero calls it silence, but only a whole window can say
    // so, so the turn ends at a window's end (32 ms windows from the stream's start).
    const hello = readFixture('hello-16k.wav');
    const hum = Int16Array.from({ length: 16000 }, (_, i) => (i % 2 ? 184 : -184));
    const r = await run(concatPcm([hello.samples, hum]), {}, { frameMs: 100 });
    const end = one(r, 'end');
    expect(end.reason).toBe('silence');
    expect((end.endMs * 16) % 512).toBe(0);
    const quiet = await run(padded(hello), {}, { frameMs: 100 });
    // With digital silence the same turn ends on a frame's end, sooner.
    expect(one(quiet, 'end').endMs % 100).toBe(0);
    expect(one(quiet, 'end').endMs).toBeLessThan(end.endMs);
  });

  it('gives the same events whatever the frame size', async () => {
    const src = padded(readFixture('hello-16k.wav'));
    const a = await run(src, {}, { frameMs: 20 });
    const b = await run(src, {}, { frameMs: 100 });
    expect(b.events).toEqual(a.events);
  });

  it.each([8000, 24000])('works on a %d Hz stream', async (rate) => {
    const hello = readFixture(`hello-${rate / 1000}k.wav`);
    expect(hello.sampleRate).toBe(rate);
    const src = padded(hello);
    const r = await run(src, {}, { rate });
    expect(types(r)).toEqual(['speech-start', 'barge-in', 'preempt', 'end']);
    const start = one(r, 'speech-start');
    const end = one(r, 'end');
    expect(Math.abs(start.atMs - 300)).toBeLessThanOrEqual(150);
    expect(Math.abs(end.speechEndMs - (hello.durationMs - 300))).toBeLessThanOrEqual(200);
    expect(ms(end.audio, rate)).toBeCloseTo(end.speechEndMs + TAIL_MS - end.startMs, 6);
    expect(end.audio).toEqual(slice(src, end.startMs, end.audio.length, rate));
    expect(end.preemptId).toBe(one(r, 'preempt').id);
  });
});

describe('TurnDetector: pauses', () => {
  it.each(['silero', 'webrtc'] as const)(
    '%s: a 600 ms pause ends the turn at endpointing 500; the rest is a new turn',
    async (kind) => {
      const pause = readFixture('pause-16k.wav');
      const gap = longestZeroRun(pause);
      expect(gap.endMs - gap.startMs).toBeGreaterThan(550);
      const r = await run(padded(pause), { endpointingMs: 500 }, { kind });
      expect(types(r)).toEqual([
        ...['speech-start', 'barge-in', 'preempt', 'end'],
        ...['speech-start', 'barge-in', 'preempt', 'end'],
      ]);
      const [first, second] = all(r, 'end');
      const starts = all(r, 'speech-start');
      expect(Math.abs(first!.speechEndMs - gap.startMs)).toBeLessThanOrEqual(100);
      expect(first!.endMs).toBeLessThan(gap.endMs); // ended inside the pause
      expect(first!.preemptId).toBe(all(r, 'preempt')[0]!.id);
      expect(Math.abs(starts[1]!.atMs - gap.endMs)).toBeLessThanOrEqual(100);
      // The second turn's pre-roll does not repeat the first turn's audio.
      expect(second!.startMs).toBeGreaterThanOrEqual(first!.startMs + ms(first!.audio));
      expect(second!.startMs).toBe(starts[1]!.atMs - PRE_ROLL_MS);
      expect(second!.id).not.toBe(first!.id);
    },
  );

  it.each(['silero', 'webrtc'] as const)(
    '%s: at endpointing 800 the pause is one turn with a preempt and a resume',
    async (kind) => {
      const pause = readFixture('pause-16k.wav');
      const gap = longestZeroRun(pause);
      const src = padded(pause);
      const r = await run(src, { endpointingMs: 800 }, { kind });
      expect(types(r)).toEqual(['speech-start', 'barge-in', 'preempt', 'resume', 'preempt', 'end']);
      const [stale, final] = all(r, 'preempt');
      const resume = one(r, 'resume');
      const end = one(r, 'end');
      expect(stale!.endMs).toBeLessThan(gap.endMs);
      expect(resume.preemptId).toBe(stale!.id);
      expect(Math.abs(resume.atMs - gap.endMs)).toBeLessThanOrEqual(100);
      expect(r.seenAtMs[r.events.indexOf(resume)]! - resume.atMs).toBeLessThan(250);
      expect(end.preemptId).toBe(final!.id);
      expect(end.endMs - end.speechEndMs).toBeGreaterThanOrEqual(800);
      expect(end.startMs).toBe(one(r, 'speech-start').atMs - PRE_ROLL_MS);
      expect(end.audio).toEqual(slice(src, end.startMs, end.audio.length));
      expect(ms(end.audio)).toBeCloseTo(end.speechEndMs + TAIL_MS - end.startMs, 6);
    },
  );

  it('does not let VAD flicker inside speech cause preempts or resumes', async () => {
    const hello = readFixture('hello-16k.wav');
    const withGaps = (gapMs: number): Int16Array => zeroGaps(hello, gapMs);
    const flicker = await run(withGaps(80));
    expect(types(flicker)).toEqual(['speech-start', 'barge-in', 'preempt', 'end']);
    const clean = await run(padded(hello));
    expect(one(flicker, 'end').voicedMs).toBeGreaterThan(0.8 * one(clean, 'end').voicedMs);
    // Real pauses at the same places do produce them.
    const pauses = await run(withGaps(300));
    expect(all(pauses, 'preempt').length).toBeGreaterThan(1);
    expect(all(pauses, 'resume').length).toBeGreaterThan(0);
  });

  it('confirms a resume after a preempt even when preemptMs is shorter than flicker', async () => {
    // At preemptMs 50 the 64-128 ms gaps inside the sentence each produce a preempt; the speech
    // after each must retract it (checkProtocol) before it counts.
    const r = await run(zeroGaps(readFixture('hello-16k.wav'), 80), { preemptMs: 50 });
    expect(all(r, 'preempt').length).toBeGreaterThan(1);
    expect(all(r, 'resume')).toHaveLength(all(r, 'preempt').length - 1);
    expect(one(r, 'end').preemptId).toBe(all(r, 'preempt').at(-1)!.id);
  });

  it('bridges flicker before the onset: two 64 ms bursts 64 ms apart start a turn', async () => {
    const hello = readFixture('hello-16k.wav');
    const burst = slice(hello.samples, 1000, 64 * 16);
    const pair = (gapMs: number): Int16Array =>
      concatPcm([silence(500), burst, silence(gapMs), burst, silence(1000)]);
    const close = await run(pair(64));
    const start = one(close, 'speech-start');
    expect(Math.abs(start.atMs - 500)).toBeLessThanOrEqual(64);
    // Far apart, each burst is a blip of its own and minSpeechMs drops both.
    const apart = await run(pair(400));
    expect(apart.events).toEqual([]);
  });
});

describe('TurnDetector: short sounds', () => {
  it('a 242 ms backchannel is a turn; it barges in at bargeInMs 150 but not at 300', async () => {
    const src = padded(readFixture('haan-16k.wav'));
    const strict = await run(src, { bargeInMs: 300 });
    expect(types(strict)).toEqual(['speech-start', 'preempt', 'end']);
    expect(one(strict, 'end').voicedMs).toBeLessThan(300);
    const eager = await run(src, { bargeInMs: 150 });
    expect(types(eager)).toEqual(['speech-start', 'barge-in', 'preempt', 'end']);
    const bargeIn = one(eager, 'barge-in');
    expect(bargeIn.voicedMs).toBeGreaterThanOrEqual(150);
    expect(bargeIn.atMs).toBeGreaterThan(one(eager, 'speech-start').atMs);
    expect(bargeIn.atMs).toBeLessThan(one(eager, 'end').speechEndMs + 1);
  });

  it('minSpeechMs drops a single 60 ms blip of speech', async () => {
    const hello = readFixture('hello-16k.wav');
    const blip = concatPcm([silence(500), slice(hello.samples, 1000, 60 * 16), silence(1000)]);
    expect((await run(blip)).events).toEqual([]);
    // The blip is voiced: a lower minSpeechMs makes it a turn.
    const low = await run(blip, { minSpeechMs: 30 });
    expect(types(low)).toEqual(['speech-start', 'preempt', 'end']);
  });

  it('a blip after a preempt does not invalidate it; real speech does', async () => {
    const hello = readFixture('hello-16k.wav');
    const after = (extra: Int16Array): Int16Array =>
      concatPcm([hello.samples, extra, silence(1000)]);
    const blip = await run(after(slice(hello.samples, 1000, 60 * 16)));
    expect(types(blip)).toEqual(['speech-start', 'barge-in', 'preempt', 'end']);
    expect(one(blip, 'end').preemptId).toBe(one(blip, 'preempt').id);
    expect(one(blip, 'end').audio).toBe(one(blip, 'preempt').audio);

    const words = await run(after(slice(hello.samples, 1000, 300 * 16)));
    expect(types(words)).toEqual([
      'speech-start',
      'barge-in',
      'preempt',
      'resume',
      'preempt',
      'end',
    ]);
    expect(one(words, 'end').preemptId).toBe(all(words, 'preempt')[1]!.id);
  });

  it.each(['silero', 'webrtc'] as const)(
    '%s: noise and digital silence give no events',
    async (kind) => {
      const noise = readFixture('noise-16k.wav');
      expect((await run(noise.samples, {}, { kind })).events).toEqual([]);
      expect((await run(silence(3000), {}, { kind })).events).toEqual([]);
      // The same noise made louder is speech-like enough to start a turn on WebRTC, so the
      // quiet run above could have failed.
      if (kind === 'webrtc') {
        const loud = noise.samples.map((v) => Math.max(-32768, Math.min(32767, v * 8)));
        expect((await run(loud, { minSpeechMs: 30 }, { kind })).events.length).toBeGreaterThan(0);
      }
    },
  );
});

describe('TurnDetector: max length', () => {
  it('cuts a long utterance at maxUtteranceMs and starts the next turn at the cut', async () => {
    const src = padded(readFixture('long-16k.wav'));
    const r = await run(src, { maxUtteranceMs: 3000 });
    const starts = all(r, 'speech-start');
    const ends = all(r, 'end');
    expect(ends.length).toBeGreaterThanOrEqual(2);
    const [first, second] = ends;
    expect(first!.reason).toBe('max-length');
    expect(first!.endMs - starts[0]!.atMs).toBeGreaterThanOrEqual(3000);
    expect(first!.endMs - starts[0]!.atMs).toBeLessThan(3000 + r.windowMs);
    expect(first!.preemptId).toBeUndefined();
    expect(types(r).slice(0, types(r).indexOf('end'))).toEqual(['speech-start', 'barge-in']);
    // Speech went on, so a new turn begins exactly where the first one's audio stops.
    expect(starts[1]!.atMs).toBe(first!.endMs);
    expect(second!.startMs).toBe(first!.startMs + ms(first!.audio));
    const joined = concatPcm([first!.audio, second!.audio]);
    expect(joined).toEqual(slice(src, first!.startMs, joined.length));
  });
});

describe('TurnDetector: API', () => {
  it('keeps call order when pushes are not awaited, and copies each frame', async () => {
    const src = padded(readFixture('pause-16k.wav'));
    const expected = await run(src, { endpointingMs: 800 });
    const td = await detector(16000, { endpointingMs: 800 });
    const scratch = new Int16Array(320);
    const pending: Promise<TurnEvent[]>[] = [];
    for (let i = 0; i < src.length; i += 320) {
      const chunk = src.subarray(i, i + 320);
      scratch.set(chunk);
      pending.push(td.push(scratch.subarray(0, chunk.length)));
      scratch.fill(12345); // the caller reuses its buffer at once
    }
    expect(td.streamMs).toBe((src.length * 1000) / 16000);
    const events = (await Promise.all(pending)).flat();
    td.close();
    expect(events).toEqual(expected.events);
  });

  it('reset() drops the current turn; later speech is a new turn after the reset', async () => {
    const hello = readFixture('hello-16k.wav');
    const src = padded(hello);
    const td = await detector(16000);
    const events: TurnEvent[] = [];
    const cut = 1200 * 16;
    for (let i = 0; i < cut; i += 320) events.push(...(await td.push(src.subarray(i, i + 320))));
    expect(td.inTurn).toBe(true);
    td.reset();
    expect(td.inTurn).toBe(false);
    for (let i = cut; i < src.length; i += 320)
      events.push(...(await td.push(src.subarray(i, i + 320))));
    td.close();
    const ends = events.filter((e): e is EventOf<'end'> => e.type === 'end');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.startMs).toBeGreaterThanOrEqual(1200);
    expect(events.filter((e) => e.type === 'speech-start')).toHaveLength(2);
  });

  it('reset() also discards pushes still being decided', async () => {
    const src = padded(readFixture('hello-16k.wav'));
    const td = await detector(16000);
    const cut = 1500 * 16;
    const before: Promise<TurnEvent[]>[] = [];
    for (let i = 0; i < cut; i += 320) before.push(td.push(src.subarray(i, i + 320)));
    td.reset();
    const after: Promise<TurnEvent[]>[] = [];
    for (let i = cut; i < src.length; i += 320) after.push(td.push(src.subarray(i, i + 320)));
    expect((await Promise.all(before)).flat()).toEqual([]);
    const events = (await Promise.all(after)).flat();
    td.close();
    expect(events.map((e) => e.type)).toEqual(['speech-start', 'barge-in', 'preempt', 'end']);
    expect((events[0] as EventOf<'speech-start'>).atMs).toBeGreaterThanOrEqual(1500);
  });

  it('rejects pushes after close() and bad options', async () => {
    const td = await detector(16000);
    td.close();
    td.close();
    await expect(td.push(silence(20))).rejects.toMatchObject({ code: 'AUDIO_INVALID' });
    const vad = await createVad('silero', 16000);
    expect(() => new TurnDetector(vad, 8000)).toThrow(
      expect.objectContaining({ code: 'SAMPLE_RATE_UNSUPPORTED' }),
    );
    expect(() => new TurnDetector(vad, 16000, { endpointingMs: -1 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => new TurnDetector(vad, 16000, { minSpeechMs: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    // A wider config object (the engine's, with the VAD kind in it) is fine; extra keys are dropped.
    const wide = { vad: 'silero', endpointingMs: 700 } as Partial<TurnDetectorOptions>;
    expect(new TurnDetector(vad, 16000, wide).options).toEqual({
      ...DEFAULT_TURN_OPTIONS,
      endpointingMs: 700,
    });
    vad.close();
  });
});

describe('TurnAudioBuffer', () => {
  const frame = (first: number, n = 320): Int16Array =>
    Int16Array.from({ length: n }, (_, i) => (first + i) % 32768);

  it('holds only what is kept while idle and returns samples by stream index', () => {
    const buf = new TurnAudioBuffer(16000);
    for (let at = 0; at < 16000 * 20; at += 320) {
      buf.append(frame(at));
      buf.keepFrom(at - 4800);
    }
    expect(buf.capacity).toBe(16000);
    expect(buf.end).toBe(16000 * 20);
    const want = frame(16000 * 20 - 4800, 4800);
    expect(buf.copy(16000 * 20 - 4800, 16000 * 20)).toEqual(want);
    expect(() => buf.copy(0, 10)).toThrow(RangeError);
  });

  it('grows for a long turn and shrinks back once it is released', () => {
    // Doubling from 1 s would reach 16 s; the cap (the longest turn) stops it at 11 s.
    const buf = new TurnAudioBuffer(16000, 16000 * 11);
    buf.keepFrom(1000);
    for (let at = 0; at < 16000 * 10; at += 320) buf.append(frame(at));
    expect(buf.capacity).toBe(16000 * 11);
    expect(buf.copy(1000, 16000 * 10)).toEqual(frame(1000, 16000 * 10 - 1000));
    buf.keepFrom(16000 * 10 - 4800);
    buf.release();
    expect(buf.capacity).toBe(16000);
    expect(buf.copy(16000 * 10 - 4800, 16000 * 10)).toEqual(frame(16000 * 10 - 4800, 4800));
  });
});
