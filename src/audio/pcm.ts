/**
 * Raw PCM helpers: the audio on Exotel's wire is base64 of signed 16-bit little-endian mono PCM.
 * These convert between bytes, samples and base64 on the hot path (every 20-100 ms frame), so
 * they avoid copies where the memory layout allows and never use backtracking regexes.
 */

import { VoicebotError } from '../errors.js';

/** Highest sample rate we accept anywhere (a sane bound; telephony uses 8-24 kHz). */
export const MAX_SAMPLE_RATE = 192_000;

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Throws `AUDIO_INVALID` unless `sampleRate` is an integer in 1..192000 Hz. */
export function assertSampleRate(sampleRate: number): void {
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE) {
    throw new VoicebotError('AUDIO_INVALID', `sample rate must be an integer in 1..192000 Hz`);
  }
}

/**
 * Reads PCM16LE mono samples. Zero-copy (the result shares memory with `buf`) when `buf` is
 * 2-byte aligned on a little-endian host; otherwise copies. An odd trailing byte is dropped.
 */
export function pcmFromBytes(buf: Uint8Array): Int16Array {
  const samples = buf.byteLength >>> 1;
  if (HOST_IS_LITTLE_ENDIAN) {
    if ((buf.byteOffset & 1) === 0) return new Int16Array(buf.buffer, buf.byteOffset, samples);
    const copy = new Uint8Array(samples * 2);
    copy.set(buf.subarray(0, samples * 2));
    return new Int16Array(copy.buffer);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** PCM16LE bytes of `pcm`. Zero-copy (shares memory with `pcm`) on little-endian hosts. */
export function bytesFromPcm(pcm: Int16Array): Buffer {
  if (HOST_IS_LITTLE_ENDIAN) return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const out = Buffer.allocUnsafe(pcm.byteLength);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i] ?? 0, i * 2);
  return out;
}

const EQUALS = 0x3d;

/**
 * Decodes standard, padded base64, or returns null if `s` is not exactly that: length not a
 * multiple of 4, a character outside `A-Z a-z 0-9 + /`, whitespace, URL-safe `-_`, or `=`
 * anywhere but as one or two trailing pad characters. (`Buffer.from(s, 'base64')` alone would
 * silently skip such characters.) Non-zero unused bits before the padding (non-canonical
 * encodings) are accepted.
 *
 * Native passes only (a JS scan of a 100 ms frame cost 3.5-4 us, this 0.7): Node's decoder
 * drops or stops at every character outside its alphabet, so any such character leaves fewer
 * bytes than the length and padding promise; what it would take that the standard does not
 * is URL-safe `-` and `_` (looked for) and characters above U+00FF, of which it reads the low
 * byte (any non-ASCII character makes the UTF-8 length differ from the string's).
 */
export function decodeBase64Strict(s: string): Buffer | null {
  const len = s.length;
  if (len % 4 !== 0) return null;
  if (len === 0) return Buffer.alloc(0);
  if (s.indexOf('-') !== -1 || s.indexOf('_') !== -1) return null;
  if (Buffer.byteLength(s, 'utf8') !== len) return null;
  const pad = s.charCodeAt(len - 1) === EQUALS ? (s.charCodeAt(len - 2) === EQUALS ? 2 : 1) : 0;
  const size = (len / 4) * 3 - pad;
  const out = slabBytes(size);
  return out.write(s, 'base64') === size ? out : null;
}

/**
 * Decoded frames are cut from shared 64 KiB slabs: `Buffer.from(s, 'base64')` gives a frame of
 * 3.2 KB (100 ms at 16 kHz) an ArrayBuffer of its own, which the garbage collector must track and
 * sweep one by one. A frame is short-lived (everything downstream copies what it keeps), so a slab
 * is freed soon after its last frame. Slices start 8-byte aligned, for zero-copy sample views.
 */
const SLAB_BYTES = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

/** `n` bytes of uninitialised memory; the caller fills all of them or drops the slice. */
function slabBytes(n: number): Buffer {
  if (n > SLAB_BYTES / 4) return Buffer.allocUnsafeSlow(n);
  if (slabUsed + n > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += (n + 7) & ~7;
  return out;
}

/** Standard padded base64 of exactly the bytes `buf` views (not its whole ArrayBuffer). */
export function encodeBase64(buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('base64');
}

/** Bytes of PCM16 mono per millisecond at `sampleRate` Hz (16 at 8 kHz; may be fractional). */
export function bytesPerMs(sampleRate: number): number {
  assertSampleRate(sampleRate);
  return (sampleRate * 2) / 1000;
}

/** Milliseconds of audio in `byteLength` bytes of PCM16 mono at `sampleRate` Hz. */
export function durationMs(byteLength: number, sampleRate: number): number {
  return byteLength / bytesPerMs(sampleRate);
}

/** `samples` zero-valued (silent) samples. */
export function silence(samples: number): Int16Array {
  return new Int16Array(samples);
}
