/**
 * CPU cost of the VADs per second of audio (the numbers quoted in src/audio/vad/create-vad.ts).
 * Not a test: run with `npx tsx test/audio/vad/vad-bench.ts`.
 *
 * Feeds 60 s of fixture speech (the speech fixtures end to end, repeated) in 20 ms frames, the way
 * a call does, and reports process.cpuUsage() time per second of audio.
 */
import { DetectorVadStream, type VadStreamOptions } from '../../../src/audio/vad/vad-stream.js';
import { SileroModel } from '../../../src/audio/vad/silero-model.js';
import { SileroDetector } from '../../../src/audio/vad/silero.js';
import { WebRtcDetector, loadFvadModule } from '../../../src/audio/vad/webrtc.js';
import { meanSquare } from '../../../src/audio/vad/energy-gate.js';
import type { VoiceActivityDetector } from '../../../src/audio/vad/types.js';
import { readFixture } from './fixtures.js';

const RATE = 16000;
const SECONDS = 60;
const FRAME = RATE / 50;

function speechAudio(): Int16Array {
  const parts = ['hello-16k.wav', 'pause-16k.wav', 'hindi-16k.wav', 'long-16k.wav'].map(
    (name) => readFixture(name).samples,
  );
  const out = new Int16Array(RATE * SECONDS);
  let offset = 0;
  for (let i = 0; offset < out.length; i++) {
    const part = parts[i % parts.length]!;
    const take = Math.min(part.length, out.length - offset);
    out.set(part.subarray(0, take), offset);
    offset += take;
  }
  return out;
}

async function measure(
  label: string,
  audio: Int16Array,
  streams: number,
  makeDetector: () => VoiceActivityDetector,
  options: VadStreamOptions,
): Promise<void> {
  const all = Array.from(
    { length: streams },
    () => new DetectorVadStream('silero', RATE, makeDetector(), null, options),
  );
  const start = process.cpuUsage();
  const wall = performance.now();
  for (let i = 0; i < audio.length; i += FRAME) {
    const frame = audio.subarray(i, i + FRAME);
    await Promise.all(all.map((s) => s.push(frame)));
  }
  const cpu = process.cpuUsage(start);
  const wallMs = performance.now() - wall;
  const audioSeconds = (audio.length / RATE) * streams;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const stats = all[0]!.stats;
  console.log(
    `${label.padEnd(44)} ${(cpuMs / audioSeconds).toFixed(3).padStart(7)} ms CPU/s audio` +
      `  (wall ${(wallMs / audioSeconds).toFixed(3)} ms/s; model ran ${stats.modelCalls}/${stats.windows} windows per stream)`,
  );
  for (const s of all) s.close();
}

async function main(): Promise<void> {
  const speech = speechAudio();
  const silence = new Int16Array(RATE * SECONDS);
  let t = performance.now();
  const rssBefore = process.memoryUsage().rss;
  const model = await SileroModel.create();
  console.log(
    `Silero session load: ${(performance.now() - t).toFixed(0)} ms, ` +
      `RSS +${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(1)} MB`,
  );
  t = performance.now();
  const fvad = await loadFvadModule();
  console.log(`fvad WASM load: ${(performance.now() - t).toFixed(0)} ms`);

  const silero = (): VoiceActivityDetector => new SileroDetector(model, RATE);
  const webrtc = (): VoiceActivityDetector => new WebRtcDetector(fvad, RATE);
  const off = { energyGateDbfs: null };
  const on = {};

  // Warm-up, so JIT and ORT first-run costs are not counted.
  await measure('(warm-up)', speech.subarray(0, RATE * 30), 1, silero, off);
  await measure('(warm-up)', speech.subarray(0, RATE * 5), 4, silero, off);

  await measure('silero, 1 call, gate off, speech', speech, 1, silero, off);
  await measure('silero, 1 call, gate on, speech', speech, 1, silero, on);
  await measure('silero, 32 calls batched, gate off, speech', speech, 32, silero, off);
  await measure('silero, 1 call, gate on, digital silence', silence, 1, silero, on);
  await measure('webrtc, 1 call, gate off, speech', speech, 1, webrtc, off);
  await measure('webrtc, 1 call, gate on, speech', speech, 1, webrtc, on);
  await measure('webrtc, 1 call, gate on, digital silence', silence, 1, webrtc, on);

  let sink = 0;
  const gateStart = process.cpuUsage();
  for (let i = 0; i < speech.length; i += 512) sink += meanSquare(speech.subarray(i, i + 512));
  const gateCpu = process.cpuUsage(gateStart);
  console.log(
    `${'energy gate alone (512-sample windows)'.padEnd(44)} ` +
      `${((gateCpu.user + gateCpu.system) / 1000 / SECONDS).toFixed(3).padStart(7)} ms CPU/s audio (${sink > 0})`,
  );

  // Memory per call: many idle Silero streams on the shared model.
  const calls = 1000;
  global.gc?.();
  const heapBefore = process.memoryUsage();
  const streams = Array.from(
    { length: calls },
    () => new DetectorVadStream('silero', RATE, silero(), null, off),
  );
  await Promise.all(streams.map((s) => s.push(speech.subarray(0, 512))));
  global.gc?.();
  const heapAfter = process.memoryUsage();
  const perCall =
    (heapAfter.heapUsed + heapAfter.arrayBuffers - heapBefore.heapUsed - heapBefore.arrayBuffers) /
    calls;
  console.log(
    `per-call Silero stream memory: ~${(perCall / 1024).toFixed(1)} KB (JS heap + buffers)`,
  );
  for (const s of streams) s.close();
  await model.close();
}

await main();
