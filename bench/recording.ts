/**
 * `npx tsx bench/recording.ts`: what recording costs per call-minute (CPU of the recorder's work
 * on the event loop, bytes on disk), for a 5-minute call at 8 and 16 kHz with Exotel-sized
 * caller frames (100 ms) and the player's 20 ms frames, flushed once a second as in a call.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/log.js';
import { CallRecorder } from '../src/recording/call-recorder.js';

const MINUTES = 5;
for (const rate of [8000, 16000]) {
  const dir = mkdtempSync(join(tmpdir(), 'voicebot-recording-bench-'));
  const path = join(dir, 'call.wav');
  let t = 0;
  const rec = new CallRecorder({
    path,
    sampleRate: rate,
    log: createLogger('silent'),
    now: () => t,
    flushEveryMs: 1e9, // flushed below, on the call's own clock
  });
  const caller = Buffer.alloc((rate / 10) * 2, 1);
  const bot = Buffer.alloc((rate / 50) * 2, 2);
  const flush = (rec as unknown as { flushSettled(): void }).flushSettled.bind(rec);
  const cpu0 = process.cpuUsage();
  for (let ms = 0; ms < MINUTES * 60_000; ms += 100) {
    rec.caller(caller);
    for (let k = 0; k < 5; k++) rec.botFrame(bot, ms + k * 20);
    t = ms + 100;
    if (ms % 1000 === 900) flush();
  }
  const { written } = rec.close();
  const cpu = process.cpuUsage(cpu0);
  await written;
  const bytes = statSync(path).size;
  rmSync(dir, { recursive: true, force: true });
  const cpuMs = (cpu.user + cpu.system) / 1000 / MINUTES;
  console.log(
    `${rate} Hz: ${cpuMs.toFixed(1)} ms CPU and ${(bytes / MINUTES / 1e6).toFixed(2)} MB per call-minute ` +
      `(${((cpuMs / 60_000) * 100).toFixed(3)} % of a core per live call)`,
  );
}
