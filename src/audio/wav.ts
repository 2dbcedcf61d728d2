/**
 * WAV (RIFF/WAVE) encoding and decoding for 16-bit PCM: TTS vendors may answer in WAV, and the
 * simulator and call recordings write it. Decoding walks the chunk list (skipping LIST, fact
 * and the like) and rejects anything that is not 16-bit integer PCM with a coded error.
 */

import { VoicebotError } from '../errors.js';
import { MAX_SAMPLE_RATE, assertSampleRate, bytesFromPcm, pcmFromBytes } from './pcm.js';

const HEADER_BYTES = 44;
const FORMAT_PCM = 0x0001;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes 2..15 of KSDATAFORMAT_SUBTYPE_PCM (00000001-0000-0010-8000-00aa00389b71). */
const PCM_GUID_TAIL = [
  0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];
/**
 * Data sizes that streaming writers put in the header when the length is not known yet
 * (OpenAI TTS sends 0xFFFFFFFF, ElevenLabs 0x7FFFFFFF): the data runs to the end of the buffer.
 */
const STREAMING_SIZES = new Set([0xffffffff, 0x7fffffff]);

export interface DecodedWav {
  sampleRate: number;
  /** Mono samples (stereo is averaged). May share memory with the decoded buffer. */
  samples: Int16Array;
}

/** The 44-byte RIFF/WAVE header of 16-bit PCM with `channels` channels and `dataBytes` of data. */
export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Buffer {
  const out = Buffer.alloc(HEADER_BYTES);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), 4);
  out.write('WAVEfmt ', 8, 'latin1');
  out.writeUInt32LE(16, 16); // fmt chunk size
  out.writeUInt16LE(FORMAT_PCM, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * 2 * channels, 28); // byte rate
  out.writeUInt16LE(2 * channels, 32); // block align
  out.writeUInt16LE(16, 34); // bits per sample
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(Math.min(0xffffffff, dataBytes), 40);
  return out;
}

/** A 44-byte-header RIFF/WAVE file of PCM 16-bit mono at `sampleRate` Hz. */
export function encodeWav(pcm: Int16Array, sampleRate: number): Buffer {
  assertSampleRate(sampleRate);
  return Buffer.concat([wavHeader(sampleRate, 1, pcm.byteLength), bytesFromPcm(pcm)]);
}

function invalid(reason: string): VoicebotError {
  return new VoicebotError('AUDIO_INVALID', `invalid WAV: ${reason}`);
}

interface Format {
  channels: number;
  sampleRate: number;
}

function parseFmt(view: DataView, at: number, size: number): Format {
  if (size < 16) throw invalid(`fmt chunk is ${size} bytes, expected at least 16`);
  let format = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  if (format === FORMAT_EXTENSIBLE) {
    if (size < 40) throw invalid(`WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, expected 40`);
    format = view.getUint16(at + 24, true);
    const isPcmGuid = PCM_GUID_TAIL.every((b, i) => view.getUint8(at + 26 + i) === b);
    if (format !== FORMAT_PCM || !isPcmGuid) throw invalid('extensible sub-format is not PCM');
  } else if (format !== FORMAT_PCM) {
    throw invalid(`format tag ${format} is not PCM (1)`);
  }
  if (bits !== 16) throw invalid(`${bits}-bit samples, only 16-bit is supported`);
  if (channels !== 1 && channels !== 2) throw invalid(`${channels} channels, expected 1 or 2`);
  if (sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE) throw invalid(`sample rate ${sampleRate} Hz`);
  if (blockAlign !== channels * 2) throw invalid(`block align ${blockAlign} for ${channels} ch`);
  return { channels, sampleRate };
}

function downmix(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(bytes.byteLength >>> 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = (view.getInt16(i * 4, true) + view.getInt16(i * 4 + 2, true)) >> 1;
  }
  return out;
}

/**
 * Decodes a RIFF/WAVE buffer of 16-bit PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with the PCM
 * sub-format), mono or stereo; stereo is averaged to mono. A data size of 0xFFFFFFFF or
 * 0x7FFFFFFF (streamed WAV) means "to the end of the buffer". Throws `AUDIO_INVALID` for
 * anything else, including truncated files.
 */
export function decodeWav(buf: Uint8Array): DecodedWav {
  if (buf.byteLength < 12) throw invalid(`${buf.byteLength} bytes is too short for a RIFF header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (at: number): string =>
    String.fromCharCode(buf[at] ?? 0, buf[at + 1] ?? 0, buf[at + 2] ?? 0, buf[at + 3] ?? 0);
  if (tag(0) !== 'RIFF') throw invalid('missing RIFF signature');
  if (tag(8) !== 'WAVE') throw invalid('RIFF form type is not WAVE');

  let format: Format | null = null;
  for (let at = 12; at < buf.byteLength;) {
    if (at + 8 > buf.byteLength) throw invalid('truncated chunk header');
    const id = tag(at);
    const declared = view.getUint32(at + 4, true);
    const body = at + 8;
    const available = buf.byteLength - body;
    if (id === 'data') {
      if (format === null) throw invalid('data chunk before fmt chunk');
      const blockAlign = format.channels * 2;
      let size = declared;
      if (STREAMING_SIZES.has(declared) && declared > available) {
        size = available - (available % blockAlign);
      } else if (declared > available) {
        throw invalid(`truncated: data chunk declares ${declared} bytes, ${available} present`);
      } else if (declared % blockAlign !== 0) {
        throw invalid(`data size ${declared} is not a multiple of block align ${blockAlign}`);
      }
      const data = buf.subarray(body, body + size);
      const samples = format.channels === 1 ? pcmFromBytes(data) : downmix(data);
      return { sampleRate: format.sampleRate, samples };
    }
    if (declared > available) throw invalid(`truncated: chunk at byte ${at} overruns the buffer`);
    if (id === 'fmt ') format = parseFmt(view, body, declared);
    at = body + declared + (declared & 1); // chunks are padded to an even size
  }
  throw invalid(format === null ? 'no fmt chunk' : 'no data chunk');
}
