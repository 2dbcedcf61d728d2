/**
 * The providers a call uses. Agent profiles may name other models than the configured ones, so
 * providers are made per model name and shared by every call that uses it.
 */
import type OpenAI from 'openai';
import type { Config } from '../config/index.js';
import { OpenAILlmProvider } from './llm/openai-llm.js';
import type { LlmProvider } from './llm/types.js';
import { OpenAISttProvider } from './stt/openai-stt.js';
import type { SttProvider } from './stt/types.js';
import { OpenAITts } from './tts/openai-tts.js';
import type { TtsProvider } from './tts/types.js';

export interface Providers {
  tts: TtsProvider;
  stt: SttProvider;
  llm: LlmProvider;
}

export interface ModelChoice {
  llmModel?: string;
  sttModel?: string;
  ttsModel?: string;
}

export class ProviderSet {
  private readonly tts = new Map<string, TtsProvider>();
  private readonly stt = new Map<string, SttProvider>();
  private readonly llm = new Map<string, LlmProvider>();

  constructor(
    private readonly client: OpenAI,
    private readonly config: Config,
    /** Injected providers (tests) serve every model. */
    private readonly fixed: Partial<Providers> = {},
  ) {}

  /** The configured defaults. */
  get defaults(): Providers {
    return this.for({});
  }

  for(models: ModelChoice): Providers {
    const { config, client } = this;
    const tts = models.ttsModel ?? config.tts.model;
    const stt = models.sttModel ?? config.stt.model;
    const llm = models.llmModel ?? config.llm.model;
    return {
      tts:
        this.fixed.tts ??
        memo(
          this.tts,
          tts,
          () =>
            new OpenAITts(client, {
              model: tts,
              timeoutMs: config.tts.timeoutMs,
              stallMs: config.tts.stallMs,
            }),
        ),
      stt:
        this.fixed.stt ??
        memo(
          this.stt,
          stt,
          () => new OpenAISttProvider(client, { model: stt, timeoutMs: config.stt.timeoutMs }),
        ),
      llm:
        this.fixed.llm ??
        memo(
          this.llm,
          llm,
          () =>
            new OpenAILlmProvider(client, {
              model: llm,
              firstTokenTimeoutMs: config.llm.timeoutMs,
              stallMs: config.llm.stallMs,
              maxTokens: config.llm.maxTokens,
            }),
        ),
    };
  }
}

function memo<T>(map: Map<string, T>, key: string, make: () => T): T {
  let v = map.get(key);
  if (!v) map.set(key, (v = make()));
  return v;
}
