/**
 * `npx tsx bench/recording.ts`: what recording costs a live call, at 8 and 16 kHz. `RECORDING_CALLS`
 * recorders (default 300) are fed as calls feed them, in real time: a 100 ms caller frame each
 * 100 ms and the player's 20 ms frames, the calls out of step, with the recorder's own flush
 * timer. The same feeding without recorders is the baseline; the difference, in the process's
 * CPU (all threads: the file writes run on libuv's) and in the main thread's, is the recording's.
 *   RECORDING_CALLS=300 RECORDING_S=20 RECORDING_RATES=8000,16000 RECORDING_FLUSH_MS=2000 \
 *   npx tsx bench/recording.ts
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/log.js';
import { CallRecorder } from '../src/recording/call-recorder.js';
import { clockTicks, readThreadTicks } from '../src/simulator/proc.js';

const CALLS = Number(process.env.RECORDING_CALLS) || 300;
const SECONDS = Number(process.env.RECORDING_S) || 20;
const RATES = (process.env.RECORDING_RATES ?? '8000,16000').split(',').map(Number);
/** The recorder's flush interval; its own default when unset. */
const FLUSH_MS = Number(process.env.RECORDING_FLUSH_MS) || undefined;
const TICK_MS = 1000 / clockTicks();

/** The main thread's CPU so far, ms. */
function mainThreadMs(): number {
  return (readThreadTicks(process.pid, process.pid) ?? 0) * TICK_MS;
}

/** Feeds `CALLS` calls for `SECONDS`, with or without recorders; CPU ms (process, main thread). */
async function run(
  rate: number,
  record: boolean,
): Promise<{ cpu: number; main: number; bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'voicebot-recording-bench-'));
  const caller = Buffer.alloc((rate / 10) * 2, 1);
  const bot = Buffer.alloc((rate / 50) * 2, 2);
  const log = createLogger('silent');
  const recorders: CallRecorder[] = [];
  const timers: NodeJS.Timeout[] = [];
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadMs();
  for (let i = 0; i < CALLS; i++) {
    await new Promise((r) => setTimeout(r, 100 / CALLS));
    const rec = record
      ? new CallRecorder({
          path: join(dir, `${i}.wav`),
          sampleRate: rate,
          log,
          ...(FLUSH_MS ? { flushEveryMs: FLUSH_MS } : {}),
        })
      : undefined;
    if (rec) recorders.push(rec);
    timers.push(
      setInterval(() => {
        rec?.caller(caller);
        const now = performance.now();
        for (let k = 0; k < 5; k++) rec?.botFrame(bot, now + k * 20);
      }, 100),
    );
  }
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  for (const t of timers) clearInterval(t);
  await Promise.all(recorders.map((r) => r.close().written));
  const cpu = process.cpuUsage(cpu0);
  const main = mainThreadMs() - main0;
  let bytes = 0;
  for (let i = 0; i < recorders.length; i++) bytes += statSync(join(dir, `${i}.wav`)).size;
  rmSync(dir, { recursive: true, force: true });
  return { cpu: (cpu.user + cpu.system) / 1000, main, bytes };
}

const seconds = SECONDS + 0.1; // the ramp's 100 ms
for (const rate of RATES) {
  const base = await run(rate, false);
  const rec = await run(rate, true);
  const perCall = (ms: number) => ((ms / (seconds * 1000)) * 100) / CALLS;
  console.log(
    `${rate} Hz, ${CALLS} calls, ${SECONDS} s: recording costs ${perCall(rec.cpu - base.cpu).toFixed(4)} % of a core a call ` +
      `(main thread ${perCall(rec.main - base.main).toFixed(4)} %), ` +
      `${(rec.bytes / CALLS / (seconds / 60) / 1e6).toFixed(2)} MB a call-minute`,
  );
}
