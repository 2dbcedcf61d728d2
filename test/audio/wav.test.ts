import { describe, it, expect } from 'vitest';
import { decodeWav, encodeWav } from '../../src/audio/index.js';
import { VoicebotError } from '../../src/errors.js';
import { tone } from '../helpers/tone.js';

interface FmtOptions {
  format?: number;
  channels?: number;
  sampleRate?: number;
  bits?: number;
  blockAlign?: number;
  /** For WAVE_FORMAT_EXTENSIBLE: the sub-format GUID's first two bytes (1 = PCM, 3 = float). */
  subFormat?: number;
}

const PCM_GUID_TAIL = [0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71];

function fmtBody(options: FmtOptions = {}): Buffer {
  const { format = 1, channels = 1, sampleRate = 16000, bits = 16 } = options;
  const blockAlign = options.blockAlign ?? (channels * bits) / 8;
  const body = Buffer.alloc(format === 0xfffe ? 40 : 16);
  body.writeUInt16LE(format, 0);
  body.writeUInt16LE(channels, 2);
  body.writeUInt32LE(sampleRate, 4);
  body.writeUInt32LE(sampleRate * blockAlign, 8);
  body.writeUInt16LE(blockAlign, 12);
  body.writeUInt16LE(bits, 14);
  if (format === 0xfffe) {
    body.writeUInt16LE(22, 16); // cbSize
    body.writeUInt16LE(bits, 18); // valid bits
    body.writeUInt32LE(channels === 1 ? 0x4 : 0x3, 20); // channel mask
    body.writeUInt16LE(options.subFormat ?? 1, 24);
    Buffer.from(PCM_GUID_TAIL).copy(body, 26);
  }
  return body;
}

function chunk(id: string, body: Uint8Array, declaredSize = body.byteLength): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'latin1');
  header.writeUInt32LE(declaredSize, 4);
  const pad = body.byteLength % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  return Buffer.concat([header, body, pad]);
}

function riff(chunks: Buffer[], formType = 'WAVE'): Buffer {
  const body = Buffer.concat(chunks);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(4 + body.byteLength, 4);
  header.write(formType, 8, 'latin1');
  return Buffer.concat([header, body]);
}

function pcmBytes(samples: number[]): Buffer {
  return Buffer.from(Int16Array.from(samples).buffer);
}

function expectInvalid(buf: Uint8Array, message: RegExp): void {
  let thrown: unknown;
  try {
    decodeWav(buf);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(VoicebotError);
  expect(thrown).toMatchObject({ code: 'AUDIO_INVALID' });
  expect((thrown as Error).message).toMatch(message);
}

describe('encodeWav', () => {
  it('writes a 44-byte PCM 16-bit mono header', () => {
    const wav = encodeWav(Int16Array.from([1, -2, 3]), 8000);
    expect(wav.byteLength).toBe(44 + 6);
    expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(4)).toBe(36 + 6);
    expect(wav.toString('latin1', 8, 16)).toBe('WAVEfmt ');
    expect(wav.readUInt32LE(16)).toBe(16);
    expect(wav.readUInt16LE(20)).toBe(1); // PCM
    expect(wav.readUInt16LE(22)).toBe(1); // mono
    expect(wav.readUInt32LE(24)).toBe(8000);
    expect(wav.readUInt32LE(28)).toBe(16000); // byte rate
    expect(wav.readUInt16LE(32)).toBe(2); // block align
    expect(wav.readUInt16LE(34)).toBe(16);
    expect(wav.toString('latin1', 36, 40)).toBe('data');
    expect(wav.readUInt32LE(40)).toBe(6);
    expect([wav.readInt16LE(44), wav.readInt16LE(46), wav.readInt16LE(48)]).toEqual([1, -2, 3]);
  });

  it('rejects an invalid sample rate', () => {
    expect(() => encodeWav(new Int16Array(2), 0)).toThrow(VoicebotError);
  });
});

describe('decodeWav: accepted input', () => {
  it.each([8000, 16000, 24000, 44100])('round-trips a tone at %i Hz', (rate) => {
    const pcm = tone(440, 50, rate);
    const decoded = decodeWav(encodeWav(pcm, rate));
    expect(decoded.sampleRate).toBe(rate);
    expect(Array.from(decoded.samples)).toEqual(Array.from(pcm));
  });

  it('round-trips an empty file', () => {
    const decoded = decodeWav(encodeWav(new Int16Array(0), 16000));
    expect(decoded.samples.length).toBe(0);
  });

  it('decodes from an unaligned (odd byteOffset) buffer', () => {
    const wav = encodeWav(Int16Array.from([-32768, 32767, 5]), 16000);
    const backing = new Uint8Array(wav.byteLength + 1);
    backing.set(wav, 1);
    const decoded = decodeWav(backing.subarray(1));
    expect(Array.from(decoded.samples)).toEqual([-32768, 32767, 5]);
  });

  it('skips LIST and other chunks, including odd-sized ones with a pad byte', () => {
    const wav = riff([
      chunk('LIST', Buffer.from('INFOISFT\x05\x00\x00\x00Lavf\x00', 'latin1')),
      chunk('fmt ', fmtBody({ sampleRate: 24000 })),
      chunk('fact', Buffer.from([1, 2, 3])), // odd size: followed by a pad byte
      chunk('data', pcmBytes([10, -20, 30])),
      chunk('LIST', Buffer.from('trailing')),
    ]);
    const decoded = decodeWav(wav);
    expect(decoded.sampleRate).toBe(24000);
    expect(Array.from(decoded.samples)).toEqual([10, -20, 30]);
  });

  it('downmixes stereo to mono by averaging', () => {
    const wav = riff([
      chunk('fmt ', fmtBody({ channels: 2, sampleRate: 8000 })),
      chunk('data', pcmBytes([1000, 3000, -32768, -32768, 32767, 32767, 100, -100, -3, 0])),
    ]);
    const decoded = decodeWav(wav);
    expect(decoded.sampleRate).toBe(8000);
    expect(Array.from(decoded.samples)).toEqual([2000, -32768, 32767, 0, -2]);
  });

  it('accepts WAVE_FORMAT_EXTENSIBLE with the PCM sub-format', () => {
    const wav = riff([
      chunk('fmt ', fmtBody({ format: 0xfffe, sampleRate: 16000 })),
      chunk('data', pcmBytes([7, 8])),
    ]);
    expect(Array.from(decodeWav(wav).samples)).toEqual([7, 8]);
  });

  it.each([
    ['0xFFFFFFFF (OpenAI)', 0xffffffff],
    ['0x7FFFFFFF (ElevenLabs)', 0x7fffffff],
  ])('reads to the end when the data size is the streaming placeholder %s', (_name, size) => {
    const dataHeader = Buffer.alloc(8);
    dataHeader.write('data', 0, 'latin1');
    dataHeader.writeUInt32LE(size, 4);
    // A stream cut mid-sample: the partial trailing sample is dropped.
    const body = Buffer.concat([pcmBytes([1, 2, 3]), Buffer.from([0x09])]);
    const wav = riff([chunk('fmt ', fmtBody()), dataHeader, body]);
    wav.writeUInt32LE(0xffffffff, 4); // OpenAI also sets the RIFF size to 0xFFFFFFFF
    expect(Array.from(decodeWav(wav).samples)).toEqual([1, 2, 3]);
  });

  it('drops a partial stereo frame at the end of a placeholder-sized data chunk', () => {
    const dataHeader = Buffer.alloc(8);
    dataHeader.write('data', 0, 'latin1');
    dataHeader.writeUInt32LE(0xffffffff, 4);
    const wav = riff([chunk('fmt ', fmtBody({ channels: 2 })), dataHeader, pcmBytes([4, 6, 8])]);
    expect(Array.from(decodeWav(wav).samples)).toEqual([5]);
  });
});

describe('decodeWav: rejected input', () => {
  const good = (): Buffer => encodeWav(Int16Array.from([1, 2, 3, 4]), 16000);

  it('rejects a buffer shorter than a RIFF header', () => {
    expectInvalid(good().subarray(0, 11), /too short/);
    expectInvalid(new Uint8Array(0), /too short/);
  });

  it('rejects a non-RIFF signature (RIFX, RF64, raw PCM)', () => {
    for (const sig of ['RIFX', 'RF64', '\x00\x00\x01\x00']) {
      const wav = good();
      wav.write(sig, 0, 'latin1');
      expectInvalid(wav, /RIFF signature/);
    }
  });

  it('rejects a RIFF form type other than WAVE', () => {
    expectInvalid(riff([chunk('fmt ', fmtBody())], 'AVI '), /not WAVE/);
  });

  it.each([
    ['IEEE float (3)', { format: 3, bits: 32 }, /format tag 3 is not PCM/],
    ['A-law (6)', { format: 6, bits: 8 }, /format tag 6/],
    ['mu-law (7)', { format: 7, bits: 8 }, /format tag 7/],
    ['ADPCM (2)', { format: 2, bits: 4, blockAlign: 256 }, /format tag 2/],
    ['extensible float', { format: 0xfffe, bits: 32, subFormat: 3 }, /sub-format is not PCM/],
    ['8-bit PCM', { bits: 8 }, /8-bit/],
    ['24-bit PCM', { bits: 24 }, /24-bit/],
    ['32-bit PCM', { bits: 32 }, /32-bit/],
    ['3 channels', { channels: 3 }, /3 channels/],
    ['0 channels', { channels: 0, blockAlign: 2 }, /0 channels/],
    ['sample rate 0', { sampleRate: 0 }, /sample rate 0/],
    ['inconsistent block align', { blockAlign: 4 }, /block align 4/],
  ] satisfies [string, FmtOptions, RegExp][])('rejects %s', (_name, options, message) => {
    expectInvalid(
      riff([chunk('fmt ', fmtBody(options)), chunk('data', pcmBytes([1, 2]))]),
      message,
    );
  });

  it('rejects WAVE_FORMAT_EXTENSIBLE with a PCM tag but a foreign GUID', () => {
    const fmt = fmtBody({ format: 0xfffe });
    fmt[30] = 0x11; // corrupt the GUID tail
    expectInvalid(riff([chunk('fmt ', fmt), chunk('data', pcmBytes([1]))]), /not PCM/);
  });

  it('rejects a short WAVE_FORMAT_EXTENSIBLE fmt chunk', () => {
    const fmt = fmtBody({ format: 0xfffe }).subarray(0, 18);
    expectInvalid(riff([chunk('fmt ', fmt), chunk('data', pcmBytes([1]))]), /EXTENSIBLE.*18/);
  });

  it('rejects a fmt chunk shorter than 16 bytes', () => {
    const fmt = fmtBody().subarray(0, 14);
    expectInvalid(riff([chunk('fmt ', fmt), chunk('data', pcmBytes([1]))]), /fmt chunk is 14/);
  });

  it('rejects a data chunk that comes before fmt', () => {
    expectInvalid(riff([chunk('data', pcmBytes([1])), chunk('fmt ', fmtBody())]), /before fmt/);
  });

  it('rejects a file without a fmt chunk', () => {
    expectInvalid(riff([chunk('LIST', Buffer.from('INFO'))]), /no fmt chunk/);
  });

  it('rejects a file without a data chunk', () => {
    expectInvalid(riff([chunk('fmt ', fmtBody())]), /no data chunk/);
  });

  it('rejects truncated sample data', () => {
    expectInvalid(good().subarray(0, 44 + 5), /truncated: data chunk declares 8 bytes, 5/);
  });

  it('rejects a file cut inside a chunk header', () => {
    expectInvalid(good().subarray(0, 40), /truncated chunk header/);
  });

  it('rejects a file cut inside the fmt chunk', () => {
    expectInvalid(good().subarray(0, 30), /truncated: chunk at byte 12/);
  });

  it('rejects a chunk whose declared size overruns the buffer', () => {
    const wav = riff([chunk('LIST', Buffer.alloc(4), 1000), chunk('fmt ', fmtBody())]);
    expectInvalid(wav, /truncated/);
  });

  it('rejects a data size that is not a whole number of sample frames', () => {
    const stereo = riff([chunk('fmt ', fmtBody({ channels: 2 })), chunk('data', pcmBytes([1]))]);
    expectInvalid(stereo, /not a multiple of block align 4/);
    const mono = riff([chunk('fmt ', fmtBody()), chunk('data', Buffer.from([1, 2, 3]))]);
    expectInvalid(mono, /not a multiple of block align 2/);
  });
});
