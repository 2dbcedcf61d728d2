/**
 * What each simulated caller does during `voicebot load`: the scenario format (a JSON list of
 * steps, repeated until the call's time is up), loading its WAVs once at the stream rate, and
 * `ScenarioRunner`, which plays the steps on one `SimulatedCall` and measures the bot's replies.
 *
 * Steps:
 * - `{ "say": "file.wav" }` speaks the file (path relative to the working directory).
 * - `{ "say": "file.wav", "bargeInAfterMs": 800 }` first waits for the bot's reply to the previous
 *   utterance to start, lets it play 800 ms, then speaks over it.
 * - `{ "waitReply": true, "timeoutMs": 20000 }` waits until the bot's reply to the last utterance
 *   (or the greeting, before any) has finished playing: a mark received after it is echoed.
 * - `{ "pause": 1000 }` stays silent (the microphone keeps sending silence).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bytesFromPcm, decodeWav, resample } from '../audio/index.js';
import type { ReceivedFrame, ReceivedMark, SimulatedCall } from './simulated-call.js';

export type ScenarioStep =
  | { say: string; bargeInAfterMs?: number }
  | { waitReply: true; timeoutMs?: number }
  | { pause: number };

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures');
const MAX_STEPS = 1000;
const MAX_STEP_MS = 600_000;
const DEFAULT_WAIT_REPLY_MS = 20_000;
/** How long a barge-in waits for the reply it interrupts to start. */
const BARGE_IN_WAIT_MS = 15_000;

/** Ask, hear the answer, ask again and interrupt the answer with a long sentence. */
export const DEFAULT_SCENARIO: readonly ScenarioStep[] = [
  { say: join(FIXTURES, 'hello-16k.wav') },
  { waitReply: true },
  { pause: 1000 },
  { say: join(FIXTURES, 'pause-16k.wav') },
  { say: join(FIXTURES, 'long-16k.wav'), bargeInAfterMs: 800 },
  { waitReply: true },
  { pause: 1000 },
];

/** Validates a parsed scenario (an array of steps, or `{ "steps": [...] }`). */
export function parseScenario(json: unknown): ScenarioStep[] {
  const list: unknown =
    json && typeof json === 'object' && !Array.isArray(json)
      ? (json as { steps?: unknown }).steps
      : json;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_STEPS)
    throw new ScenarioError(`a scenario is a list of 1 to ${MAX_STEPS} steps`);
  const steps = list.map((raw: unknown, i): ScenarioStep => {
    const at = `scenario step ${i + 1}`;
    if (!raw || typeof raw !== 'object') throw new ScenarioError(`${at}: not an object`);
    const s = raw as Record<string, unknown>;
    const keys = Object.keys(s);
    const only = (allowed: string[]) => {
      const extra = keys.filter((k) => !allowed.includes(k));
      if (extra.length) throw new ScenarioError(`${at}: unknown field "${extra[0]}"`);
    };
    if ('say' in s) {
      only(['say', 'bargeInAfterMs']);
      if (typeof s.say !== 'string' || !s.say)
        throw new ScenarioError(`${at}: "say" is a WAV path`);
      if (s.bargeInAfterMs === undefined) return { say: s.say };
      return { say: s.say, bargeInAfterMs: duration(s.bargeInAfterMs, `${at}: "bargeInAfterMs"`) };
    }
    if ('waitReply' in s) {
      only(['waitReply', 'timeoutMs']);
      if (s.waitReply !== true) throw new ScenarioError(`${at}: "waitReply" must be true`);
      if (s.timeoutMs === undefined) return { waitReply: true };
      return { waitReply: true, timeoutMs: duration(s.timeoutMs, `${at}: "timeoutMs"`) };
    }
    if ('pause' in s) {
      only(['pause']);
      return { pause: duration(s.pause, `${at}: "pause"`) };
    }
    throw new ScenarioError(`${at}: needs "say", "waitReply" or "pause"`);
  });
  // Without a step that takes time, repeating the list would spin.
  if (!steps.some((s) => 'say' in s || ('pause' in s && s.pause > 0)))
    throw new ScenarioError('a scenario needs at least one "say" or a "pause" over 0 ms');
  return steps;
}

function duration(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_STEP_MS)
    throw new ScenarioError(`${what} must be a number of ms in [0, ${MAX_STEP_MS}]`);
  return v;
}

export async function loadScenarioFile(path: string): Promise<ScenarioStep[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ScenarioError(`cannot read scenario ${path}: ${(err as Error).message}`);
  }
  return parseScenario(json);
}

/** Every WAV the scenario says, decoded once and resampled to `sampleRate` (s16le), by path. */
export async function loadScenarioAudio(
  steps: readonly ScenarioStep[],
  sampleRate: number,
): Promise<Map<string, Buffer>> {
  const audio = new Map<string, Buffer>();
  for (const step of steps) {
    if (!('say' in step) || audio.has(step.say)) continue;
    let wav;
    try {
      wav = decodeWav(await readFile(resolve(step.say)));
    } catch (err) {
      throw new ScenarioError(`cannot load ${step.say}: ${(err as Error).message}`);
    }
    if (wav.samples.length === 0) throw new ScenarioError(`${step.say} has no audio`);
    const pcm = await resample(wav.samples, wav.sampleRate, sampleRate);
    audio.set(step.say, bytesFromPcm(pcm));
  }
  return audio;
}

/**
 * Runs a scenario on one connected, started call with its microphone on, and measures it.
 * Owns nothing but its listeners: the caller aborts `signal` to stop it and hangs up.
 */
export class ScenarioRunner {
  readonly turnLatenciesMs: number[] = [];
  readonly clearLatenciesMs: number[] = [];
  greetingFirstAudioMs: number | undefined;
  spoken = 0;
  unanswered = 0;
  waitTimeouts = 0;
  bargeIns = 0;
  framesReceived = 0;
  bytesReceived = 0;
  /** End of the caller's last utterance (the call's start before any). */
  private lastSpeechEnd: number;
  /** Set from an utterance's end until the bot's first frame after it. */
  private awaitingSince: number | undefined;
  private lastReplyStart = -Infinity;
  private botPlayEnd = 0;
  private bargeInStartedAt: number | undefined;
  private readonly bytesPerMs: number;

  constructor(
    private readonly call: SimulatedCall,
    private readonly audio: ReadonlyMap<string, Buffer>,
    sampleRate: number,
    private readonly signal: AbortSignal,
  ) {
    this.bytesPerMs = (sampleRate * 2) / 1000;
    this.lastSpeechEnd = call.startedAt;
    call.on('media', this.onMedia);
    call.on('clear', this.onClear);
  }

  get pendingAtHangup(): number {
    return this.awaitingSince === undefined ? 0 : 1;
  }

  /**
   * Waits for the greeting (then `firstPauseMs`, once: a caller out of step with the others),
   * then repeats `steps` until aborted or the call closes.
   */
  async run(steps: readonly ScenarioStep[], firstPauseMs = 0): Promise<void> {
    try {
      await this.waitReply(DEFAULT_WAIT_REPLY_MS);
      if (firstPauseMs > 0 && this.live) await this.pause(firstPauseMs);
      while (this.live) {
        for (const step of steps) {
          if (!this.live) break;
          if ('say' in step) await this.say(step.say, step.bargeInAfterMs);
          else if ('waitReply' in step)
            await this.waitReply(step.timeoutMs ?? DEFAULT_WAIT_REPLY_MS);
          else await this.pause(step.pause);
        }
      }
    } finally {
      this.call.off('media', this.onMedia);
      this.call.off('clear', this.onClear);
    }
  }

  private get live(): boolean {
    return !this.signal.aborted && this.call.isOpen;
  }

  private readonly onMedia = (f: ReceivedFrame): void => {
    this.framesReceived++;
    this.bytesReceived += f.bytes;
    this.botPlayEnd = f.playAt + f.bytes / this.bytesPerMs;
    if (this.greetingFirstAudioMs === undefined)
      this.greetingFirstAudioMs = f.at - this.call.startedAt;
    if (this.awaitingSince !== undefined && f.at > this.awaitingSince) {
      this.turnLatenciesMs.push(f.at - this.awaitingSince);
      this.awaitingSince = undefined;
      this.lastReplyStart = f.at;
    }
    // The call keeps every frame and all bot audio; a long load run must not.
    this.call.frames.length = 0;
    this.call.botAudio.length = 0;
  };

  private readonly onClear = (at: number): void => {
    this.botPlayEnd = at;
    if (this.bargeInStartedAt !== undefined) {
      this.clearLatenciesMs.push(at - this.bargeInStartedAt);
      this.bargeInStartedAt = undefined;
    }
  };

  private async say(path: string, bargeInAfterMs: number | undefined): Promise<void> {
    const pcm = this.audio.get(path);
    if (!pcm) throw new ScenarioError(`${path} was not loaded`);
    if (bargeInAfterMs !== undefined) {
      let started = this.lastReplyStart > this.lastSpeechEnd;
      if (!started) {
        const since = this.lastSpeechEnd;
        started = await this.until({ media: (f: ReceivedFrame) => f.at > since }, BARGE_IN_WAIT_MS);
        if (!this.live) return;
        if (!started) this.waitTimeouts++;
      }
      const wait = this.lastReplyStart + bargeInAfterMs - performance.now();
      if (started && wait > 0 && !(await this.pause(wait))) return;
      if (started && this.botPlayEnd > performance.now()) {
        this.bargeIns++;
        this.bargeInStartedAt = performance.now();
      }
    }
    if (this.awaitingSince !== undefined) this.unanswered++;
    this.awaitingSince = undefined;
    await this.guard(this.call.say(pcm));
    if (!this.live) return;
    this.spoken++;
    this.lastSpeechEnd = this.awaitingSince = performance.now();
  }

  /** Until a mark received after the caller's last utterance has been echoed (or a clear). */
  private async waitReply(timeoutMs: number): Promise<void> {
    const since = this.lastSpeechEnd;
    const done = this.call.marks.some((m) => m.at > since && m.echoedAt !== undefined);
    if (done || this.call.clears.some((t) => t > since)) return;
    const ok = await this.until(
      {
        'mark-echo': (m: ReceivedMark) => m.at > since,
        clear: (t: number) => t > since,
      },
      timeoutMs,
    );
    if (!ok && this.live) this.waitTimeouts++;
  }

  /** Resolves true after `ms`, false when aborted first. */
  private async pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.signal });
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves true on the first event matching its predicate, false on timeout, abort or close. */
  private until(waits: Record<string, (v: never) => boolean>, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const handlers = Object.entries(waits).map(([event, pred]) => {
        const onEvent = (v: unknown) => {
          if (pred(v as never)) finish(true);
        };
        this.call.on(event, onEvent);
        return [event, onEvent] as const;
      });
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        for (const [event, onEvent] of handlers) this.call.off(event, onEvent);
        this.call.off('close', onStop);
        this.signal.removeEventListener('abort', onStop);
        resolve(ok);
      };
      const onStop = () => finish(false);
      const timer = setTimeout(onStop, timeoutMs);
      this.call.once('close', onStop);
      this.signal.addEventListener('abort', onStop, { once: true });
      if (!this.live) finish(false);
    });
  }

  /** Waits for `p` unless aborted first (`p` still settles when the call hangs up). */
  private async guard(p: Promise<void>): Promise<void> {
    if (this.signal.aborted) return;
    let onAbort!: () => void;
    const aborted = new Promise<void>((r) => {
      onAbort = r;
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([p, aborted]);
    } finally {
      this.signal.removeEventListener('abort', onAbort);
    }
  }
}
