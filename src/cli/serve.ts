/**
 * `voicebot serve`: runs the server until SIGINT/SIGTERM, then drains live calls. With
 * `WORKERS` > 1 the primary checks the profiles, migrates the database once, and forks the
 * workers, which each run the whole server on the shared port.
 */
import cluster from 'node:cluster';
import { agentLoadOptions, loadAgentProfiles } from '../agents/index.js';
import { loadConfig, loadDotEnv } from '../config/index.js';
import { createServerLogger } from '../log.js';
import { buildApp } from '../server/app.js';
import { runPrimary } from '../server/cluster.js';
import { openDatabase } from '../store/index.js';

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
