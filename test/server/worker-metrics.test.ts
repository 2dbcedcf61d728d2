/** A worker's /metrics never goes unanswered: the cluster's sum, or the worker's own when the
 * primary does not answer (the cluster path itself is in cluster.test.ts). */
import { Writable } from 'node:stream';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { workerMetrics } from '../../src/server/cluster.js';

function setup() {
  const registry = new Registry();
  new Counter({ name: 'voicebot_test_total', help: 'a test counter', registers: [registry] }).inc(
    3,
  );
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger(
    'info',
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    }),
  );
  return { registry, log, lines };
}

describe('workerMetrics', () => {
  it("answers with the cluster's sum when the primary answers", async () => {
    const { registry, log, lines } = setup();
    const out = await workerMetrics(registry, log, () =>
      Promise.resolve('voicebot_test_total 6\n'),
    );
    expect(out).toEqual({ text: 'voicebot_test_total 6\n', scope: 'cluster' });
    expect(lines).toEqual([]);
  });

  it("answers with the worker's own metrics, and logs a code, when the primary does not", async () => {
    const { registry, log, lines } = setup();
    const out = await workerMetrics(registry, log, () =>
      Promise.reject(new Error('the primary did not answer with metrics')),
    );
    expect(out.scope).toBe('worker');
    expect(out.text).toMatch(/^voicebot_test_total 3$/m);
    expect(lines.map((l) => l.code)).toEqual(['METRICS_CLUSTER_UNAVAILABLE']);
  });
});
