/**
 * Several server processes on one port (`WORKERS`): the primary forks the workers (node:cluster
 * shares the listening socket), restarts one that dies, drains them all on SIGTERM, and answers
 * a worker's `/metrics` with the metrics of every worker added up. Calls live in one worker each;
 * what they share lives in the database.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '../log.js';

const METRICS_REQUEST = 'voicebot:metrics-request';
const METRICS_RESPONSE = 'voicebot:metrics-response';
const METRICS_COLLECT = 'voicebot:metrics-collect';
const METRICS_COLLECTED = 'voicebot:metrics-collected';

interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: string;
}
interface MetricsResponse {
  type: typeof METRICS_RESPONSE;
  id: string;
  text?: string;
  error?: string;
}
interface MetricsCollect {
  type: typeof METRICS_COLLECT;
  id: string;
}
interface MetricsCollected {
  type: typeof METRICS_COLLECTED;
  id: string;
  metrics: object[];
}

/** In the primary: asks every worker for its metrics and adds them up. */
async function collectAll(timeoutMs: number): Promise<string> {
  const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const id = randomUUID();
  const parts = await Promise.all(
    workers.map(
      (w) =>
        new Promise<object[]>((resolve) => {
          const timer = setTimeout(() => done([]), timeoutMs);
          const onMessage = (msg: MetricsCollected) => {
            if (msg?.type === METRICS_COLLECTED && msg.id === id) done(msg.metrics);
          };
          const done = (m: object[]) => {
            clearTimeout(timer);
            w.off('message', onMessage);
            resolve(m);
          };
          w.on('message', onMessage);
          w.send({ type: METRICS_COLLECT, id } satisfies MetricsCollect);
        }),
    ),
  );
  return AggregatorRegistry.aggregate(parts).metrics();
}

/** In a worker: answer the primary's collection requests from `registry`. */
export function serveWorkerMetrics(registry: Registry): void {
  process.on('message', (msg: MetricsCollect) => {
    if (msg?.type !== METRICS_COLLECT) return;
    registry.getMetricsAsJSON().then(
      (metrics) =>
        process.send?.({ type: METRICS_COLLECTED, id: msg.id, metrics } satisfies MetricsCollected),
      () =>
        process.send?.({
          type: METRICS_COLLECTED,
          id: msg.id,
          metrics: [],
        } satisfies MetricsCollected),
    );
  });
}

/** More deaths than this within a minute stops the restarts (something is wrong at start-up). */
const MAX_RESTARTS_PER_MINUTE = 5;

export function runPrimary(opts: {
  workers: number;
  logger: Logger;
  shutdownGraceMs: number;
}): Promise<number> {
  const { logger } = opts;
  let stopping = false;
  const deaths: number[] = [];
  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (msg: MetricsRequest) => {
      if (msg?.type !== METRICS_REQUEST) return;
      collectAll(2_000).then(
        (text) =>
          worker.send({ type: METRICS_RESPONSE, id: msg.id, text } satisfies MetricsResponse),
        (err: unknown) =>
          worker.send({
            type: METRICS_RESPONSE,
            id: msg.id,
            error: String(err),
          } satisfies MetricsResponse),
      );
    });
  };
  return new Promise((resolve) => {
    cluster.on('exit', (worker: Worker, code, signal) => {
      const alive = Object.keys(cluster.workers ?? {}).length;
      if (stopping) {
        if (alive === 0) resolve(0);
        return;
      }
      const now = Date.now();
      deaths.push(now);
      while (deaths.length > 0 && deaths[0]! < now - 60_000) deaths.shift();
      logger.error(
        { code: 'WORKER_EXITED', pid: worker.process.pid, exitCode: code, signal },
        'worker exited',
      );
      if (deaths.length > MAX_RESTARTS_PER_MINUTE) {
        logger.fatal({ code: 'WORKER_CRASH_LOOP' }, 'workers keep dying; stopping');
        stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
        if (alive === 0) resolve(1);
        return;
      }
      fork();
    });
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping workers');
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      setTimeout(() => {
        logger.warn('workers did not stop in time; killing them');
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
        resolve(1);
      }, opts.shutdownGraceMs + 8_000).unref(); // the grace, the goodbyes (4 s), the flush
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    for (let i = 0; i < opts.workers; i++) fork();
    logger.info({ workers: opts.workers }, 'primary started');
  });
}

/** In a worker: the metrics of every worker, added up by the primary. */
export function clusterMetrics(timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const id = randomUUID();
    const onMessage = (msg: MetricsResponse) => {
      if (msg?.type !== METRICS_RESPONSE || msg.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (msg.text !== undefined) resolve(msg.text);
      else reject(new Error(msg.error ?? 'no metrics'));
    };
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary did not answer with metrics'));
    }, timeoutMs);
    process.on('message', onMessage);
    process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
  });
}

export const isClusterWorker = (): boolean => cluster.isWorker;

/**
 * What a worker's `/metrics` answers: every worker's metrics added up, or, when the primary
 * does not answer in time (busy, restarting, a worker slow to report), this worker's own with
 * `scope: 'worker'` (sent as `X-Metrics-Scope`), so a scrape never ends without an answer.
 */
export async function workerMetrics(
  own: Registry,
  log: Logger,
  collect: () => Promise<string> = () => clusterMetrics(),
): Promise<{ text: string; scope: 'cluster' | 'worker' }> {
  try {
    return { text: await collect(), scope: 'cluster' };
  } catch (err) {
    log.warn(
      {
        code: 'METRICS_CLUSTER_UNAVAILABLE',
        detail: err instanceof Error ? err.message : String(err),
      },
      "metrics: the primary did not answer; serving this worker's own",
    );
    return { text: await own.metrics(), scope: 'worker' };
  }
}
