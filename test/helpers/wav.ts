/** Reading the stereo recordings the server writes. */

/** The two channels of a stereo 16-bit WAV, and its header's sizes. */
export function channels(wav: Buffer) {
  const data = wav.subarray(44);
  const n = data.length / 4;
  const left = new Int16Array(n);
  const right = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    left[i] = data.readInt16LE(i * 4);
    right[i] = data.readInt16LE(i * 4 + 2);
  }
  return {
    left,
    right,
    channels: wav.readUInt16LE(22),
    rate: wav.readUInt32LE(24),
    dataBytes: wav.readUInt32LE(40),
    riffBytes: wav.readUInt32LE(4),
  };
}
