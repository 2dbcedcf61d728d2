/**
 * `npm run bench:warm`: how much of a capacity step's server CPU is the fresh process warming up.
 * The capacity bench starts a fresh server for every step (so each step's RSS and CPU are its
 * own), and a fresh Node process spends its first seconds compiling (V8's optimizing compiler on
 * its helper threads, unoptimized code on the main thread meanwhile). This runs the same step
 * `WARM_RUNS` times against one server and prints the server's CPU each time: the first run is what
 * the capacity bench measures, the later ones what a server that has been up a while spends.
 *   WARM_CALLS=300 WARM_VAD=webrtc WARM_RATE=8000 WARM_RUNS=4 WARM_SPREAD=1 npm run bench:warm
 */
import { runBotStep } from './capacity.js';
import { installCleanup, killAll, stop } from './processes.js';
import { startFake, startServer } from './server.js';

const calls = Number(process.env.WARM_CALLS) || 300;
const runs = Math.max(2, Number(process.env.WARM_RUNS) || 4);
const vad = (process.env.WARM_VAD ?? 'webrtc') as 'silero' | 'webrtc';
const rate = Number(process.env.WARM_RATE ?? 8000) === 16000 ? 16000 : 8000;
/** Callers out of step (as the bench's `:spread` targets); `WARM_SPREAD=0` for in step. */
const spread = process.env.WARM_SPREAD !== '0';
const seconds = 20;

installCleanup();
const fake = await startFake();
try {
  const server = await startServer(fake, { vad, preemptMs: 200, workers: 1, sampleRate: rate });
  const cpu: number[] = [];
  try {
    console.log(
      `${calls} calls${spread ? ' out of step' : ''}, ${vad} VAD, ${rate} Hz, ${seconds} s a run, one server`,
    );
    console.log(
      '| run | server CPU % | per call % | turn p50 / p95 ms | underruns | generator CPU % |',
    );
    console.log('|---:|---:|---:|---|---:|---:|');
    for (let i = 0; i < runs; i++) {
      const r = await runBotStep(server, calls, seconds, spread);
      const mean = r.server?.cpuPercentMean ?? NaN;
      cpu.push(mean);
      console.log(
        `| ${i + 1}${i === 0 ? ' (fresh)' : ''} | ${mean} | ${(mean / calls).toFixed(3)} | ${r.firstAudioMs.turn.p50} / ${r.firstAudioMs.turn.p95} | ${r.playback.underruns} | ${r.generator.cpuPercentMean} |`,
      );
    }
  } finally {
    await server.close();
  }
  const warm = cpu.slice(1).reduce((a, b) => a + b, 0) / (cpu.length - 1);
  console.log(
    `\nfresh ${cpu[0]} %, warm (runs 2-${runs}) ${warm.toFixed(1)} %: the fresh run costs ${(((cpu[0]! - warm) / warm) * 100).toFixed(0)} % more`,
  );
} finally {
  await stop(fake.child);
  killAll();
}
process.exit(0);
