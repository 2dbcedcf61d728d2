/**
 * The endpoints of the Exotel flow that follows the Voicebot applet, for handing a caller over
 * to a person: `Voicebot → Passthru → Connect → Hangup`. Exotel has no API to transfer a live
 * Voicebot call; the bot stores its decision under the CallSid and closes the stream, and the
 * flow asks:
 *
 * - `GET|POST /exotel/passthru?CallSid=…`: `200` when that call asked for a person (Passthru
 *   takes its "200" branch, to Connect), `302` otherwise (its other branch, to Hangup).
 * - `GET /exotel/connect?CallSid=…`: the number to dial. Connect's "Dial whom: URL" takes the
 *   number as `text/plain`; Programmable Connect (its dynamic URL, which sends an
 *   `Exotel-Version` header) takes JSON `{"fetch_after_attempt": false, "destination":
 *   {"numbers": [...]}}`. `?format=json|text` chooses explicitly.
 *
 * They take the same checks as the stream (exotel-auth.ts); without them, a CallSid is the only
 * secret, an unguessable id of a call that just happened.
 */
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from 'fastify';
import { errorCode } from '../errors.js';
import type { CallStore } from '../store/index.js';
import type { TransferBook } from '../telephony/transfer-book.js';

const CALL_SID = /^[A-Za-z0-9_-]{1,64}$/;

export interface ExotelFlowDeps {
  transfers: TransferBook;
  store: CallStore;
  /** Exotel's credentials and addresses (exotel-auth.ts), checked first. */
  guard: preHandlerAsyncHookHandler;
}

export function registerExotelFlow(app: FastifyInstance, deps: ExotelFlowDeps): void {
  const passthru = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = flowParams(request);
    const callSid = params['CallSid'];
    if (!callSid || !CALL_SID.test(callSid)) return badCallSid(reply);
    const transfer = await lookUp(deps, request, callSid);
    if (transfer) {
      deps.store.eventRecorded(transfer.callId, {
        at: Date.now(),
        kind: 'passthru',
        detail: streamSummary(params) ?? 'transfer',
      });
    }
    request.log.info({ transfer: transfer !== undefined }, 'passthru asked');
    return transfer
      ? reply.code(200).type('text/plain').send('transfer')
      : reply.code(302).type('text/plain').send('no transfer');
  };
  app.get('/exotel/passthru', { onRequest: deps.guard }, passthru);
  app.post('/exotel/passthru', { onRequest: deps.guard }, passthru);

  app.get('/exotel/connect', { onRequest: deps.guard }, async (request, reply) => {
    const params = flowParams(request);
    const callSid = params['CallSid'];
    if (!callSid || !CALL_SID.test(callSid)) return badCallSid(reply);
    const transfer = await lookUp(deps, request, callSid);
    if (!transfer) return reply.code(404).type('text/plain').send('no transfer for this call');
    const format = params['format'] ?? (request.headers['exotel-version'] ? 'json' : 'text');
    request.log.info({ format }, 'connect asked for the number');
    if (format === 'json') {
      return reply.send({
        fetch_after_attempt: false,
        destination: { numbers: [transfer.number] },
      });
    }
    return reply.type('text/plain').send(transfer.number);
  });
}

/** Query parameters, and form fields on a POST. */
function flowParams(request: FastifyRequest): Record<string, string | undefined> {
  const body = typeof request.body === 'object' && request.body !== null ? request.body : {};
  return { ...(request.query as Record<string, string>), ...(body as Record<string, string>) };
}

async function lookUp(deps: ExotelFlowDeps, request: FastifyRequest, callSid: string) {
  try {
    return await deps.transfers.find(callSid);
  } catch (err) {
    request.log.error({ code: errorCode(err) }, 'transfer lookup failed; answering no transfer');
    return undefined;
  }
}

/** What Passthru says of the stream (`Stream[Status]`, … or one `Stream` JSON), log-safe. */
function streamSummary(params: Record<string, string | undefined>): string | undefined {
  let status = params['Stream[Status]'];
  let by = params['Stream[DisconnectedBy]'];
  const packed = params['Stream'];
  if (packed && (!status || !by)) {
    try {
      const s = JSON.parse(packed) as Record<string, unknown>;
      status ??= typeof s['Status'] === 'string' ? s['Status'] : undefined;
      by ??= typeof s['DisconnectedBy'] === 'string' ? s['DisconnectedBy'] : undefined;
    } catch {
      // not JSON: ignored
    }
  }
  if (!status && !by) return undefined;
  return `stream ${status ?? '?'}, disconnected by ${by ?? '?'}`.slice(0, 120);
}

function badCallSid(reply: FastifyReply) {
  return reply
    .code(400)
    .send({ error: { code: 'FLOW_PARAMS_INVALID', message: 'CallSid is missing or malformed' } });
}
