/**
 * Child processes of the bench: each runs TypeScript through tsx in a single Node process (so its
 * pid is the one doing the work, for CPU and RSS sampling), is registered for clean-up, and is
 * killed when the bench exits, fails or is interrupted. Children also watch their stdin and exit
 * when the pipe closes, which covers the bench being killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = join(import.meta.dirname, '..');
const live = new Set<ChildProcess>();

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Resolves with the exit code (or signal name) once the process has gone. */
  exited: Promise<number | string>;
  stdout: string[];
  stderrTail: string[];
}

/** Starts `node --import tsx <script> ...args` in the repository root; `''` in env unsets. */
export function startTs(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  return startNode(['--import', 'tsx', join(ROOT, script), ...args], env);
}

/** Starts `node <args>` in the repository root; `''` in env unsets a variable. */
export function startNode(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  // An empty string removes a variable the bench's own environment may carry (DATABASE_URL...).
  for (const [k, v] of Object.entries(env)) if (v === '') delete merged[k];
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: merged,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`could not start node ${args.join(' ')}`);
  live.add(proc);
  const stdout: string[] = [];
  const stderrTail: string[] = [];
  createInterface({ input: proc.stdout }).on('line', (l) => stdout.push(l));
  createInterface({ input: proc.stderr }).on('line', (l) => {
    stderrTail.push(l);
    if (stderrTail.length > 40) stderrTail.shift();
  });
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  return { proc, pid: proc.pid, exited, stdout, stderrTail };
}

/** Waits for the child's first stdout line (e.g. the URL it listens on). */
export async function firstLine(child: Child, what: string, timeoutMs = 30_000): Promise<string> {
  const t0 = performance.now();
  while (child.stdout.length === 0) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null)
      throw new Error(`${what} exited early:\n${child.stderrTail.join('\n')}`);
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what} printed nothing in time`);
    await sleep(50);
  }
  return child.stdout[0]!;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stop(child: Child, graceMs = 5000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const done = await Promise.race([child.exited.then(() => true), sleep(graceMs, false)]);
  if (!done) {
    child.proc.kill('SIGKILL');
    await child.exited;
  }
}

/** Kills every child still running (synchronously usable from an exit handler). */
export function killAll(): void {
  for (const p of live) p.kill('SIGKILL');
  live.clear();
}

/** Makes sure no child outlives the bench, whatever way it ends. */
export function installCleanup(): void {
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  process.on('uncaughtException', (err) => {
    console.error(err);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error(err);
    killAll();
    process.exit(1);
  });
}

/** A free TCP port on 127.0.0.1 (released before it is returned). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (!addr || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}
