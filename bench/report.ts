/** The bench's results file shape and its markdown rendering. Pure. */
import { ADDED_STAGES } from './added-delay.js';
import { DEFAULT_CALLER_FRAME_MS } from './latency.js';
import type { CapacityResult, LatencyResult } from './phases.js';
import type { CpuShare } from './capacity.js';

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
    '| setting | turns | p50 | p99 | floor (issue) | overhead p50 / p99 | preemptive floor | overhead above it p50 / p99 | underruns | STT / LLM / TTS requests per turn | speculative replies used / discarded |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const l of r.latency) {
    out.push(
      `| ${settingLabel(l)} | ${l.answered}/${l.turns} | ${v(l.p50Ms)} | ${v(l.p99Ms)} | ${l.floorMs} | ${v(l.overheadP50Ms)} / ${v(l.overheadP99Ms)} | ${l.preemptiveFloorMs} | ${v(l.overheadPreemptiveP50Ms)} / ${v(l.overheadPreemptiveP99Ms)} | ${l.underruns} | ${l.requestsPerTurn ? `${l.requestsPerTurn.stt} / ${l.requestsPerTurn.llm} / ${l.requestsPerTurn.tts}` : '-'} | ${l.speculations.used} / ${l.speculations.discarded} |`,
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
      `| ${settingLabel(l)} | ` +
        stageNames(r)
          .map((s) => v(l.serverStages[s]?.meanMs))
          .join(' | ') +
        ' |',
    );
  out.push(
    '',
    "Where the milliseconds go: the server's added delay by stage, mean ms over the model (endpoint: beyond ENDPOINTING_MS; stt: STT left after the endpoint beyond what preemption leaves; llmRequest: endpoint or transcript → LLM request; llmFirstToken, ttsFirstByte: beyond the provider's modelled wait; firstSentence: beyond the first sentence's tokens; firstFrame: TTS first byte → first frame sent):",
    '',
    `| preempt | turns | added p50 / p95 | ${ADDED_STAGES.join(' | ')} |`,
    `| --- | ---: | --- |${ADDED_STAGES.map(() => ' ---: |').join('')}`,
  );
  for (const l of r.latency)
    out.push(
      `| ${settingLabel(l)} | ${l.added?.turns ?? 0} | ${v(l.added?.p50Ms)} / ${v(l.added?.p95Ms)} | ${ADDED_STAGES.map((k) => v(l.added?.meanByStageMs[k])).join(' | ')} |`,
    );
  const rule = r.capacity.find((c) => c.rule)?.rule;
  out.push(
    '',
    '## Capacity (live calls, PREEMPT_MS=200)',
    '',
    rule
      ? `A step holds when every call completes, at least ${rule.minTurnsPerCall} turns per call are answered, the server's added delay (its own timings against the provider model) has p95 ≤ ${rule.addedP95LimitMs} ms, and underruns over 20 ms (audible) stay under ${rule.maxGapsPerTurn * 100} per 100 turns, counted by the server against its own clock (the caller's count is shown beside it: a stall of the load generator makes frames look late there). Caller-side latency (end of voice → first audio, 100 ms caller frames) is shown beside it; the server's event-loop delay is sampled from /metrics each second (mean of the per-second p99s / the longest).`
      : '',
    '',
    '| server | calls | holds | added p50 / p95 | caller p50 / p99 | greeting p50 / p99 | underruns > 20 ms, server / caller (caller, all) | failed | loop delay p99 / max ms | server CPU mean / max % | server RSS MB (idle → max) | generator CPU % / loop p99 / max ms |',
    '| --- | ---: | --- | --- | --- | --- | ---: | ---: | --- | --- | --- | --- |',
  );
  for (const c of r.capacity)
    for (const s of [...c.steps].sort((a, b) => a.calls - b.calls))
      out.push(
        `| ${c.label} | ${s.calls}${s.rerun ? ' (again)' : ''} | ${s.holds ? 'yes' : `no: ${s.why.join('; ')}`} | ${v(s.added?.p50Ms)} / ${v(s.added?.p95Ms)} | ${v(s.p50Ms)} / ${v(s.p99Ms)} | ${v(s.greetingP50Ms)} / ${v(s.greetingP99Ms)} | ${s.serverUnderrunsOver20Ms ?? '-'} / ${s.underrunsOver20Ms} (${s.underruns}) | ${s.failedCalls} | ${v(s.loopDelayP99Ms)} / ${v(s.loopDelayMaxMs)} | ${v(s.serverCpuMeanPct)} / ${v(s.serverCpuMaxPct)} | ${s.idleRssMb} → ${v(s.serverRssMaxMb)} | ${s.generatorCpuPct} / ${s.generatorLoopP99Ms} / ${s.generatorLoopMaxMs ?? '-'} |`,
      );
  const bare = r.capacity.find((c) => c.target.startsWith('bare'));
  const bareCpu = bare ? cpuPerCall(bare) : null;
  out.push(
    '',
    '| server | largest N that holds | stopped because | server CPU % of a core per call (at that N) | × the bare ws server |',
    '| --- | ---: | --- | ---: | ---: |',
  );
  for (const c of r.capacity) {
    const cpu = cpuPerCall(c);
    const ratio = cpu !== null && bareCpu ? `${(cpu / bareCpu).toFixed(1)}×` : '-';
    out.push(
      `| ${c.label} | ${v(c.largestHolding)} | ${c.stoppedBecause} | ${cpu === null ? '-' : cpu.toFixed(3)} | ${c === bare ? '1×' : ratio} |`,
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
    "Where the time goes under load: the server's stage p50 / p99 per step (ms, `/metrics` histograms, bucket-interpolated), Silero's windows scored a second and their mean batch, the fake OpenAI's CPU and event-loop delay (p99 / max; the fake answers late by up to that, and it counts as the server's added delay), and the server's busiest main thread (CPU, % of a core), its event loop's busy share (`voicebot_event_loop_utilization`, %) and the whole machine (% of all its cores), each over the step / its busiest 5 s:",
    '',
    `| server | calls | ${stages.join(' | ')} | Silero windows/s (mean batch; windows a thread trip) | fake OpenAI CPU % | fake loop delay ms | main thread % | event loop busy % | machine % |`,
    `| --- | ---: |${stages.map(() => ' ---: |').join('')} ---: | ---: | ---: | ---: | ---: | ---: |`,
  );
  for (const c of r.capacity)
    for (const s of [...c.steps].sort((a, b) => a.calls - b.calls)) {
      if (!s.serverStages) continue;
      const cell = (k: string) => {
        const h = s.serverStages?.[k];
        return h ? `${v(h.p50Ms)} / ${v(h.p99Ms)}` : '-';
      };
      out.push(
        `| ${c.label} | ${s.calls} | ${stages.map(cell).join(' | ')} | ${s.vad ? `${s.vad.windowsPerS} (${s.vad.meanBatch}${s.vad.perTrip ? `; ${s.vad.perTrip} a trip` : ''})` : '-'} | ${v(s.fakeCpuPct)} | ${s.fakeLoop ? `${s.fakeLoop.p99Ms} / ${s.fakeLoop.maxMs}` : '-'} | ${cpuShare(s.mainThreadCpu)} | ${cpuShare(s.loopUtilization)} | ${cpuShare(s.machineCpu)} |`,
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
  const s = c.steps.find((x) => x.calls === c.largestHolding && x.holds);
  return s?.serverCpuMeanPct == null ? null : s.serverCpuMeanPct / s.calls;
}

function stageNames(r: BenchResults): string[] {
  const names = new Set<string>();
  for (const l of r.latency) for (const k of Object.keys(l.serverStages)) names.add(k);
  return [...names];
}

/** `PREEMPT_MS=100, speculative` and the like. */
export function settingLabel(s: {
  preemptMs: number;
  speculate?: boolean;
  pauseMs?: number | null;
  callerFrameMs?: number;
}): string {
  const parts = [`PREEMPT_MS=${s.preemptMs}`];
  if (s.preemptMs > 0) parts.push(s.speculate === false ? 'no speculation' : 'speculative');
  if (s.pauseMs != null) parts.push(`${s.pauseMs} ms pause mid-sentence`);
  if (s.callerFrameMs !== undefined && s.callerFrameMs !== DEFAULT_CALLER_FRAME_MS)
    parts.push(`${s.callerFrameMs} ms caller frames`);
  return parts.join(', ');
}

/** `mean / busiest 5 s`, or '-' (runs before these were measured). */
function cpuShare(c: CpuShare | null | undefined): string {
  return c ? `${c.meanPct} / ${c.busiest5sPct}` : '-';
}
