/**
 * The fixed lines of a call (greeting, fallback, filler, idle prompt, goodbye, transfer line),
 * said through the TTS cache, and synthesized ahead when the call may need them in a hurry: the
 * fallback because TTS may be what failed, the others because a pause before them is dead air.
 */
import type { CallPlan } from '../agents/call-plan.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { TtsProvider } from '../providers/tts/types.js';
import type { AudioOutput, UtteranceKind } from './audio-output.js';
import { speakNumbers, type NumberStyle } from '../speech/numbers.js';
import { prepareCachedSpeech, speak, type SpeakResult } from './speak.js';
import type { TtsCache } from './tts-cache.js';

export interface CallLinesOptions {
  output: AudioOutput;
  tts: TtsProvider;
  cache: TtsCache;
  voice: string;
  /** How numbers in a line are read. */
  numbers: NumberStyle;
  /** The call's signal. */
  signal: AbortSignal;
  log: Logger;
}

export class CallLines {
  constructor(private readonly o: CallLinesOptions) {}

  /** The words TTS is given for `text`: its numbers in words. */
  spoken(text: string): string {
    return speakNumbers(text, this.o.numbers);
  }

  /**
   * Says `text` as one utterance (cancelled with `signal`, by default the call's); `said` is the
   * text TTS was given.
   */
  async say(
    kind: UtteranceKind,
    text: string,
    signal = this.o.signal,
  ): Promise<SpeakResult & { said: string }> {
    const { output, tts, cache, voice } = this.o;
    const said = this.spoken(text);
    return { ...(await speak({ output, tts, text: said, voice, kind, signal, cache })), said };
  }

  /**
   * Synthesizes the plan's urgent lines into the cache, one after another: `first` (a greeting
   * not said yet), then the fallback line and the rest.
   */
  async prepare(plan: CallPlan, first: readonly string[] = []): Promise<void> {
    const { output, tts, cache, voice, signal, log } = this.o;
    for (const text of new Set([...first, ...urgentLines(plan)])) {
      if (signal.aborted) return;
      await prepareCachedSpeech({
        sampleRate: output.sampleRate,
        tts,
        cache,
        text: this.spoken(text),
        voice,
        signal,
      }).catch((err: unknown) => {
        if (!signal.aborted) log.warn({ code: errorCode(err) }, 'line not pre-synthesized');
      });
    }
  }
}

/** The lines a call may need with no time to synthesize them, most urgent first. */
export function urgentLines(plan: CallPlan): string[] {
  const tools = plan.tools.http;
  const lines = [
    plan.fallbackText,
    ...(tools.length > 0 || plan.limits.holdAfterMs > 0 ? [plan.tools.fillerText] : []),
    ...tools.map((t) => t.message),
    ...(plan.idle.afterMs > 0 ? [plan.idle.message] : []),
    plan.goodbyeText,
    ...(plan.transfer ? [plan.transfer.message] : []),
  ];
  return [...new Set(lines.filter((l): l is string => !!l))];
}
