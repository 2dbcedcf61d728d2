/**
 * The application factory: builds the Fastify app with every route and resource, but never
 * listens, so tests drive it with `inject()` or their own `listen({ port: 0 })`.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import websocket from '@fastify/websocket';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { Pacer } from '../conversation/pacer.js';
import { TtsCache } from '../conversation/tts-cache.js';
import { createOpenAIClient } from '../providers/openai-client.js';
import { OpenAITts } from '../providers/tts/openai-tts.js';
import type { TtsProvider } from '../providers/tts/types.js';
import { OpenAISttProvider } from '../providers/stt/openai-stt.js';
import type { SttProvider } from '../providers/stt/types.js';
import { OpenAILlmProvider } from '../providers/llm/openai-llm.js';
import type { LlmProvider } from '../providers/llm/types.js';
import { loadSileroModel } from '../audio/vad/index.js';
import type { CallSession } from '../telephony/call-session.js';
import type { TurnRecord } from '../conversation/turn-record.js';
import { CallRegistry } from '../telephony/call-registry.js';
import { registerWasEndpoint } from '../telephony/was-endpoint.js';
import { InitParamsError, registerVoicebotInit } from './voicebot-init.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  /** Injected in tests; built from config otherwise. */
  tts?: TtsProvider;
  stt?: SttProvider;
  llm?: LlmProvider;
  onTurn?: (call: CallSession, turn: TurnRecord) => void;
}

export interface VoicebotApp {
  app: FastifyInstance;
  registry: CallRegistry;
  ttsCache: TtsCache;
  pacer: Pacer;
  /** Stops taking calls, waits up to the grace period for live ones, then closes. */
  shutdown(): Promise<void>;
}

export async function buildApp(deps: AppDeps): Promise<VoicebotApp> {
  const { config, logger } = deps;
  const loggerInstance: FastifyBaseLogger = logger;
  const app: FastifyInstance = Fastify({
    loggerInstance,
    // Per-request logs would carry Exotel's query strings (phone numbers): off.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const registry = new CallRegistry();
  const ttsCache = new TtsCache(config.tts.cacheMaxBytes);
  const pacer = new Pacer(config.playback.tickMs);
  const openai = createOpenAIClient(config.openai);
  const tts =
    deps.tts ??
    new OpenAITts(openai, {
      model: config.tts.model,
      timeoutMs: config.tts.timeoutMs,
      stallMs: config.tts.stallMs,
    });
  const stt =
    deps.stt ??
    new OpenAISttProvider(openai, { model: config.stt.model, timeoutMs: config.stt.timeoutMs });
  const llm =
    deps.llm ??
    new OpenAILlmProvider(openai, {
      model: config.llm.model,
      firstTokenTimeoutMs: config.llm.timeoutMs,
      stallMs: config.llm.stallMs,
      maxTokens: config.llm.maxTokens,
    });
  // Load the VAD model before taking calls, so the first call does not pay for it.
  if (config.turn.vad === 'silero') await loadSileroModel();
  let draining = false;

  app.setErrorHandler((err, request, reply) => {
    if (err instanceof InitParamsError) {
      return reply.code(400).send({ error: { code: err.code, message: err.message } });
    }
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) request.log.error({ code: 'HTTP_INTERNAL', err }, 'request failed');
    return reply.code(status).send({
      error: {
        code: (err as { code?: string }).code ?? 'HTTP_ERROR',
        message: err instanceof Error ? err.message : 'error',
      },
    });
  });

  await app.register(formbody);
  await app.register(websocket, {
    options: { maxPayload: config.ws.maxPayloadBytes },
  });

  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', (_req, reply) =>
    draining
      ? reply.code(503).send({ status: 'draining', calls: registry.size })
      : { status: 'ready', calls: registry.size },
  );
  registerVoicebotInit(app, config.publicUrl);
  registerWasEndpoint(app, {
    config,
    logger,
    tts,
    stt,
    llm,
    ttsCache,
    pacer,
    registry,
    onTurn: deps.onTurn,
  });

  app.addHook('onClose', () => pacer.close());

  return {
    app,
    registry,
    ttsCache,
    pacer,
    async shutdown() {
      draining = true;
      const idle = await registry.waitIdle(config.shutdownGraceMs);
      if (!idle) logger.warn({ calls: registry.size }, 'grace period over; closing live calls');
      await app.close();
    },
  };
}
