/** Builds a real server on 127.0.0.1:0 against a fake OpenAI, with logs captured for assertions. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createServerLogger } from '../../src/log.js';
import { buildApp, type AppDeps, type VoicebotApp } from '../../src/server/app.js';
import type { TurnRecord } from '../../src/conversation/turn-record.js';

export interface LogLine {
  level: number;
  msg: string;
  code?: string;
  [k: string]: unknown;
}

export interface TestServer {
  voicebot: VoicebotApp;
  config: Config;
  /** ws://127.0.0.1:PORT */
  wsBase: string;
  httpBase: string;
  logs: LogLine[];
  /** Every finished turn of every call, in order. */
  turns: TurnRecord[];
  close(): Promise<void>;
}

/**
 * A server on 127.0.0.1:0 with its own SQLite file in a temporary folder (unless `env` names a
 * DATABASE_URL), the example agent profiles, and `deps` injected over the defaults.
 */
export async function startServer(
  env: Record<string, string>,
  deps: Partial<Pick<AppDeps, 'store' | 'agents' | 'providers'>> = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'voicebot-test-'));
  const config = loadConfig({
    OPENAI_API_KEY: 'test-key',
    LOG_LEVEL: 'info',
    PORT: '0',
    DATA_DIR: dataDir,
    AGENTS_DIR: join(import.meta.dirname, '..', '..', 'agents'),
    // No idle prompts unless a test asks for them: they would talk into long silent waits.
    IDLE_AFTER_MS: '0',
    // No start-up synthesis unless a test asks for it: tests count TTS requests.
    TTS_PREWARM: 'false',
    ...env,
  });
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      }
      cb();
    },
  });
  const logger = createServerLogger(config, sink);
  const turns: TurnRecord[] = [];
  const voicebot = await buildApp({
    config,
    logger,
    ...deps,
    onTurn: (_call, turn) => turns.push(turn),
  });
  await voicebot.app.listen({ port: config.port, host: '127.0.0.1' });
  const addr = voicebot.app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return {
    voicebot,
    config,
    wsBase: `ws://127.0.0.1:${addr.port}`,
    httpBase: `http://127.0.0.1:${addr.port}`,
    logs,
    turns,
    close: async () => {
      await voicebot.app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `pred` holds (generous limit: these machines are shared and noisy). */
export async function eventually<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (performance.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Signs in to the console with the admin key; the session cookie (`vb_session=…`). */
export async function consoleCookie(httpBase: string, key: string): Promise<string> {
  const res = await fetch(`${httpBase}/console/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key }).toString(),
    redirect: 'manual',
  });
  if (res.status !== 303) throw new Error(`console sign-in answered ${res.status}`);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}
