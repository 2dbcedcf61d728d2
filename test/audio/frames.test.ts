import { describe, it, expect } from 'vitest';
import { EXOTEL_MAX_CHUNK_BYTES, FrameSplitter, frameBytesFor } from '../../src/audio/index.js';
import { VoicebotError } from '../../src/errors.js';
import { seededRandom } from '../helpers/tone.js';

/** Bytes 0, 1, 2, ... (mod 251, so frames at different offsets differ). */
function ramp(length: number, start = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (start + i) % 251);
}

describe('frameBytesFor', () => {
  it.each([
    [8000, 320],
    [16000, 640],
    [24000, 960],
  ])('is 20 ms of PCM16 by default: %i Hz -> %i bytes', (rate, bytes) => {
    expect(frameBytesFor(rate)).toBe(bytes);
  });

  it.each([
    [16000, 10, 320],
    [8000, 100, 1600],
    [16000, 100, 3200],
    [24000, 2080, 99_840], // the largest multiple of 320 within 100 KB
  ])('%i Hz x %i ms -> %i bytes', (rate, ms, bytes) => {
    expect(frameBytesFor(rate, ms)).toBe(bytes);
  });

  it.each([
    ['not a multiple of 320 (8 kHz, 10 ms = 160 B)', 8000, 10],
    ['not a multiple of 320 (44.1 kHz, 20 ms = 1764 B)', 44100, 20],
    ['fractional (8 kHz, 0.1 ms)', 8000, 0.1],
    ['over 100 KB (24 kHz, 2100 ms = 100 800 B)', 24000, 2100],
    ['zero duration', 8000, 0],
    ['negative duration', 8000, -20],
    ['zero rate', 0, 20],
    ['NaN rate', Number.NaN, 20],
  ])('throws AUDIO_INVALID when %s', (_name, rate, ms) => {
    expect(() => frameBytesFor(rate, ms)).toThrow(VoicebotError);
    expect(() => frameBytesFor(rate, ms)).toThrow(/multiple of 320/);
  });
});

describe('FrameSplitter', () => {
  it.each([0, 100, 330, 99_840 + 320, -320, 320.5])('rejects frame size %d', (size) => {
    expect(() => new FrameSplitter(size)).toThrow(
      expect.objectContaining({ code: 'AUDIO_INVALID' }),
    );
  });

  it('cuts an exact multiple into whole frames with nothing pending', () => {
    const splitter = new FrameSplitter(640);
    const input = ramp(640 * 3);
    const frames = splitter.push(input);
    expect(frames.map((f) => f.byteLength)).toEqual([640, 640, 640]);
    expect(Buffer.concat(frames).equals(input)).toBe(true);
    expect(frames.every((f) => Buffer.isBuffer(f))).toBe(true);
    expect(splitter.pendingBytes).toBe(0);
    expect(splitter.flush()).toBeNull();
  });

  it('returns whole frames inside a chunk as views of it (no copy)', () => {
    const input = ramp(960 * 2);
    const [first] = new FrameSplitter(960).push(input);
    expect(first?.buffer).toBe(input.buffer);
  });

  it('keeps the remainder and completes the frame on the next push', () => {
    const splitter = new FrameSplitter(320);
    expect(splitter.push(ramp(100))).toEqual([]);
    expect(splitter.pendingBytes).toBe(100);
    const frames = splitter.push(ramp(300, 100));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.equals(ramp(320))).toBe(true);
    expect(splitter.pendingBytes).toBe(80);
  });

  it('reassembles any chunking of the input in order', () => {
    const random = seededRandom(7);
    const input = ramp(50_000);
    const splitter = new FrameSplitter(960);
    const frames: Buffer[] = [];
    for (let at = 0; at < input.length;) {
      const size = 1 + Math.floor(random() * 2000);
      frames.push(...splitter.push(input.subarray(at, at + size)));
      at += size;
    }
    expect(frames.every((f) => f.byteLength === 960)).toBe(true);
    expect(frames).toHaveLength(Math.floor(50_000 / 960));
    const last = splitter.flush();
    expect(Buffer.concat(frames).equals(input.subarray(0, frames.length * 960))).toBe(true);
    expect(last?.subarray(0, 50_000 % 960).equals(input.subarray(frames.length * 960))).toBe(true);
  });

  it('does not let later pushes overwrite frames it already returned', () => {
    const splitter = new FrameSplitter(320);
    splitter.push(ramp(200));
    const [straddling] = splitter.push(ramp(200, 200)); // 200 + 120 -> copied frame
    splitter.push(Uint8Array.from({ length: 400 }, () => 0xee));
    expect(straddling?.equals(ramp(320))).toBe(true);
  });

  it('handles chunks that are unaligned views of a larger buffer', () => {
    const backing = ramp(2000);
    const splitter = new FrameSplitter(640);
    const frames = splitter.push(backing.subarray(1, 1 + 1300));
    expect(frames.map((f) => f.byteLength)).toEqual([640, 640]);
    expect(Buffer.concat(frames).equals(backing.subarray(1, 1 + 1280))).toBe(true);
    expect(splitter.pendingBytes).toBe(20);
  });

  it.each([
    [1, 320],
    [319, 320],
    [320, 320],
    [321, 640],
    [700, 960],
  ])('flush pads %i pending bytes with silence to %i (a multiple of 320)', (pending, padded) => {
    const splitter = new FrameSplitter(3200);
    splitter.push(ramp(pending, 1));
    const out = splitter.flush();
    expect(out?.byteLength).toBe(padded);
    expect(out?.subarray(0, pending).equals(ramp(pending, 1))).toBe(true);
    expect(out?.subarray(pending).every((b) => b === 0)).toBe(true);
    expect(splitter.pendingBytes).toBe(0);
    expect(splitter.flush()).toBeNull();
  });

  it('pads with zeros even when the internal buffer held older bytes', () => {
    const splitter = new FrameSplitter(640);
    splitter.push(Uint8Array.from({ length: 600 }, () => 0xff));
    splitter.reset();
    splitter.push(ramp(10));
    const out = splitter.flush();
    expect(out?.byteLength).toBe(320);
    expect(out?.subarray(10).every((b) => b === 0)).toBe(true);
  });

  it('reset drops the remainder', () => {
    const splitter = new FrameSplitter(320);
    splitter.push(ramp(200));
    splitter.reset();
    expect(splitter.pendingBytes).toBe(0);
    expect(splitter.flush()).toBeNull();
    const frames = splitter.push(ramp(320, 5));
    expect(frames[0]?.equals(ramp(320, 5))).toBe(true);
  });

  it('accepts an empty push', () => {
    const splitter = new FrameSplitter(320);
    expect(splitter.push(new Uint8Array(0))).toEqual([]);
    splitter.push(ramp(10));
    expect(splitter.push(new Uint8Array(0))).toEqual([]);
    expect(splitter.pendingBytes).toBe(10);
  });

  it('never produces a frame over 100 KB, even from one huge push', () => {
    const splitter = new FrameSplitter(frameBytesFor(24000, 2080));
    const frames = splitter.push(new Uint8Array(1_000_000 + 7));
    const last = splitter.flush();
    const all = last ? [...frames, last] : frames;
    expect(all.length).toBeGreaterThan(10);
    for (const f of all) {
      expect(f.byteLength).toBeLessThanOrEqual(EXOTEL_MAX_CHUNK_BYTES);
      expect(f.byteLength % 320).toBe(0);
    }
    expect(all.reduce((n, f) => n + f.byteLength, 0)).toBe(Math.ceil(1_000_007 / 320) * 320);
  });
});
