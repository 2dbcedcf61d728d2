/** `voicebot serve`: runs the server until SIGINT/SIGTERM, then drains live calls. */
import { loadConfig, loadDotEnv } from '../config/index.js';
import { createLogger } from '../log.js';
import { buildApp } from '../server/app.js';

export async function serve(): Promise<number> {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
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
  return new Promise(() => {});
}
