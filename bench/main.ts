/**
 * Runs a bench plan: starts the fake OpenAI, the latency runs and the capacity runs, writes the
 * results JSON and prints the markdown. Every child process is stopped on the way out.
 */
import { writeFileSync } from 'node:fs';
import { format } from 'prettier';
import * as model from './model.js';
import {
  capacityPhase,
  CPU_SHARING,
  latencyPhase,
  machine,
  type CapacityOptions,
  type LatencySetting,
  warmUp,
  type Target,
} from './phases.js';
import { installCleanup, killAll, stop } from './processes.js';
import { formatResults, settingLabel, type BenchResults } from './report.js';
import { startFake } from './server.js';

export interface BenchPlan {
  kind: 'full' | 'smoke';
  latencyTurns: number;
  latencySettings: LatencySetting[];
  targets: Target[];
  capacity: Omit<CapacityOptions, 'log'>;
  outFile: string;
}

const log = (s: string) => console.error(s);

export async function runBench(plan: BenchPlan): Promise<BenchResults> {
  installCleanup();
  const t0 = performance.now();
  const results: BenchResults = {
    kind: plan.kind,
    startedAt: new Date().toISOString(),
    wallSeconds: 0,
    machine: machine(),
    cpuSharing: CPU_SHARING,
    providerModel: {
      'STT ms': model.STT_MS,
      'LLM first token ms': model.LLM_FIRST_TOKEN_MS,
      'LLM per token ms': model.LLM_PER_TOKEN_MS,
      'TTS first byte ms': model.TTS_FIRST_BYTE_MS,
      'TTS realtime factor': model.TTS_REALTIME_FACTOR,
      'endpointing ms': model.ENDPOINTING_MS,
      'first sentence tokens': model.FIRST_SENTENCE_TOKENS,
    },
    latency: [],
    capacity: [],
    memory: [],
    notes: [
      `Floor (the issue's) = endpointing ${model.ENDPOINTING_MS} + STT ${model.STT_MS} + LLM first token ${model.LLM_FIRST_TOKEN_MS} + ${model.FIRST_SENTENCE_TOKENS} first-sentence tokens × ${model.LLM_PER_TOKEN_MS} (the sentence is known when the token after its period arrives) + TTS first byte ${model.TTS_FIRST_BYTE_MS} = ${model.SEQUENTIAL_FLOOR_MS} ms. Preemptive floor: the same with STT hidden, when STT started PREEMPT_MS into the silence finishes by the endpoint; overhead against it is what the server itself adds.`,
      'Latency is measured at the caller from its last frame and adds the fixture\'s 300 ms of trailing digital silence to get "end of voice → first audio"; caller frames are 20 ms (latency) / 100 ms (capacity), so the end of voice is known to that granularity.',
      "Capacity steps restart the server (fresh RSS/CPU); the load generator runs in its own process; the bare server gets the same inbound speech (no replies). A step is judged on the server's own added delay (the turn timings it stored, against the provider model), on underruns over 20 ms and on answered turns; see the capacity section.",
    ],
  };
  const fake = await startFake();
  try {
    for (const setting of plan.latencySettings) {
      log(`latency: ${settingLabel(setting)}, ${plan.latencyTurns} turns`);
      const l = await latencyPhase(fake, setting, plan.latencyTurns);
      log(
        `  p50 ${l.p50Ms} p99 ${l.p99Ms} floor ${l.floorMs} overhead p50 ${l.overheadP50Ms} p99 ${l.overheadP99Ms}`,
      );
      results.latency.push(l);
      await save(plan, results, t0);
    }
    if (plan.targets.length > 0) {
      log('capacity: warm-up step (not judged)');
      await warmUp(fake);
    }
    for (const target of plan.targets) {
      log(`capacity: ${target}`);
      const c = await capacityPhase(fake, target, { ...plan.capacity, log });
      results.capacity.push(c);
      results.memory.push({ target: c.label, rssMbPerCall: c.rssMbPerCall });
      await save(plan, results, t0);
    }
  } finally {
    await stop(fake.child);
    killAll();
  }
  await save(plan, results, t0);
  console.log(formatResults(results));
  return results;
}

/** Written after every phase (a crash keeps what was measured), formatted as the repo's prettier wants. */
async function save(plan: BenchPlan, results: BenchResults, t0: number): Promise<void> {
  results.wallSeconds = Math.round((performance.now() - t0) / 1000);
  const text = await format(JSON.stringify(results), { parser: 'json', filepath: plan.outFile });
  writeFileSync(plan.outFile, text);
}
