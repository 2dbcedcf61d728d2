/**
 * The `/was` WebSocket route Exotel's Voicebot applet connects to. Before the upgrade: the
 * instance's and the client address's connection limits (503 when full). After it: wires the
 * socket to a CallSession: text frames in, heartbeat, backpressure figures, clean-up on close.
 */
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from 'fastify';
import type { WebSocket } from 'ws';
import { CallSession, type CallDeps } from './call-session.js';
import type { CallRegistry } from './call-registry.js';
import { ConnectionLimiter } from './connection-limiter.js';
import { parseStreamQuery } from './exotel-url.js';

export const WAS_PATH = '/was';

export function registerWasEndpoint(
  app: FastifyInstance,
  deps: CallDeps & {
    registry: CallRegistry;
    /** Exotel's credentials and addresses (server/exotel-auth.ts), checked before the upgrade. */
    guard: preHandlerAsyncHookHandler;
    /** True while the server drains: no new calls. */
    draining: () => boolean;
  },
): void {
  const limiter = new ConnectionLimiter(deps.config.maxCalls, deps.config.maxConnectionsPerIp);
  const admit = async (request: FastifyRequest, reply: FastifyReply) => {
    if (deps.draining()) {
      deps.metrics?.connectionRefused('draining');
      return reply
        .code(503)
        .header('retry-after', '5')
        .send({ error: { code: 'DRAINING', message: 'this server is shutting down' } });
    }
    const refusal = limiter.acquire(request.ip);
    if (refusal) {
      deps.metrics?.connectionRefused(refusal);
      request.log.warn(
        { code: refusal === 'max_calls' ? 'MAX_CALLS' : 'MAX_CONNECTIONS_PER_IP' },
        'upgrade refused',
      );
      return reply
        .code(503)
        .header('retry-after', '5')
        .send({ error: { code: refusal.toUpperCase(), message: 'this server is at its limit' } });
    }
    // Released when the connection closes, however the upgrade goes.
    request.raw.socket.once('close', () => limiter.release(request.ip));
  };

  const options = { websocket: true, onRequest: deps.guard, preValidation: admit } as const;
  app.get(WAS_PATH, options, (socket: WebSocket, request) => {
    // The HTTP idle timeout is for requests; a call's liveness is the heartbeat's and the session's.
    request.raw.socket.setTimeout(0);
    const query = parseStreamQuery(request.query as Record<string, string | undefined>);
    const call = new CallSession(deps, wrapSocket(socket), query);
    deps.registry.add(call);

    let alive = true;
    const heartbeat =
      deps.config.ws.pingIntervalMs > 0
        ? setInterval(() => {
            if (!alive) {
              call.log.warn({ code: 'WS_HEARTBEAT_TIMEOUT' }, 'peer missed a ping; terminating');
              socket.terminate();
              return;
            }
            alive = false;
            socket.ping();
          }, deps.config.ws.pingIntervalMs)
        : undefined;
    socket.on('pong', () => (alive = true));

    socket.on('message', (data, isBinary) => {
      alive = true;
      if (isBinary) return call.handleBinary();
      call.handleText(rawToString(data));
    });
    socket.on('error', (err) => {
      call.log.warn({ code: 'WS_ERROR', detail: err.message }, 'socket error');
    });
    socket.on('close', (code) => {
      clearInterval(heartbeat);
      call.log.debug({ closeCode: code }, 'socket closed');
      void call.close().finally(() => deps.registry.remove(call));
    });

    call.open();
  });
}

function wrapSocket(socket: WebSocket) {
  return {
    send(text: string) {
      if (socket.readyState === socket.OPEN) socket.send(text);
    },
    close(code: number, reason: string) {
      socket.close(code, reason);
    },
    get bufferedBytes() {
      return socket.bufferedAmount;
    },
  };
}

function rawToString(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
