/**
 * The application factory: builds the Fastify app with every route and resource, but never
 * listens, so tests drive it with `inject()` or their own `listen({ port: 0 })`. Resources (the
 * database, post-call work, the pacer) close with the app.
 */
import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import websocket from '@fastify/websocket';
import { agentLoadOptions, loadAgentProfiles, type AgentRegistry } from '../agents/index.js';
import { loadSileroModel, type SileroScorer } from '../audio/vad/index.js';
import type { Config } from '../config/index.js';
import { TtsCache } from '../conversation/tts-cache.js';
import type { TurnRecord } from '../conversation/turn-record.js';
import type { Logger } from '../log.js';
import { Metrics } from '../metrics/metrics.js';
import { PostCallWorker } from '../postcall/post-call.js';
import { createOpenAIClient } from '../providers/openai-client.js';
import { ProviderSet, type Providers } from '../providers/provider-set.js';
import { sweepRecordings } from '../recording/recordings.js';
import { createCallStore, openDatabase, type CallStore } from '../store/index.js';
import { CallRegistry } from '../telephony/call-registry.js';
import { Pacer } from '../telephony/pacer.js';
import { StartCushion } from '../telephony/start-cushion.js';
import type { CallSession } from '../telephony/call-session.js';
import { TransferBook } from '../telephony/transfer-book.js';
import { registerWasEndpoint } from '../telephony/was-endpoint.js';
import { registerConsole } from '../console/routes.js';
import { join } from 'node:path';
import { warmLines, type WarmUpResult } from '../conversation/line-warmup.js';
import { ExotelApi } from '../outbound/exotel-api.js';
import { OutboundCalls } from '../outbound/outbound-calls.js';
import { registerOutbound } from '../outbound/routes.js';
import { CampaignRunner } from '../outbound/campaigns.js';
import { registerCampaigns } from '../outbound/campaign-routes.js';
import { adminGuard, bearerMatches, registerAdminApi } from './admin-api.js';
import { sessionFrom, sessionValid } from './admin-session.js';
import { AuthThrottle } from './auth-throttle.js';
import { workerMetrics, isClusterWorker, serveWorkerMetrics } from './cluster.js';
import { exotelGuard } from './exotel-auth.js';
import { LeaseKeeper } from './lease-keeper.js';
import { registerExotelFlow } from './exotel-flow.js';
import { InitParamsError, registerVoicebotInit } from './voicebot-init.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  /** Injected in tests; built from config otherwise. */
  providers?: Partial<Providers>;
  store?: CallStore;
  agents?: AgentRegistry;
  onTurn?: (call: CallSession, turn: TurnRecord) => void;
}

export interface VoicebotApp {
  app: FastifyInstance;
  registry: CallRegistry;
  ttsCache: TtsCache;
  /** The start-up synthesis of every line (undefined when TTS_PREWARM is off or it failed). */
  warmed: Promise<WarmUpResult | undefined>;
  pacer: Pacer;
  store: CallStore;
  postCall: PostCallWorker;
  metrics: Metrics;
  /** Stops taking calls, waits up to the grace period for live ones, then closes. */
  shutdown(): Promise<void>;
}

/** How long calls get for their goodbye once the drain's grace period is over. */
const SHUTDOWN_GOODBYE_MS = 4_000;
/** How often recordings past RECORDING_RETENTION_DAYS are looked for (and once at start-up). */
const RETENTION_SWEEP_MS = 6 * 60 * 60 * 1000;

export async function buildApp(deps: AppDeps): Promise<VoicebotApp> {
  const { config, logger } = deps;
  // Profiles and the database fail start-up with a message naming the file, field or variable.
  const agents =
    deps.agents ?? (await loadAgentProfiles(config.agents.dir, agentLoadOptions(config)));
  const store =
    deps.store ??
    createCallStore(
      await openDatabase(config.store.databaseUrl, { dataDir: config.store.dataDir }),
      {
        logger,
      },
    );
  const loggerInstance: FastifyBaseLogger = logger;
  const app: FastifyInstance = Fastify({
    loggerInstance,
    // A connection that sends nothing (not even headers) is closed, and so is an idle keep-alive.
    connectionTimeout: config.httpIdleTimeoutMs,
    requestTimeout: config.httpIdleTimeoutMs * 3,
    // X-Forwarded-For/-Host/-Proto are believed only from these (request.ip, request.host).
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    // Per-request logs would carry Exotel's query strings (phone numbers): off.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const registry = new CallRegistry();
  if (config.recording.enabled) await mkdir(config.recording.dir, { recursive: true });
  /** Recordings being finished on disk: waited for (bounded) on close. */
  const recordingsWriting = new Set<Promise<void>>();
  const sweep = () =>
    void sweepRecordings(config.recording.dir, config.recording.retentionDays, logger);
  sweep();
  const retention = setInterval(sweep, RETENTION_SWEEP_MS).unref();
  const ttsCache = new TtsCache(
    config.tts.cacheMaxBytes,
    config.tts.cacheDiskMaxBytes > 0
      ? {
          dir: join(config.store.dataDir, 'tts-cache'),
          maxDiskBytes: config.tts.cacheDiskMaxBytes,
          onError: (err, what) =>
            logger.warn(
              { code: 'TTS_CACHE_DISK', what, err: String(err) },
              'synthesized-lines folder unavailable; the cache goes on in memory',
            ),
        }
      : undefined,
  );
  const pacer = new Pacer(config.playback.tickMs);
  const startCushion = config.playback.startAdaptive
    ? new StartCushion({ maxMs: config.playback.startMs })
    : undefined;
  const providers = new ProviderSet(createOpenAIClient(config.openai), config, deps.providers);
  const postCall = new PostCallWorker({
    store,
    llm: providers.defaults.llm,
    logger,
    webhook: config.webhook,
    concurrency: config.postCallConcurrency,
  });
  let vad: SileroScorer | undefined;
  const metrics = new Metrics({
    pendingWrites: () => store.pending,
    vadStats: () => vad?.stats,
    playbackLeadMs: () =>
      pacer.leadFor(config.playback.leadMs, config.playback.maxLeadMs, performance.now()),
    playbackStartMs: () => {
      const now = performance.now();
      return startCushion?.for(pacer.recentStallMs(now), now) ?? config.playback.startMs;
    },
  });
  const transfers = new TransferBook(store, logger);
  const lease = new LeaseKeeper(store, config.store.leaseTtlMs, logger);
  await lease.start();
  if (isClusterWorker()) serveWorkerMetrics(metrics.registry);
  // Load the VAD model before taking calls, so the first call does not pay for it.
  if (config.turn.vad === 'silero')
    vad = await loadSileroModel({
      threads: config.turn.vadThreads,
      holdMs: config.turn.vadBatchHoldMs,
    });
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
  await app.register(websocket, { options: { maxPayload: config.ws.maxPayloadBytes } });

  app.get('/healthz', () => ({ status: 'ok', pid: process.pid }));
  app.get('/readyz', (_req, reply) =>
    draining
      ? reply.code(503).send({ status: 'draining', calls: registry.size })
      : { status: 'ready', calls: registry.size, pendingWrites: store.pending },
  );
  const exotelOnly = exotelGuard(config.exotelAuth);
  registerVoicebotInit(app, {
    publicUrl: config.publicUrl,
    store,
    contextTtlMs: config.store.contextTtlMs,
    guard: exotelOnly,
    trustedProxies: config.trustedProxies,
  });
  // One count of wrong keys for the API and the console's sign-in form.
  const throttle = new AuthThrottle();
  registerAdminApi(app, store, config.adminApiKey, {
    recordingsDir: config.recording.dir,
    throttle,
  });
  registerConsole(app, {
    store,
    agents,
    apiKey: config.adminApiKey,
    throttle,
    timeZone: config.consoleTimeZone,
    logger,
  });
  registerExotelFlow(app, { transfers, store, guard: exotelOnly });
  const api = config.outbound.api;
  const outbound = new OutboundCalls({
    store,
    api: api ? new ExotelApi(api) : undefined,
    agents,
    logger: logger.child({ component: 'outbound' }),
    settings: {
      publicUrl: config.publicUrl,
      callerId: config.outbound.callerId,
      accountSid: api?.accountSid,
      flowAppId: config.outbound.flowAppId,
      maxCalls: config.outbound.maxCalls,
      timeLimitS: config.outbound.timeLimitS,
      sampleRate: config.outbound.sampleRate,
      checkAfterMs: config.outbound.checkAfterMs,
      contextTtlMs: config.store.contextTtlMs,
      secret: api?.apiToken,
    },
  });
  outbound.start();
  const admin = adminGuard(config.adminApiKey, throttle);
  registerOutbound(app, { outbound, store, adminGuard: admin });
  registerCampaigns(app, { store, agents, adminGuard: admin });
  const campaigns = new CampaignRunner({
    store,
    outbound,
    instanceId: lease.id,
    logger: logger.child({ component: 'campaigns' }),
    tickMs: config.outbound.campaignTickMs,
  });
  campaigns.start();
  app.get('/metrics', async (request, reply) => {
    const token = config.metricsToken;
    if (token !== undefined && !bearerMatches(request.headers.authorization, token)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({
          error: { code: 'METRICS_UNAUTHORIZED', message: 'missing or wrong bearer token' },
        });
    }
    const { text, scope } = isClusterWorker()
      ? await workerMetrics(metrics.registry, logger)
      : { text: await metrics.registry.metrics(), scope: 'instance' };
    return reply.type(metrics.registry.contentType).header('x-metrics-scope', scope).send(text);
  });
  registerWasEndpoint(app, {
    config,
    logger,
    providers,
    ttsCache,
    pacer,
    ...(startCushion ? { startCushion } : {}),
    store,
    agents,
    postCall,
    metrics,
    registry,
    transfers,
    instanceId: lease.id,
    // The console's "Try an agent" streams from a signed-in browser, which has no Exotel
    // credentials and is not at Exotel's addresses: its admin session lets it through.
    guard: async (request, reply) => {
      const key = config.adminApiKey;
      if (key && sessionValid(sessionFrom(request), key)) return;
      return exotelOnly(request, reply);
    },
    draining: () => draining,
    onTurn: deps.onTurn,
    onRecordingWritten: (written) => {
      recordingsWriting.add(written);
      void written.finally(() => recordingsWriting.delete(written));
    },
  });

  // Every line a call may say first, synthesized ahead in the background (WORKERS share them).
  const warmUp = new AbortController();
  const warmed = config.tts.prewarm
    ? warmLines({
        config,
        agents,
        providers,
        cache: ttsCache,
        rates: [...new Set([8000, 16000, config.outbound.sampleRate])],
        log: logger.child({ component: 'tts-warm-up' }),
        signal: warmUp.signal,
      }).catch(() => undefined)
    : Promise.resolve(undefined);

  app.addHook('onClose', async () => {
    // The start-up synthesis stops; a line half made is not waited for.
    warmUp.abort();
    await Promise.race([warmed, sleep(1_000, undefined, { ref: false })]);
    // Sockets are closed by now; let each call finish recording itself before the store closes.
    await registry.waitIdle(5_000);
    await campaigns.close();
    await lease.close();
    outbound.close();
    pacer.close();
    await postCall.close(5_000);
    clearInterval(retention);
    await Promise.race([
      Promise.allSettled([...recordingsWriting]),
      sleep(5_000, undefined, { ref: false }),
    ]);
    if (!deps.store) await store.close(5_000);
  });

  return {
    app,
    registry,
    ttsCache,
    warmed,
    pacer,
    store,
    postCall,
    metrics,
    async shutdown() {
      draining = true;
      // Sockets that have not started a call are not worth the wait.
      for (const call of [...registry.values()]) if (!call.started) call.shutdown();
      let idle = await registry.waitIdle(config.shutdownGraceMs);
      if (!idle) {
        logger.warn({ calls: registry.size }, 'grace period over; saying goodbye to live calls');
        for (const call of [...registry.values()]) call.shutdown();
        idle = await registry.waitIdle(SHUTDOWN_GOODBYE_MS);
        if (!idle) for (const call of [...registry.values()]) call.forceClose();
        await registry.waitIdle(1_000);
      }
      await app.close();
    },
  };
}
