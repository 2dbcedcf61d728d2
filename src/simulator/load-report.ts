/**
 * What `voicebot load` measures and how it prints it: the report's shape, nearest-rank
 * percentiles, and a small markdown rendering. Pure: no sockets, timers or clocks.
 */

/** Distribution of one latency (ms). All fields are null when nothing was measured. */
export interface LatencyStats {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
  max: number | null;
}

export interface LoadReport {
  url: string;
  sampleRate: number;
  durationMs: number;
  rampMs: number;
  /** Callers out of step over this time (0: in step); see LoadOptions.phaseMs. */
  phaseMs: number;
  /** Wall time of the whole run, from the first call's ramp slot to the last hang-up. */
  wallMs: number;
  calls: {
    requested: number;
    connected: number;
    /** Connected, ran to the end of the duration and were hung up by the simulator. */
    completed: number;
    failed: number;
  };
  turns: {
    /** Utterances the callers finished saying. */
    spoken: number;
    /** Of those, how many the bot answered with audio before the caller spoke again. */
    answered: number;
    /** The caller spoke again (or the call ended early) before any bot audio came. */
    unanswered: number;
    /** Still waiting for the bot's first frame when the duration ran out (not a failure). */
    pendingAtHangup: number;
    /** `waitReply` (and the greeting wait) steps that gave up. */
    waitTimeouts: number;
  };
  firstAudioMs: {
    /**
     * Caller's last frame of an utterance sent → first bot frame received after it. The WAV's
     * trailing silence counts as speech here (the test fixtures have 300 ms of it), so the time
     * from the end of the voice is that much longer.
     */
    turn: LatencyStats;
    /** `start` sent → first bot frame (the greeting). */
    greeting: LatencyStats;
  };
  bargeIn: {
    /** Utterances started while the bot was still playing (`bargeInAfterMs` steps). */
    count: number;
    /** Barge-in utterance's first frame sent (leading silence included) → `clear` received. */
    clearMs: LatencyStats;
  };
  playback: {
    framesReceived: number;
    bytesReceived: number;
    botAudioMs: number;
    underruns: number;
    underrunMs: number;
    maxUnderrunMs: number;
    /** Underruns longer than 20 ms (one frame): the ones a caller can hear. */
    underrunsOver20Ms: number;
    clears: number;
    marksReceived: number;
    marksEchoed: number;
    invalidFrames: number;
    /** Up to 10 distinct descriptions of invalid frames. */
    invalidKinds: string[];
  };
  errors: {
    total: number;
    /** `connect`, `unexpected-close`, `socket-error`, `hangup-timeout`, `server-process`. */
    byKind: Record<string, number>;
    /** Up to 10 first error messages, `kind: message`. */
    samples: string[];
  };
  /** Present when server pids were given: sampled from /proc every second, summed over pids. */
  server: {
    pids: number[];
    samples: number;
    cpuPercentMean: number | null;
    cpuPercentMax: number | null;
    rssMaxMb: number | null;
  } | null;
  /** The load generator itself: when its event loop lags, every latency above is inflated. */
  generator: {
    cpuPercentMean: number;
    eventLoopDelayP99Ms: number;
    eventLoopDelayMaxMs: number;
  };
}

/**
 * Nearest-rank percentile of an ascending array: the smallest value with at least `p` percent
 * of the values at or below it (p in [0, 100]). Null for an empty array.
 */
export function percentile(sortedAsc: readonly number[], p: number): number | null {
  if (sortedAsc.length === 0) return null;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  const rank = Math.max(1, Math.ceil((p / 100) * sortedAsc.length));
  return sortedAsc[rank - 1] ?? null;
}

/** Count, p50/p95/p99, mean and max of `values` (any order; not modified), rounded to 0.1 ms. */
export function latencyStats(values: readonly number[]): LatencyStats {
  const sorted = [...values].sort((a, b) => a - b);
  const r = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: r(percentile(sorted, 50)),
    p95: r(percentile(sorted, 95)),
    p99: r(percentile(sorted, 99)),
    mean: r(sorted.length ? sum / sorted.length : null),
    max: r(sorted.at(-1) ?? null),
  };
}

/** The report as two small markdown tables (latencies, then counters) and warnings. */
export function formatLoadReport(r: LoadReport): string {
  const ms = (v: number | null) => (v === null ? '-' : String(Math.round(v)));
  const row = (name: string, s: LatencyStats) =>
    `| ${name} | ${s.count} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.mean)} | ${ms(s.max)} |`;
  const kv = (k: string, v: string | number) => `| ${k} | ${v} |`;
  const p = r.playback;
  const lines = [
    `## voicebot load: ${r.calls.requested} calls × ${r.durationMs / 1000} s, ramp ${r.rampMs / 1000} s, ${r.phaseMs > 0 ? `callers out of step over ${r.phaseMs / 1000} s, ` : ''}${r.sampleRate} Hz (${(r.wallMs / 1000).toFixed(1)} s wall)`,
    '',
    r.url,
    '',
    '| latency (ms) | count | p50 | p95 | p99 | mean | max |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('first audio after caller speech', r.firstAudioMs.turn),
    row('greeting first audio after start', r.firstAudioMs.greeting),
    row('clear after barge-in start', r.bargeIn.clearMs),
    '',
    '| counter | value |',
    '| --- | --- |',
    kv(
      'calls',
      `${r.calls.completed}/${r.calls.requested} completed, ${r.calls.connected} connected, ${r.calls.failed} failed`,
    ),
    kv(
      'turns',
      `${r.turns.spoken} spoken, ${r.turns.answered} answered, ${r.turns.unanswered} unanswered, ${r.turns.pendingAtHangup} pending at hang-up, ${r.turns.waitTimeouts} wait timeouts`,
    ),
    kv('barge-ins', r.bargeIn.count),
    kv(
      'frames received',
      `${p.framesReceived} (${(p.bytesReceived / 1e6).toFixed(1)} MB, ${(p.botAudioMs / 1000).toFixed(1)} s of audio)`,
    ),
    kv(
      'underruns',
      `${p.underruns} (${Math.round(p.underrunMs)} ms, max ${Math.round(p.maxUnderrunMs)} ms)`,
    ),
    kv('clears', p.clears),
    kv('marks', `${p.marksReceived} received, ${p.marksEchoed} echoed`),
    kv('invalid frames', p.invalidFrames ? `${p.invalidFrames} (${p.invalidKinds.join('; ')})` : 0),
    kv(
      'errors',
      r.errors.total
        ? `${r.errors.total} (${Object.entries(r.errors.byKind)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')})`
        : 0,
    ),
  ];
  if (r.server) {
    const s = r.server;
    lines.push(
      kv(
        `server cpu (pid ${s.pids.join('+')})`,
        `mean ${pct(s.cpuPercentMean)}, max ${pct(s.cpuPercentMax)} (${s.samples} samples)`,
      ),
      kv('server max RSS', s.rssMaxMb === null ? '-' : `${s.rssMaxMb.toFixed(1)} MB`),
    );
  }
  const g = r.generator;
  lines.push(
    kv(
      'load generator',
      `cpu ${pct(g.cpuPercentMean)}, event-loop delay p99 ${g.eventLoopDelayP99Ms.toFixed(1)} ms, max ${g.eventLoopDelayMaxMs.toFixed(1)} ms`,
    ),
  );
  if (r.errors.samples.length) lines.push('', ...r.errors.samples.map((e) => `error: ${e}`));
  if (g.eventLoopDelayP99Ms > 50)
    lines.push(
      '',
      'warning: the load generator lagged (event-loop p99 > 50 ms); latencies are inflated',
    );
  return lines.join('\n');
}

function pct(v: number | null): string {
  return v === null ? '-' : `${v.toFixed(1)} %`;
}
