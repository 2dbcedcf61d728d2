/**
 * At start-up, the lines every call may say (each profile's greeting, fallback, filler, idle,
 * goodbye and transfer lines, and the server's own) are synthesized into the TTS cache at the
 * stream rates calls use, so no caller waits for TTS to hear a greeting, on any worker, after a
 * restart. With the cache's folder shared (DATA_DIR), workers make each line once between them.
 */
import type { AgentRegistry } from '../agents/index.js';
import { resolveCallPlan } from '../agents/call-plan.js';
import type { Config } from '../config/index.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { ProviderSet } from '../providers/provider-set.js';
import { speakNumbers } from '../speech/numbers.js';
import { urgentLines } from './lines.js';
import { prepareAtRates } from './speak.js';
import type { TtsCache } from './tts-cache.js';

/** Lines made at once: enough to be quick, few enough not to crowd out a first call. */
const WARM_CONCURRENCY = 2;

export interface WarmUpResult {
  /** Distinct lines (text, voice, model), each cached at every rate. */
  lines: number;
  rates: number;
  failed: number;
  ms: number;
}

export async function warmLines(deps: {
  config: Config;
  agents: AgentRegistry;
  providers: ProviderSet;
  cache: TtsCache;
  rates: readonly number[];
  log: Logger;
  signal: AbortSignal;
}): Promise<WarmUpResult> {
  const { config, agents, providers, cache, rates, log, signal } = deps;
  const started = performance.now();
  const jobs = new Map<string, () => Promise<void>>();
  for (const params of [{}, ...agents.names().map((agent) => ({ agent }))]) {
    const { plan } = resolveCallPlan(config, agents, params);
    const tts = providers.for({ ttsModel: plan.models.tts }).tts;
    for (const line of [plan.greeting, ...urgentLines(plan)]) {
      const text = speakNumbers(line, plan.numbers);
      // One TTS request per line, resampled to every rate.
      const key = JSON.stringify([tts.model, plan.voice, text]);
      if (jobs.has(key)) continue;
      jobs.set(key, () =>
        prepareAtRates({ rates, tts, cache, text, voice: plan.voice, signal, share: true }),
      );
    }
  }
  const queue = [...jobs.values()];
  let failed = 0;
  const codes = new Set<string>();
  const worker = async () => {
    for (let job = queue.shift(); job && !signal.aborted; job = queue.shift()) {
      try {
        await job();
      } catch (err) {
        failed++;
        const code = errorCode(err);
        if (!codes.has(code)) {
          codes.add(code);
          log.warn({ code }, 'a line was not synthesized ahead; calls will synthesize it');
        }
      }
    }
  };
  await Promise.all(Array.from({ length: WARM_CONCURRENCY }, worker));
  const result = {
    lines: jobs.size,
    rates: rates.length,
    failed,
    ms: Math.round(performance.now() - started),
  };
  log.info(result, 'lines synthesized ahead');
  return result;
}
