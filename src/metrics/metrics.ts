/**
 * Prometheus metrics of one server process (`GET /metrics`): live calls, calls by end status and
 * by why they ended, turns, tool calls, barge-ins, per-stage latency histograms, provider errors
 * by code, playback underruns, Silero windows and batches, pending database writes, event-loop
 * delay and utilization. One registry per app, so tests stay isolated.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { stageDurations, type TurnRecord } from '../conversation/turn-record.js';
import { EVENT_LOOP_SAMPLE_MS } from './loop-delay.js';

/** 50 ms steps up to 600 and 100 ms to 1.6 s, where a voice turn's stages and total live. */
const LATENCY_BUCKETS_MS = [
  10, 25, 50, 75, 100, 150, 200, 250, 300, 350, 400, 450, 500, 550, 600, 700, 800, 900, 1000, 1100,
  1200, 1300, 1400, 1500, 1600, 1800, 2000, 2500, 3000, 4000, 5000, 7500, 10000,
];

const STAGES = [
  'endpointMs',
  'sttMs',
  'sttAfterEndpointMs',
  'llmFirstTokenMs',
  'ttsFirstByteMs',
  'firstAudioMs',
] as const;

export class Metrics {
  readonly registry = new Registry();
  readonly liveCalls = new Gauge({
    name: 'voicebot_live_calls',
    help: 'Calls in progress',
    registers: [this.registry],
  });
  readonly callsTotal = new Counter({
    name: 'voicebot_calls_total',
    help: 'Calls ended, by end status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly turnsTotal = new Counter({
    name: 'voicebot_turns_total',
    help: 'Finished turns, by source and outcome',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly speculativeRepliesTotal = new Counter({
    name: 'voicebot_speculative_replies_total',
    help: 'Replies started on a preemptive transcript before the endpoint, by outcome (used: the endpoint confirmed it; discarded: the caller went on, its LLM and TTS requests wasted)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly bargeInsTotal = new Counter({
    name: 'voicebot_barge_ins_total',
    help: 'Replies interrupted by the caller',
    registers: [this.registry],
  });
  readonly stageMs = new Histogram({
    name: 'voicebot_stage_duration_ms',
    help: 'Per-turn stage durations in milliseconds (firstAudioMs: caller stopped speaking → first reply frame sent)',
    labelNames: ['stage'] as const,
    buckets: LATENCY_BUCKETS_MS,
    registers: [this.registry],
  });
  readonly providerErrorsTotal = new Counter({
    name: 'voicebot_provider_errors_total',
    help: 'Provider errors met in turns, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly toolCallsTotal = new Counter({
    name: 'voicebot_tool_calls_total',
    help: 'Tool calls the model made, by outcome (ok, error, timeout, cancelled, rejected)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly callEndingsTotal = new Counter({
    name: 'voicebot_call_endings_total',
    help: 'Calls ended, by why (end_call, transfer, idle, max_duration, caller_hangup, ...)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly connectionsRefusedTotal = new Counter({
    name: 'voicebot_connections_refused_total',
    help: 'WebSockets that never became a call, by why (no_start, start_timeout, max_calls, per_ip, ...)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly underrunsTotal = new Counter({
    name: 'voicebot_playback_underruns_total',
    help: 'Gaps in bot audio against real time',
    registers: [this.registry],
  });
  readonly underrunMsTotal = new Counter({
    name: 'voicebot_playback_underrun_ms_total',
    help: 'Milliseconds of gaps in bot audio',
    registers: [this.registry],
  });
  readonly audibleUnderrunsTotal = new Counter({
    name: 'voicebot_playback_underruns_audible_total',
    help: 'Gaps in bot audio longer than 20 ms (heard as a stutter)',
    registers: [this.registry],
  });

  /**
   * Read at each scrape: `pendingWrites`, the store's queue; `vadStats`, the Silero scorer's
   * windows and batches, once loaded; `playbackLeadMs`, the lead players keep now (Pacer.leadFor);
   * `playbackStartMs`, the start cushion in force (StartCushion).
   */
  constructor(sources: {
    pendingWrites: () => number;
    vadStats?: () => { runs: number; windows: number; trips?: number; held?: number } | undefined;
    playbackLeadMs?: () => number;
    playbackStartMs?: () => number;
  }) {
    const { pendingWrites, vadStats = () => undefined, playbackLeadMs, playbackStartMs } = sources;
    // Totals kept by the scorer, read at each scrape.
    const read = (name: string, help: string, total: () => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(total());
        },
      });
    read(
      'voicebot_vad_windows_total',
      'Silero windows scored (their mean batch is this over voicebot_vad_batches_total)',
      () => vadStats()?.windows ?? 0,
    );
    read(
      'voicebot_vad_batches_total',
      'Silero inference runs (batches of windows from every call)',
      () => vadStats()?.runs ?? 0,
    );
    read(
      'voicebot_vad_trips_total',
      'Silero batches sent to an inference thread and answered (0 with VAD_THREADS=0)',
      () => vadStats()?.trips ?? 0,
    );
    read(
      'voicebot_vad_held_trips_total',
      'Of those, batches held a few ms for more calls under load (VAD_BATCH_HOLD_MS)',
      () => vadStats()?.held ?? 0,
    );
    new Gauge({
      name: 'voicebot_store_pending_writes',
      help: 'Call-record writes waiting in memory for the database',
      registers: [this.registry],
      collect() {
        this.set(pendingWrites());
      },
    });
    if (playbackLeadMs) {
      new Gauge({
        name: 'voicebot_playback_lead_ms',
        help: 'Audio kept queued at Exotel ahead of real time: PLAYBACK_LEAD_MS, more after the pacer clock stalled',
        registers: [this.registry],
        aggregator: 'max', // across workers: the largest, not a sum
        collect() {
          this.set(playbackLeadMs());
        },
      });
    }
    if (playbackStartMs) {
      new Gauge({
        name: 'voicebot_playback_start_ms',
        help: 'Audio a reply gathers before its first frame: PLAYBACK_START_MS, or learned from recent TTS streams with PLAYBACK_START_ADAPTIVE',
        registers: [this.registry],
        aggregator: 'max',
        collect() {
          this.set(playbackStartMs());
        },
      });
    }
    // The share of wall time the event loop spent running callbacks rather than waiting for I/O,
    // since the previous scrape: how full this process's event loop is. It counts time its thread
    // was runnable but not running (a busy machine) as busy, which is what the calls feel.
    let elu = performance.eventLoopUtilization();
    new Gauge({
      name: 'voicebot_event_loop_utilization',
      help: 'Share of wall time the event loop was busy since the previous scrape (0 to 1; with workers, the busiest)',
      registers: [this.registry],
      aggregator: 'max',
      collect() {
        const now = performance.eventLoopUtilization();
        this.set(Math.round(performance.eventLoopUtilization(now, elu).utilization * 1000) / 1000);
        elu = now;
      },
    });
    // Includes nodejs_eventloop_lag_* (event-loop delay), CPU and memory of the process.
    collectDefaultMetrics({
      register: this.registry,
      eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
    });
  }

  connectionRefused(reason: string): void {
    this.connectionsRefusedTotal.inc({ reason });
  }

  turnFinished(turn: TurnRecord): void {
    const outcome = turn.fallback ? 'fallback' : turn.interrupted ? 'interrupted' : 'answered';
    this.turnsTotal.inc({ source: turn.source, outcome });
    const d = stageDurations(turn.timings);
    for (const stage of STAGES) {
      const v = d[stage];
      if (v !== undefined && v >= 0) this.stageMs.observe({ stage }, v);
    }
    for (const code of turn.errors) this.providerErrorsTotal.inc({ code });
    for (const call of turn.toolCalls) this.toolCallsTotal.inc({ status: call.status });
  }

  callEnded(
    status: string,
    c: {
      bargeIns: number;
      underruns: number;
      underrunMs: number;
      audibleUnderruns?: number;
      endReason: string;
      speculations?: number;
      speculationsUsed?: number;
    },
  ): void {
    this.callsTotal.inc({ status });
    const used = c.speculationsUsed ?? 0;
    const discarded = (c.speculations ?? 0) - used;
    if (used > 0) this.speculativeRepliesTotal.inc({ outcome: 'used' }, used);
    if (discarded > 0) this.speculativeRepliesTotal.inc({ outcome: 'discarded' }, discarded);
    this.callEndingsTotal.inc({ reason: c.endReason });
    if (c.bargeIns > 0) this.bargeInsTotal.inc(c.bargeIns);
    if (c.underruns > 0) this.underrunsTotal.inc(c.underruns);
    if (c.underrunMs > 0) this.underrunMsTotal.inc(c.underrunMs);
    if ((c.audibleUnderruns ?? 0) > 0) this.audibleUnderrunsTotal.inc(c.audibleUnderruns);
  }
}
