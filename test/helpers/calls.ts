/** Helpers for end-to-end conversation tests: fixtures at the stream rate, dialing, waiting. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesFromPcm, decodeWav, resample } from '../../src/audio/index.js';
import { SimulatedCall, type ReceivedMark } from '../../src/simulator/simulated-call.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

/** A fixture WAV as s16le bytes at `rate`. */
export async function fixture(name: string, rate = 16000): Promise<Buffer> {
  const wav = decodeWav(readFileSync(join(FIXTURES, name)));
  const pcm =
    wav.sampleRate === rate ? wav.samples : await resample(wav.samples, wav.sampleRate, rate);
  return Buffer.from(bytesFromPcm(pcm));
}

/** Dials, starts, opens the microphone (silence until `say`) and waits for the greeting to play. */
export async function dialAndGreet(
  wsBase: string,
  opts: { rate?: number; params?: Record<string, string> } = {},
): Promise<SimulatedCall> {
  const rate = opts.rate ?? 16000;
  const call = new SimulatedCall({
    url: `${wsBase}/was?sample-rate=${rate}&call_sid=CA_e2e`,
    sampleRate: rate,
    customParameters: opts.params,
  });
  await call.connect();
  call.start();
  call.startMic(20);
  await nextEcho(call, 'greeting_done');
  return call;
}

/** The next mark of this kind to be received from now on. */
export function nextMark(
  call: SimulatedCall,
  kind: string,
  timeoutMs = 20_000,
): Promise<ReceivedMark> {
  return call.waitForEvent<ReceivedMark>('mark', (m) => m.name.startsWith(kind), timeoutMs);
}

/** The next echo (playback finished) of a mark of this kind. */
export function nextEcho(
  call: SimulatedCall,
  kind: string,
  timeoutMs = 20_000,
): Promise<ReceivedMark> {
  return call.waitForEvent<ReceivedMark>('mark-echo', (m) => m.name.startsWith(kind), timeoutMs);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
