/**
 * CPU per Silero window, by how windows reach the model: on this thread (`SileroModel`) or on an
 * inference thread (`SileroPool`), in batches of 1, 6 and 32 streams, one window a stream
 * (`infer`) or a 100 ms frame's three windows a stream (`inferMany`). All threads of the process
 * are counted (`process.cpuUsage`), and the main thread on its own (from /proc), so the cost of a
 * round trip to the thread shows beside the model's own:
 *   npm run bench:silero        (SILERO_WINDOWS=20000 windows a case)
 */
import { SileroModel, type SileroScorer } from '../src/audio/vad/silero-model.js';
import { SileroPool } from '../src/audio/vad/silero-pool.js';
import { readThreadTicks } from '../src/simulator/proc.js';

const WINDOWS = Number(process.env.SILERO_WINDOWS ?? 20_000);
const WIDTH = 288; // context + window at 8 kHz

/** CPU ticks (1/100 s) of this process's main thread. */
function mainTicks(): number {
  return readThreadTicks(process.pid, process.pid) ?? 0;
}

/** A batch of `streams` streams, each scoring `perStream` consecutive windows a round. */
async function measure(scorer: SileroScorer, streams: number, perStream: number) {
  const inputs = Array.from({ length: streams }, () =>
    Float32Array.from({ length: perStream * WIDTH }, () => Math.random() * 0.2 - 0.1),
  );
  const states = Array.from({ length: streams }, () => new Float32Array(256));
  const round = () =>
    Promise.all(
      inputs.map((x, i) =>
        perStream === 1
          ? scorer.infer(8000, x.slice(), states[i]!)
          : scorer.inferMany(8000, x.slice(), perStream, states[i]!),
      ),
    );
  for (let r = 0; r < 50; r++) await round();
  const rounds = Math.max(20, Math.round(WINDOWS / (streams * perStream)));
  const cpu = process.cpuUsage();
  const main = mainTicks();
  for (let r = 0; r < rounds; r++) await round();
  const used = process.cpuUsage(cpu);
  const windows = rounds * streams * perStream;
  return {
    all: (used.user + used.system) / windows,
    main: ((mainTicks() - main) * 10_000) / windows,
  };
}

const model = await SileroModel.create({});
const pool = await SileroPool.create({ threads: 1 });
try {
  console.log(
    '| scorer | streams a batch | windows a stream | us CPU a window, all threads | main thread |',
  );
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, scorer] of [
    ['model on this thread', model],
    ['pool, one thread', pool],
  ] as const) {
    for (const streams of [1, 6, 32]) {
      for (const perStream of [1, 3]) {
        const r = await measure(scorer, streams, perStream);
        console.log(
          `| ${name} | ${streams} | ${perStream} | ${r.all.toFixed(1)} | ${r.main.toFixed(1)} |`,
        );
      }
    }
  }
} finally {
  await pool.close();
  await model.close();
}
