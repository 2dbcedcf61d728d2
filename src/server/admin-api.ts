/**
 * The admin API: `GET /api/calls` (paged, filtered), `GET /api/calls/:callSid` (call, turns
 * with timings, events, summary) and `GET /api/calls/:callSid/recording` (WAV, byte ranges),
 * behind `ADMIN_API_KEY` as a bearer token. Without the
 * key configured it answers 503 saying how to enable it. A client that keeps sending wrong keys
 * is made to wait (429, `Retry-After`), and every answer tells browsers and proxies not to
 * sniff, cache or frame it: it carries personal data.
 */
import { timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import parseRange from 'range-parser';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VoicebotError } from '../errors.js';
import { openRecording, recordingPath } from '../recording/recordings.js';
import type { CallStore } from '../store/index.js';
import { AuthThrottle } from './auth-throttle.js';
import {
  SESSION_TTL_MS,
  issueSession,
  sessionCookie,
  sessionFrom,
  sessionValid,
} from './admin-session.js';

/** Headers for answers that carry personal data. */
export const PRIVATE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
} as const;

export function registerAdminApi(
  app: FastifyInstance,
  store: CallStore,
  apiKey: string | undefined,
  opts: { recordingsDir?: string; throttle?: AuthThrottle } = {},
): void {
  const throttle = opts.throttle ?? new AuthThrottle();
  void app.register((admin, _opts, done) => {
    admin.addHook('onSend', (_request, reply, payload, next) => {
      reply.headers(PRIVATE_HEADERS);
      next(null, payload);
    });
    registerRoutes(admin, store, apiKey, throttle, opts.recordingsDir);
    done();
  });
}

/**
 * The admin check as a Fastify pre-handler: 503 when no key is configured, 429 for a client that
 * sent too many wrong keys, 401 without a right bearer token or a valid session cookie.
 */
export function adminGuard(apiKey: string | undefined, throttle: AuthThrottle) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!apiKey) return disabled(reply);
    if (held(throttle, request, reply)) return reply;
    const bearer = request.headers.authorization !== undefined;
    const ok = bearer
      ? bearerMatches(request.headers.authorization, apiKey)
      : sessionValid(sessionFrom(request), apiKey);
    if (!ok) {
      // A stale session cookie is not a guess at the key: only wrong keys count towards the wait.
      if (bearer) throttle.failed(request.ip);
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({
          error: {
            code: 'ADMIN_UNAUTHORIZED',
            message: 'missing or wrong bearer token, or no valid session (sign in again)',
          },
        });
    }
    if (bearer) throttle.succeeded(request.ip);
  };
}

const disabled = (reply: FastifyReply) =>
  reply.code(503).send({
    error: {
      code: 'ADMIN_API_DISABLED',
      message:
        'The admin API is off: set ADMIN_API_KEY (16+ characters) and send it as "Authorization: Bearer <key>".',
    },
  });

/** A client that sent too many wrong keys is answered 429 (true) until its wait is over. */
function held(throttle: AuthThrottle, request: FastifyRequest, reply: FastifyReply): boolean {
  const wait = throttle.waitMs(request.ip);
  if (wait <= 0) return false;
  void reply
    .code(429)
    .header('retry-after', String(Math.ceil(wait / 1000)))
    .send({ error: { code: 'ADMIN_TOO_MANY_FAILURES', message: 'too many wrong keys; wait' } });
  return true;
}

function registerRoutes(
  app: FastifyInstance,
  store: CallStore,
  apiKey: string | undefined,
  throttle: AuthThrottle,
  recordingsDir: string | undefined,
): void {
  const guard = adminGuard(apiKey, throttle);

  // Signing in from a browser: the key in a POST body (JSON or form), a session cookie back.
  app.post('/api/session', async (request, reply) => {
    if (!apiKey) return disabled(reply);
    if (held(throttle, request, reply)) return reply;
    const body = request.body as { key?: unknown } | undefined;
    const key = typeof body?.key === 'string' ? body.key : '';
    if (!bearerMatches(`Bearer ${key}`, apiKey)) {
      throttle.failed(request.ip);
      return reply.code(401).send({ error: { code: 'ADMIN_UNAUTHORIZED', message: 'wrong key' } });
    }
    throttle.succeeded(request.ip);
    return reply
      .code(204)
      .header('set-cookie', sessionCookie(issueSession(apiKey), request, SESSION_TTL_MS))
      .send();
  });

  app.delete('/api/session', async (request, reply) =>
    reply
      .code(204)
      .header('set-cookie', sessionCookie('', request, 0))
      .send(),
  );

  app.get('/api/calls', { preHandler: guard }, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return badRequest(reply, 'limit must be an integer from 1 to 100');
    }
    const since = parseTime(q.since);
    const until = parseTime(q.until);
    if (since === null || until === null) {
      return badRequest(reply, 'since/until must be epoch milliseconds or an ISO 8601 date');
    }
    return withStore(reply, () =>
      store.listCalls({
        since,
        until,
        number: q.number,
        status: q.status,
        agent: q.agent,
        hangupBy: q.hangup_by,
        endReason: q.end_reason,
        limit,
        cursor: q.cursor,
      }),
    );
  });

  app.get('/api/calls/:callSid', { preHandler: guard }, async (request, reply) => {
    const { callSid } = request.params as { callSid: string };
    const call = await withStore(reply, () => store.getCall(callSid));
    if (reply.sent) return;
    if (!call)
      return reply.code(404).send({ error: { code: 'CALL_NOT_FOUND', message: 'no such call' } });
    return call;
  });

  // The call's recording as audio/wav, with single byte ranges so a browser can seek.
  app.get('/api/calls/:callSid/recording', { preHandler: guard }, async (request, reply) => {
    const { callSid } = request.params as { callSid: string };
    const call = await withStore(reply, () => store.getCall(callSid));
    if (reply.sent) return;
    const path = call && recordingsDir ? recordingPath(recordingsDir, call.call.id) : undefined;
    const file = path ? await openRecording(path) : undefined;
    if (!path || !file) {
      return reply
        .code(404)
        .send({ error: { code: 'RECORDING_NOT_FOUND', message: 'this call has no recording' } });
    }
    reply.header('accept-ranges', 'bytes');
    const ranges = request.headers.range ? parseRange(file.size, request.headers.range) : -2;
    if (ranges === -1 || (Array.isArray(ranges) && ranges.length !== 1)) {
      return reply
        .code(416)
        .header('content-range', `bytes */${file.size}`)
        .send({
          error: { code: 'RANGE_NOT_SATISFIABLE', message: 'one byte range within the file' },
        });
    }
    reply.type('audio/wav');
    if (ranges === -2) {
      return reply
        .header('content-length', file.size)
        .send(createReadStream(path, { end: file.size - 1 }));
    }
    const { start, end } = ranges[0]!;
    return reply
      .code(206)
      .header('content-range', `bytes ${start}-${end}/${file.size}`)
      .header('content-length', end - start + 1)
      .send(createReadStream(path, { start, end }));
  });
}

async function withStore<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RangeError) {
      // The store's answer to a cursor it did not issue.
      await reply.code(400).send({ error: { code: 'ADMIN_BAD_QUERY', message: 'invalid cursor' } });
      return undefined;
    }
    if (err instanceof VoicebotError && err.code === 'STORE_UNAVAILABLE') {
      await reply.code(503).send({
        error: { code: err.code, message: 'the database is unavailable; try again shortly' },
      });
      return undefined;
    }
    throw err;
  }
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: { code: 'ADMIN_BAD_QUERY', message } });
}

/** undefined when absent, null when malformed. */
function parseTime(v: string | undefined): number | undefined | null {
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

/** True when `header` is `Bearer <key>` (compared in constant time). */
export function bearerMatches(header: string | undefined, key: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!.trim());
  const expected = Buffer.from(key);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
