import { describe, expect, it } from 'vitest';
import { OBSERVE_MS, StartCushion, StartMeter } from '../../src/telephony/start-cushion.js';

describe('StartCushion', () => {
  it('is the configured cushion until it has seen minSamples streams', () => {
    const c = new StartCushion({ maxMs: 60, minSamples: 3, marginMs: 10 });
    expect(c.for(0, 0)).toBe(60);
    c.record(0, 0);
    c.record(5, 10);
    expect(c.for(0, 20)).toBe(60);
    c.record(0, 20);
    expect(c.for(0, 30)).toBe(15); // the most needed (5) + the margin
  });

  it('follows the most any stream of the last minute needed, never above the configured cushion', () => {
    const c = new StartCushion({ maxMs: 60, minSamples: 1, marginMs: 10 });
    c.record(20, 1_000);
    expect(c.for(0, 1_000)).toBe(30);
    // Hundreds of fast starts after it do not push it out: a loaded server starts dozens a second.
    for (let i = 1; i <= 500; i++) c.record(0, 1_000 + i * 50);
    expect(c.for(0, 30_000)).toBe(30);
    expect(c.for(0, 55_000)).toBe(30); // still remembered (by 5 s buckets: 55 to 60 s)
    c.record(0, 66_000);
    expect(c.for(0, 66_000)).toBe(10); // forgotten a minute on
    c.record(200, 67_000);
    expect(c.for(0, 67_000)).toBe(60); // a stream that needed more than the configured cushion: capped
  });

  it('an idle server keeps the last need once its minute has passed', () => {
    const c = new StartCushion({ maxMs: 60, minSamples: 1, marginMs: 10 });
    c.record(25, 0);
    c.record(5, 1_000);
    expect(c.for(0, 1_000)).toBe(35);
    expect(c.for(0, 600_000)).toBe(15); // ten minutes later: the last reply's need, not the cap
  });

  it('is never less than the longest recent stall plus the margin, nor more than configured', () => {
    const c = new StartCushion({ maxMs: 60, minSamples: 1, marginMs: 10 });
    c.record(5, 0);
    expect(c.for(0, 0)).toBe(15); // the TTS's need
    expect(c.for(30, 0)).toBe(40); // a 30 ms stall: nothing may go out for that long
    expect(c.for(500, 0)).toBe(60);
    expect(new StartCushion({ maxMs: 60 }).for(0, 0)).toBe(60); // nothing learned yet
  });

  it('counts a need below zero as none and ignores non-numbers', () => {
    const c = new StartCushion({ maxMs: 60, minSamples: 1, marginMs: 0 });
    c.record(-30, 0);
    expect(c.for(0, 0)).toBe(0);
    c.record(Number.NaN, 0);
    expect(c.for(0, 0)).toBe(0);
  });
});

describe('StartMeter', () => {
  it('needs nothing when each arrival comes before the audio before it has played', () => {
    const m = new StartMeter();
    // 40 ms of audio every 20 ms (twice real time): always ahead.
    for (let i = 0; i < 10; i++) m.onAudio(40, 1000 + i * 20);
    expect(m.streamed).toBe(true);
    expect(m.neededMs).toBe(0);
  });

  it('needs how far real time ran past the audio received before a late arrival', () => {
    const m = new StartMeter();
    m.onAudio(20, 1000);
    m.onAudio(20, 1015); // 15 ms in, 20 received: fine
    m.onAudio(20, 1075); // 75 ms in, 40 received: a gap of 35 without a cushion
    m.onAudio(20, 1090); // 90 in, 60 received: 30
    expect(m.neededMs).toBe(35);
  });

  it('counts frames written together as one arrival, and a single write as no stream', () => {
    const m = new StartMeter();
    m.onAudio(20, 1000);
    m.onAudio(20, 1000);
    m.onAudio(20, 1000);
    expect(m.streamed).toBe(false);
    expect(m.neededMs).toBe(0);
  });

  it('looks at the first OBSERVE_MS of audio only: later the lead covers gaps', () => {
    const m = new StartMeter();
    m.onAudio(OBSERVE_MS, 1000);
    m.onAudio(20, 1000 + OBSERVE_MS + 300); // late, but past the start
    expect(m.streamed).toBe(true);
    expect(m.neededMs).toBe(0);
  });
});
