// Both VADs end to end through createVad() on the espeak-ng / sox fixtures (see
// test/fixtures/README.md): speech where the voice is, the 600 ms pause, nothing in noise or
// silence, at 8, 16 and 24 kHz.
import { afterEach, describe, expect, it } from 'vitest';
import { createVad } from '../../../src/audio/vad/create-vad.js';
import type {
  StreamSampleRate,
  VadDecision,
  VadKind,
  VadStream,
} from '../../../src/audio/vad/types.js';
import {
  FIXTURE_PAD_MS,
  type Fixture,
  endMs,
  longestSilence,
  longestZeroRun,
  readFixture,
  runStream,
  speechMs,
} from './fixtures.js';

const open: VadStream[] = [];
async function vad(
  kind: VadKind,
  rate: StreamSampleRate,
  options: Parameters<typeof createVad>[2] = {},
): Promise<VadStream> {
  const stream = await createVad(kind, rate, options);
  open.push(stream);
  return stream;
}
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/** Speech is reported where the fixture is voiced: 300 ms .. duration - 300 ms. */
function expectSpeechWhereVoiced(decisions: VadDecision[], fixture: Fixture, minCover = 0.7): void {
  const voicedStart = FIXTURE_PAD_MS;
  const voicedEnd = fixture.durationMs - FIXTURE_PAD_MS;
  const speech = decisions.filter((d) => d.speech);
  expect(speech.length).toBeGreaterThan(0);
  // Nothing in the leading silence, nothing long after the voice stops.
  expect(speech.filter((d) => endMs(d) <= voicedStart)).toEqual([]);
  expect(speech.filter((d) => d.startMs > voicedEnd + 300)).toEqual([]);
  // Onset within 500 ms of the voice; the last speech window near its end.
  expect(speech[0]!.startMs).toBeLessThanOrEqual(voicedStart + 500);
  expect(endMs(speech.at(-1)!)).toBeGreaterThanOrEqual(voicedEnd - 500);
  const inside = decisions.filter((d) => d.startMs >= voicedStart && endMs(d) <= voicedEnd);
  expect(speechMs(inside)).toBeGreaterThanOrEqual(minCover * (voicedEnd - voicedStart));
}

/** Most speech a VAD may report in 2 s of -40 dBFS white noise. */
const NOISE_SPEECH_BUDGET_MS: Record<VadKind, number> = {
  silero: 0,
  // libfvad starts with speech-like noise estimates and needs ~100 ms to adapt.
  webrtc: 150,
};

describe.each<VadKind>(['silero', 'webrtc'])('%s VAD on fixtures', (kind) => {
  it.each<[string, StreamSampleRate]>([
    ['hello-8k.wav', 8000],
    ['hello-16k.wav', 16000],
    ['hello-24k.wav', 24000],
  ])('finds the request in %s', async (name, rate) => {
    const fixture = readFixture(name);
    expect(fixture.sampleRate).toBe(rate);
    const stream = await vad(kind, rate);
    const decisions = await runStream(stream, fixture.samples);
    expectSpeechWhereVoiced(decisions, fixture);
    // Positions are on the stream's own clock, whatever rate the detector runs at.
    for (const d of decisions) expect(d.startSample).toBe(Math.round((d.startMs * rate) / 1000));
    expect(endMs(decisions.at(-1)!)).toBeGreaterThan(fixture.durationMs - 2 * stream.windowMs);
  });

  it.each(['hindi-16k.wav', 'long-16k.wav'])('finds the speech in %s', async (name) => {
    const fixture = readFixture(name);
    expectSpeechWhereVoiced(await runStream(await vad(kind, 16000), fixture.samples), fixture);
  });

  it('hears the short backchannel in haan-16k.wav', async () => {
    const fixture = readFixture('haan-16k.wav');
    const decisions = await runStream(await vad(kind, 16000), fixture.samples);
    expectSpeechWhereVoiced(decisions, fixture, 0.5);
    expect(speechMs(decisions)).toBeLessThanOrEqual(600);
  });

  it('reports long speech in one piece, as barge-in needs (long-16k.wav)', async () => {
    const fixture = readFixture('long-16k.wav');
    const decisions = await runStream(await vad(kind, 16000), fixture.samples);
    const voiced = [FIXTURE_PAD_MS + 200, fixture.durationMs - FIXTURE_PAD_MS - 200] as const;
    expect(longestSilence(decisions, ...voiced).ms).toBeLessThan(250);
  });

  it.each([
    ['default gate', {}],
    ['gate off', { energyGateDbfs: null }],
  ])('finds the 600 ms pause in pause-16k.wav (%s)', async (_label, options) => {
    const fixture = readFixture('pause-16k.wav');
    const gap = longestZeroRun(fixture);
    // 600 ms of zeros, less the resampling filter's ringing at its edges.
    expect(gap.endMs - gap.startMs).toBeGreaterThan(550);
    expect(gap.endMs - gap.startMs).toBeLessThanOrEqual(600);
    const decisions = await runStream(await vad(kind, 16000, options), fixture.samples);
    const silence = longestSilence(decisions, 800, fixture.durationMs - 800);
    expect(silence.ms).toBeGreaterThanOrEqual(400);
    expect(silence.startMs).toBeGreaterThanOrEqual(gap.startMs - 100);
    expect(silence.endMs).toBeLessThanOrEqual(gap.endMs + 100);
    // Speech on both sides of it.
    expect(decisions.some((d) => d.speech && endMs(d) <= gap.startMs + 50)).toBe(true);
    expect(decisions.some((d) => d.speech && d.startMs >= gap.endMs - 50)).toBe(true);
  });

  it.each([
    ['default gate', {}],
    ['gate off', { energyGateDbfs: null }],
  ])('finds (almost) no speech in noise-16k.wav (%s)', async (_label, options) => {
    const fixture = readFixture('noise-16k.wav');
    const stream = await vad(kind, 16000, options);
    const decisions = await runStream(stream, fixture.samples);
    // -40 dBFS noise is above the default -50 dBFS gate: the detector itself must reject it.
    expect(stream.stats.modelCalls).toBe(decisions.length);
    expect(decisions.length).toBeGreaterThanOrEqual(60);
    expect(speechMs(decisions)).toBeLessThanOrEqual(NOISE_SPEECH_BUDGET_MS[kind]);
    expect(decisions.filter((d) => d.speech && d.startMs >= 200)).toEqual([]);
  });

  it.each<StreamSampleRate>([8000, 16000, 24000])(
    'finds no speech in digital silence at %i Hz, with or without the gate',
    async (rate) => {
      const silence = new Int16Array(rate * 2);
      const gated = await vad(kind, rate);
      const ungated = await vad(kind, rate, { energyGateDbfs: null });
      const withGate = await runStream(gated, silence);
      const withoutGate = await runStream(ungated, silence);
      expect(withGate.length).toBeGreaterThanOrEqual(60);
      expect(withGate.filter((d) => d.speech)).toEqual([]);
      expect(withoutGate.filter((d) => d.speech)).toEqual([]);
      // The gate skipped every model call; without it the model saw every window.
      expect(gated.stats).toEqual({ windows: withGate.length, modelCalls: 0 });
      expect(withGate.every((d) => d.gated && d.probability === 0)).toBe(true);
      expect(ungated.stats.modelCalls).toBe(withoutGate.length);
    },
  );

  it('gates the padding of a speech fixture but not the speech', async () => {
    const fixture = readFixture('hello-16k.wav');
    const stream = await vad(kind, 16000);
    const decisions = await runStream(stream, fixture.samples);
    const padding = decisions.filter(
      (d) => endMs(d) <= FIXTURE_PAD_MS || d.startMs >= fixture.durationMs - FIXTURE_PAD_MS,
    );
    expect(padding.length).toBeGreaterThanOrEqual(15);
    expect(padding.every((d) => d.gated)).toBe(true);
    expect(stream.stats.modelCalls).toBeLessThanOrEqual(decisions.length - padding.length);
    expect(stream.stats.modelCalls).toBeGreaterThan(0.7 * (decisions.length - padding.length));
  });
});

describe('createVad', () => {
  it('reports its kind, rate and window length', async () => {
    const silero = await vad('silero', 8000);
    const webrtc = await vad('webrtc', 24000, { webrtc: { frameMs: 20 } });
    expect([silero.kind, silero.sampleRate, silero.windowMs]).toEqual(['silero', 8000, 32]);
    expect([webrtc.kind, webrtc.sampleRate, webrtc.windowMs]).toEqual(['webrtc', 24000, 20]);
  });

  it('rejects rates Exotel does not use and unknown kinds', async () => {
    await expect(createVad('silero', 44100 as StreamSampleRate)).rejects.toMatchObject({
      code: 'SAMPLE_RATE_UNSUPPORTED',
    });
    await expect(createVad('nope' as VadKind, 16000)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});
