/**
 * `voicebot call`: one simulated Exotel call against a `/was` URL. Speaks a WAV file after the
 * greeting, echoes marks at playback time, writes the bot's audio to a WAV file and prints a
 * timing summary.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { decodeWav, encodeWav, pcmFromBytes, resample, bytesFromPcm } from '../audio/index.js';
import { SimulatedCall } from '../simulator/simulated-call.js';
import { formatSummary, summarize, type CallSummary } from '../simulator/summary.js';

export interface CallCommandOptions {
  url: string;
  wav?: string | undefined;
  out?: string | undefined;
  params: Record<string, string>;
  sampleRate?: number | undefined;
  frameMs: number;
  /** How long to wait for the greeting to finish playing before speaking. */
  greetingTimeoutMs: number;
  /** How long the line must stay quiet after the caller spoke before hanging up. */
  quietMs: number;
  /** Hard limit on the whole call. */
  maxCallMs: number;
  json: boolean;
}

export async function runCall(
  o: CallCommandOptions,
  print: (s: string) => void,
): Promise<CallSummary> {
  const url = new URL(o.url);
  const urlRate = url.searchParams.get('sample-rate') ?? url.searchParams.get('sample_rate');
  const sampleRate = urlRate ? Number(urlRate) : (o.sampleRate ?? 16000);
  if (!urlRate) url.searchParams.set('sample-rate', String(sampleRate));

  let speech: Buffer | undefined;
  if (o.wav) {
    const wav = decodeWav(await readFile(o.wav));
    const pcm = await resample(wav.samples, wav.sampleRate, sampleRate);
    speech = Buffer.from(bytesFromPcm(pcm));
  }

  const call = new SimulatedCall({ url: url.toString(), sampleRate, customParameters: o.params });
  await call.connect();
  call.start();
  call.startMic(o.frameMs);
  const deadline = performance.now() + o.maxCallMs;
  try {
    await call.waitForEvent('mark-echo', () => true, o.greetingTimeoutMs).catch(() => undefined);
    if (speech && call.isOpen) await call.say(speech);
    await waitQuiet(call, o.quietMs, deadline, performance.now());
  } finally {
    await call.hangup();
  }
  const summary = summarize(call, sampleRate);
  if (o.out) {
    await writeFile(o.out, encodeWav(pcmFromBytes(call.botPcm()), sampleRate));
  }
  print(o.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  return summary;
}

/**
 * Resolves once nothing has arrived from the bot for `quietMs` since `since` (the caller's last
 * word) and every mark was echoed.
 */
async function waitQuiet(
  call: SimulatedCall,
  quietMs: number,
  deadline: number,
  since: number,
): Promise<void> {
  for (;;) {
    const now = performance.now();
    if (!call.isOpen || now >= deadline) return;
    const lastFrame = call.frames.at(-1);
    const lastActivity = Math.max(
      since,
      lastFrame?.at ?? 0,
      ...call.marks.map((m) => m.echoedAt ?? m.at),
    );
    const pending = call.marks.some((m) => m.echoedAt === undefined) && call.clears.length === 0;
    if (!pending && now - lastActivity >= quietMs) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
