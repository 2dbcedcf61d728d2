/**
 * Outbound over HTTP: `POST /api/calls/outbound` and `GET /api/calls/outbound/:id` (admin auth),
 * and `/exotel/status/:id?sig=…`, where Exotel posts the call's status (authenticated by the
 * HMAC of the call id in its URL, since Exotel sends no credentials on callbacks).
 */
import type { FastifyInstance, FastifyReply, preHandlerAsyncHookHandler } from 'fastify';
import { VoicebotError } from '../errors.js';
import type { CallStore } from '../store/index.js';
import { OutboundRequestError, type OutboundCalls } from './outbound-calls.js';

/** The answer for an outbound or campaign request that failed: its code, or 503 for the store. */
export function sendOutboundError(reply: FastifyReply, err: unknown) {
  if (err instanceof OutboundRequestError) {
    if (err.retryAfterS !== undefined) void reply.header('retry-after', String(err.retryAfterS));
    return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
  }
  if (err instanceof VoicebotError && err.code === 'STORE_UNAVAILABLE') {
    return reply.code(503).send({
      error: { code: err.code, message: 'the database is unavailable; try again shortly' },
    });
  }
  throw err;
}

export function registerOutbound(
  app: FastifyInstance,
  deps: { outbound: OutboundCalls; store: CallStore; adminGuard: preHandlerAsyncHookHandler },
): void {
  const { outbound, store } = deps;
  const fail = sendOutboundError;

  app.post('/api/calls/outbound', { preHandler: deps.adminGuard }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const call = await outbound.place({ to: body.to, agent: body.agent, params: body.params });
      return reply.code(201).send({
        id: call.id,
        callSid: call.callSid,
        status: call.status,
        to: call.to,
        agent: call.agent,
      });
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/calls/outbound/:id', { preHandler: deps.adminGuard }, async (request, reply) => {
    const { id } = request.params as { id: string };
    try {
      const call = await store.outbound.get(id);
      if (!call) {
        return reply
          .code(404)
          .send({ error: { code: 'OUTBOUND_NOT_FOUND', message: 'no such outbound call' } });
      }
      // The conversation, when Exotel connected the call to us: the record with its CallSid.
      const record = call.callSid ? await store.getCall(call.callSid) : undefined;
      return { ...call, record: record?.call };
    } catch (err) {
      return fail(reply, err);
    }
  });

  const status = async (
    request: { params: unknown; query: unknown; body: unknown },
    reply: FastifyReply,
  ) => {
    const { id } = request.params as { id: string };
    const query = request.query as Record<string, unknown>;
    if (!outbound.signatureValid(id, query.sig)) {
      return reply.code(403).send({ error: { code: 'FORBIDDEN', message: 'bad signature' } });
    }
    const fields: Record<string, string> = {};
    for (const source of [query, request.body]) {
      if (!source || typeof source !== 'object') continue;
      for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
        if (typeof v === 'string') fields[k] = v;
      }
    }
    try {
      await outbound.onStatus(id, fields);
    } catch (err) {
      return fail(reply, err);
    }
    return { ok: true };
  };
  app.post('/exotel/status/:id', status);
  app.get('/exotel/status/:id', status);
}
