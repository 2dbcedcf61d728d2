/** The bench's results file shape and its markdown rendering. Pure. */
import type { CapacityResult, LatencyResult } from './phases.js';

export interface BenchResults {
  kind: 'full' | 'smoke';
  startedAt: string;
  wallSeconds: number;
  machine: { cpus: number; model: string; node: string };
  cpuSharing: string;
  providerModel: Record<string, number | string>;
  latency: LatencyResult[];
  capacity: CapacityResult[];
  memory: Array<{ target: string; rssMbPerCall: number | null }>;
  notes: string[];
}

const v = (x: number | null | undefined, unit = '') =>
  x === null || x === undefined ? '-' : `${x}${unit}`;

export function formatResults(r: BenchResults): string {
  const out: string[] = [
    `# voicebot bench (${r.kind}) — ${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node}, ${r.wallSeconds} s`,
    '',
    `Provider model: ${Object.entries(r.providerModel)
      .map(([k, x]) => `${k} ${x}`)
      .join(', ')}.`,
    '',
    '## Latency (one call, end of caller voice → first bot audio frame)',
    '',
    '| preemptive STT | turns | p50 | p99 | floor (issue) | overhead p50 / p99 | preemptive floor | overhead above it p50 / p99 | underruns |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const l of r.latency) {
    out.push(
      `| ${l.preemptMs ? `on (PREEMPT_MS=${l.preemptMs})` : 'off (PREEMPT_MS=0)'} | ${l.answered}/${l.turns} | ${v(l.p50Ms)} | ${v(l.p99Ms)} | ${l.floorMs} | ${v(l.overheadP50Ms)} / ${v(l.overheadP99Ms)} | ${l.preemptiveFloorMs} | ${v(l.overheadPreemptiveP50Ms)} / ${v(l.overheadPreemptiveP99Ms)} | ${l.underruns} |`,
    );
  }
  out.push(
    '',
    'Server stage means (ms, from `/metrics`):',
    '',
    '| preempt | ' + stageNames(r).join(' | ') + ' |',
    '| --- |' +
      stageNames(r)
        .map(() => ' ---: |')
        .join(''),
  );
  for (const l of r.latency)
    out.push(
      `| ${l.preemptMs} | ` +
        stageNames(r)
          .map((s) => v(l.serverStages[s]?.meanMs))
          .join(' | ') +
        ' |',
    );
  out.push(
    '',
    '## Capacity (live calls, PREEMPT_MS=200)',
    '',
    "Each voicebot climb starts with a light-load step (the same scenario with a few calls). A step holds when every call completes, no underrun (hole in bot audio) appears, server CPU is not saturated and p99 end of voice → first audio ≤ the light-load p99 or the issue's floor, whichever is lower, + 50 ms: load may add at most 50 ms to the tail. Caller frames are 100 ms here (Exotel's documented size), so the end of voice is known to 100 ms and p99 sits higher than in the one-call run.",
    '',
    '| server | calls | holds | p50 | p99 | underruns (ms) | failed | server CPU mean / max % | server RSS MB (idle → max) | generator CPU % / loop p99 ms |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | --- | --- |',
  );
  for (const c of r.capacity)
    for (const s of [...c.steps].sort((a, b) => a.calls - b.calls))
      out.push(
        `| ${c.label} | ${s.calls} | ${s.holds ? 'yes' : `no: ${s.why.join('; ')}`} | ${v(s.p50Ms)} | ${v(s.p99Ms)} | ${s.underruns} (${s.underrunMs}) | ${s.failedCalls} | ${v(s.serverCpuMeanPct)} / ${v(s.serverCpuMaxPct)} | ${s.idleRssMb} → ${v(s.serverRssMaxMb)} | ${s.generatorCpuPct} / ${s.generatorLoopP99Ms} |`,
      );
  const bare = r.capacity.find((c) => c.target === 'bare');
  const bareCpu = bare ? cpuPerCall(bare) : null;
  out.push(
    '',
    '| server | light-load p99 → limit (ms) | largest N that holds | stopped because | server CPU % of a core per call (at that N) | × the bare ws server |',
    '| --- | --- | ---: | --- | ---: | ---: |',
  );
  for (const c of r.capacity) {
    const cpu = cpuPerCall(c);
    const ratio = cpu !== null && bareCpu ? `${(cpu / bareCpu).toFixed(1)}×` : '-';
    out.push(
      `| ${c.label} | ${c.p99LimitMs === null ? '-' : `${v(c.baselineP99Ms)} → ${c.p99LimitMs}`} | ${v(c.largestHolding)} | ${c.stoppedBecause} | ${cpu === null ? '-' : cpu.toFixed(3)} | ${c === bare ? '1×' : ratio} |`,
    );
  }
  const stages = [
    'endpointMs',
    'sttAfterEndpointMs',
    'llmFirstTokenMs',
    'ttsFirstByteMs',
    'firstAudioMs',
  ];
  out.push(
    '',
    "Where the time goes under load: the server's stage p50 / p99 per step (ms, `/metrics` histograms, bucket-interpolated), and the fake OpenAI's CPU:",
    '',
    `| server | calls | ${stages.join(' | ')} | fake OpenAI CPU % |`,
    `| --- | ---: |${stages.map(() => ' ---: |').join('')} ---: |`,
  );
  for (const c of r.capacity)
    for (const s of [...c.steps].sort((a, b) => a.calls - b.calls)) {
      if (!s.serverStages) continue;
      const cell = (k: string) => {
        const h = s.serverStages?.[k];
        return h ? `${v(h.p50Ms)} / ${v(h.p99Ms)}` : '-';
      };
      out.push(
        `| ${c.label} | ${s.calls} | ${stages.map(cell).join(' | ')} | ${v(s.fakeCpuPct)} |`,
      );
    }
  out.push(
    '',
    '## Memory per live call (RSS slope over the steps)',
    '',
    '| server | MB per call |',
    '| --- | ---: |',
  );
  for (const m of r.memory) out.push(`| ${m.target} | ${v(m.rssMbPerCall)} |`);
  out.push('', `CPU sharing: ${r.cpuSharing}`);
  if (r.notes.length) out.push('', ...r.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

/** Server CPU (% of one core) per live call at the largest step that held. */
function cpuPerCall(c: BenchResults['capacity'][number]): number | null {
  const s = c.steps.find((x) => x.calls === c.largestHolding);
  return s?.serverCpuMeanPct == null ? null : s.serverCpuMeanPct / s.calls;
}

function stageNames(r: BenchResults): string[] {
  const names = new Set<string>();
  for (const l of r.latency) for (const k of Object.keys(l.serverStages)) names.add(k);
  return [...names];
}
