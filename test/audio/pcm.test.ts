import { describe, it, expect } from 'vitest';
import {
  assertSampleRate,
  bytesFromPcm,
  bytesPerMs,
  decodeBase64Strict,
  durationMs,
  encodeBase64,
  pcmFromBytes,
  silence,
} from '../../src/audio/index.js';
import { VoicebotError } from '../../src/errors.js';
import { seededRandom } from '../helpers/tone.js';

/** A Uint8Array holding `bytes` at the given byteOffset of a larger ArrayBuffer. */
function atOffset(bytes: number[], byteOffset: number): Uint8Array {
  const backing = new Uint8Array(byteOffset + bytes.length + 3).fill(0xaa);
  backing.set(bytes, byteOffset);
  return backing.subarray(byteOffset, byteOffset + bytes.length);
}

const EDGE_BYTES = [0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f, 0x34, 0x12];
const EDGE_SAMPLES = [1, -1, -32768, 32767, 0x1234];

describe('pcmFromBytes', () => {
  it('reads signed 16-bit little-endian samples', () => {
    expect(Array.from(pcmFromBytes(Uint8Array.from(EDGE_BYTES)))).toEqual(EDGE_SAMPLES);
  });

  it('returns a zero-copy view when the buffer is 2-byte aligned', () => {
    const buf = atOffset(EDGE_BYTES, 4);
    const pcm = pcmFromBytes(buf);
    expect(pcm.buffer).toBe(buf.buffer);
    expect(pcm.byteOffset).toBe(4);
    expect(Array.from(pcm)).toEqual(EDGE_SAMPLES);
  });

  it.each([1, 3, 7])('copies and decodes correctly at odd byteOffset %i', (offset) => {
    const buf = atOffset(EDGE_BYTES, offset);
    const pcm = pcmFromBytes(buf);
    expect(pcm.buffer).not.toBe(buf.buffer);
    expect(Array.from(pcm)).toEqual(EDGE_SAMPLES);
  });

  it('drops an odd trailing byte, aligned or not', () => {
    expect(Array.from(pcmFromBytes(Uint8Array.from([0x02, 0x00, 0x05])))).toEqual([2]);
    expect(Array.from(pcmFromBytes(atOffset([0x02, 0x00, 0x05], 1)))).toEqual([2]);
    expect(pcmFromBytes(Uint8Array.from([0x05])).length).toBe(0);
  });

  it('handles an empty buffer', () => {
    expect(pcmFromBytes(new Uint8Array(0)).length).toBe(0);
  });

  it('reads a Node Buffer decoded from base64', () => {
    const buf = Buffer.from(Uint8Array.from(EDGE_BYTES)).toString('base64');
    expect(Array.from(pcmFromBytes(Buffer.from(buf, 'base64')))).toEqual(EDGE_SAMPLES);
  });
});

describe('bytesFromPcm', () => {
  it('writes little-endian bytes', () => {
    expect(Array.from(bytesFromPcm(Int16Array.from(EDGE_SAMPLES)))).toEqual(EDGE_BYTES);
  });

  it('covers exactly the samples of a subarray view', () => {
    const pcm = Int16Array.from([9, 1, -1, 9]).subarray(1, 3);
    const bytes = bytesFromPcm(pcm);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(Array.from(bytes)).toEqual([0x01, 0x00, 0xff, 0xff]);
  });

  it('round-trips through pcmFromBytes', () => {
    const random = seededRandom(1);
    const pcm = Int16Array.from({ length: 999 }, () => Math.floor(random() * 65536) - 32768);
    expect(Array.from(pcmFromBytes(bytesFromPcm(pcm)))).toEqual(Array.from(pcm));
  });
});

describe('decodeBase64Strict', () => {
  it.each([
    ['', []],
    ['QQ==', [0x41]],
    ['QUI=', [0x41, 0x42]],
    ['QUJD', [0x41, 0x42, 0x43]],
    ['+/+/', [0xfb, 0xff, 0xbf]],
    ['AAAA', [0, 0, 0]],
  ])('decodes %j', (input, bytes) => {
    const out = decodeBase64Strict(input);
    expect(out).not.toBeNull();
    expect(Array.from(out ?? [])).toEqual(bytes);
  });

  it('round-trips every length from 0 to 64 bytes with encodeBase64', () => {
    const random = seededRandom(2);
    for (let n = 0; n <= 64; n++) {
      const bytes = Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
      const decoded = decodeBase64Strict(encodeBase64(bytes));
      expect(decoded && Array.from(decoded)).toEqual(Array.from(bytes));
    }
  });

  it('decodes a 100 ms 16 kHz frame that contains every byte value', () => {
    const bytes = Uint8Array.from({ length: 3200 }, (_, i) => (i * 7) % 256);
    const decoded = decodeBase64Strict(Buffer.from(bytes).toString('base64'));
    expect(decoded?.equals(bytes)).toBe(true);
  });

  it('gives each frame its own aligned bytes, across slabs and after rejected input', () => {
    const random = seededRandom(5);
    const frames: { bytes: Uint8Array; decoded: Buffer }[] = [];
    // 100 frames of 100 ms at 16 kHz span several 64 KiB slabs; odd sizes and rejects between.
    for (let i = 0; i < 100; i++) {
      const n = i % 3 === 0 ? 3200 : 1 + Math.floor(random() * 2000);
      const bytes = Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
      expect(decodeBase64Strict(`${Buffer.from(bytes).toString('base64').slice(0, -4)}QU*D`)).toBe(
        null,
      );
      const decoded = decodeBase64Strict(Buffer.from(bytes).toString('base64'));
      expect(decoded).not.toBeNull();
      expect(decoded!.byteOffset % 8).toBe(0);
      frames.push({ bytes, decoded: decoded! });
    }
    // Nothing decoded later overwrote an earlier frame.
    for (const { bytes, decoded } of frames) expect(decoded.equals(bytes)).toBe(true);
    expect(pcmFromBytes(frames[0]!.decoded).buffer).toBe(frames[0]!.decoded.buffer);
  });

  it('accepts non-canonical trailing bits (Node decodes them to the same bytes)', () => {
    expect(Array.from(decodeBase64Strict('QR==') ?? [])).toEqual([0x41]);
  });

  it.each([
    ['bad character *', 'QU*D'],
    ['URL-safe -', 'QU-D'],
    ['URL-safe _', 'QU_D'],
    ['non-ASCII', 'QUJé'],
    ['NUL', 'QUJ\u0000'],
    ['a character whose low byte is valid', 'QUJ\u0141'],
  ])('rejects %s', (_name, input) => {
    expect(decodeBase64Strict(input)).toBeNull();
  });

  it.each([
    ['three pad characters', 'Q==='],
    ['only padding', '===='],
    ['padding at the start', '=QUJ'],
    ['padding in the middle', 'QQ=A'],
    ['padding in an inner group', 'QQ==QUJD'],
    ['padding after a full group', 'QUJD===='],
  ])('rejects bad padding: %s', (_name, input) => {
    expect(decodeBase64Strict(input)).toBeNull();
  });

  it.each([
    ['1 character', 'Q'],
    ['2 characters (unpadded)', 'QQ'],
    ['3 characters (unpadded)', 'QUI'],
    ['5 characters', 'QUJDR'],
    ['padded group plus one', 'QQ==Q'],
  ])('rejects a length that is not a multiple of 4: %s', (_name, input) => {
    expect(decodeBase64Strict(input)).toBeNull();
  });

  it.each([
    ['trailing newline', 'QUJD\n'],
    ['leading space', ' QUJ'],
    ['inner space', 'QU JD'],
    ['tab', 'QUJ\t'],
    ['CRLF line break (MIME style)', 'QUJD\r\nQUJD'],
  ])('rejects whitespace: %s', (_name, input) => {
    expect(decodeBase64Strict(input)).toBeNull();
  });
});

/** The strict rule written out as a scan, character by character: the reference. */
function strictByScan(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  for (let i = 0; i < s.length - pad; i++) {
    if (!/[A-Za-z0-9+/]/.test(s[i]!)) return false;
  }
  return true;
}

describe('decodeBase64Strict against the rule written as a scan', () => {
  it('agrees on 50,000 seeded strings of base64 with stray characters, and decodes what it accepts', () => {
    const random = seededRandom(14);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const stray = [
      '=',
      '-',
      '_',
      ' ',
      '\n',
      '\r',
      '\t',
      '\u0000',
      'é',
      '\u00ff',
      '\u0100',
      '\u0141',
      '\u2028',
      '\ud83d',
      '*',
      '.',
      '~',
    ];
    let accepted = 0;
    for (let n = 0; n < 50_000; n++) {
      const length = 4 * (1 + Math.floor(random() * 4)) - (random() < 0.05 ? 1 : 0);
      let s = '';
      for (let i = 0; i < length; i++) {
        s +=
          random() < 0.08
            ? stray[Math.floor(random() * stray.length)]!
            : alphabet[Math.floor(random() * 64)]!;
      }
      if (random() < 0.3) s = s.slice(0, -1) + '=';
      if (random() < 0.15) s = s.slice(0, -2) + '==';
      const out = decodeBase64Strict(s);
      expect(out !== null, JSON.stringify(s)).toBe(strictByScan(s));
      if (out) {
        accepted++;
        expect(out.equals(Buffer.from(s, 'base64'))).toBe(true);
      }
    }
    expect(accepted).toBeGreaterThan(10_000); // both sides of the rule were exercised
  });
});

describe('encodeBase64', () => {
  it('encodes only the bytes a view covers', () => {
    const backing = Uint8Array.from([0xff, 0x41, 0x42, 0xff]);
    expect(encodeBase64(backing.subarray(1, 3))).toBe('QUI=');
  });

  it('encodes an empty array as an empty string', () => {
    expect(encodeBase64(new Uint8Array(0))).toBe('');
  });
});

describe('sizes and durations', () => {
  it.each([
    [8000, 16],
    [16000, 32],
    [24000, 48],
    [44100, 88.2],
  ])('bytesPerMs(%i) is %d', (rate, expected) => {
    expect(bytesPerMs(rate)).toBeCloseTo(expected, 10);
  });

  it.each([
    [320, 8000, 20],
    [640, 16000, 20],
    [960, 24000, 20],
    [1600, 8000, 100],
    [0, 8000, 0],
  ])('durationMs(%i, %i) is %i', (bytes, rate, ms) => {
    expect(durationMs(bytes, rate)).toBe(ms);
  });

  it.each([0, -8000, 8000.5, Number.NaN, Number.POSITIVE_INFINITY, 192_001])(
    'rejects sample rate %d with AUDIO_INVALID',
    (rate) => {
      expect(() => durationMs(320, rate)).toThrow(VoicebotError);
      expect(() => assertSampleRate(rate)).toThrow(
        expect.objectContaining({ code: 'AUDIO_INVALID' }),
      );
    },
  );

  it('silence() is all zeros of the requested length', () => {
    const s = silence(160);
    expect(s).toBeInstanceOf(Int16Array);
    expect(s.length).toBe(160);
    expect(s.every((v) => v === 0)).toBe(true);
  });
});
