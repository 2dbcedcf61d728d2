/**
 * The server as its own process (`voicebot serve` from source through tsx), for tests that kill,
 * cluster or put several of them behind a proxy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually } from './app.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** A free TCP port on 127.0.0.1 (released before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** Resolves with the exit code once the process has gone. */
  exited: Promise<number | null>;
}

/**
 * Starts a server on a free loopback port (one process, warnings and up on stdout, a short
 * greeting) with `env` over those defaults, and resolves once `/readyz` answers.
 */
export async function serveProcess(
  env: Record<string, string>,
  stdout: 'ignore' | 'pipe' = 'ignore',
): Promise<ServerProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      WORKERS: '1',
      PORT: String(port),
      HOST: '127.0.0.1',
      OPENAI_API_KEY: 'test',
      LOG_LEVEL: 'warn',
      GREETING_TEXT: 'Hi.',
      TTS_PREWARM: 'false',
      ...env,
    },
    stdio: ['ignore', stdout, 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  await eventually(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    return res?.ok;
  }, 30_000);
  return { child, port, exited };
}
