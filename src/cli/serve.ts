/**
 * `voicebot serve`: runs the server until SIGINT/SIGTERM, then drains live calls. With
 * `WORKERS` > 1 the primary checks the profiles, migrates the database once, and forks the
 * workers, which each run the whole server on the shared port.
 */
import cluster from 'node:cluster';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentLoadOptions, loadAgentProfiles } from '../agents/index.js';
import { loadConfig, loadDotEnv } from '../config/index.js';
import { createServerLogger } from '../log.js';
import { buildApp } from '../server/app.js';
import { runPrimary } from '../server/cluster.js';
import { openDatabase } from '../store/index.js';

/** Longest the server waits for its start-up synthesis before it takes calls. */
const WARM_BEFORE_LISTEN_MS = 5_000;

export async function serve(): Promise<number> {
  loadDotEnv();
  const config = loadConfig();
  const logger = createServerLogger(config);
  if (config.workers > 1 && cluster.isPrimary) {
    // Fail fast, once, and keep workers from racing each other's migrations.
    await loadAgentProfiles(config.agents.dir, agentLoadOptions(config));
    const db = await openDatabase(config.store.databaseUrl, { dataDir: config.store.dataDir });
    await db.close();
    return runPrimary({ workers: config.workers, logger, shutdownGraceMs: config.shutdownGraceMs });
  }
  const voicebot = await buildApp({ config, logger });
  // The first calls after a start should not wait for TTS: take calls once the lines are
  // synthesized (at once when they are on disk already), or after WARM_BEFORE_LISTEN_MS anyway.
  const warm = await Promise.race([
    voicebot.warmed.then(() => true),
    sleep(WARM_BEFORE_LISTEN_MS, false, { ref: false }),
  ]);
  if (!warm) {
    logger.warn(
      { code: 'TTS_WARM_UP_SLOW', waitedMs: WARM_BEFORE_LISTEN_MS },
      'taking calls before every line is synthesized; the first calls may wait for TTS',
    );
  }
  await voicebot.app.listen({ port: config.port, host: config.host });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, calls: voicebot.registry.size }, 'shutting down');
    voicebot
      .shutdown()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (cluster.worker) {
    // Node makes a worker exit at once when its primary dies, dropping every live call. Ours
    // drains instead (no new calls can reach it; its live ones finish or hear the goodbye).
    cluster.worker.exitedAfterDisconnect = true;
    process.on('disconnect', () => stop('primary gone'));
  }
  return new Promise(() => {});
}
