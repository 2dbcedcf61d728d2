/**
 * The `/was` WebSocket route Exotel's Voicebot applet connects to. Wires a socket to a
 * CallSession: text frames in, heartbeat, backpressure figures, and clean-up on close.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { CallSession, type CallDeps } from './call-session.js';
import type { CallRegistry } from './call-registry.js';
import { parseStreamQuery } from './exotel-url.js';

export const WAS_PATH = '/was';

export function registerWasEndpoint(
  app: FastifyInstance,
  deps: CallDeps & { registry: CallRegistry },
): void {
  app.get(WAS_PATH, { websocket: true }, (socket: WebSocket, request) => {
    const query = parseStreamQuery(request.query as Record<string, string | undefined>);
    const call = new CallSession(deps, wrapSocket(socket), query);
    deps.registry.add(call);
    deps.metrics?.liveCalls.inc();

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
      void call.close().finally(() => {
        deps.registry.remove(call);
        deps.metrics?.liveCalls.dec();
      });
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
