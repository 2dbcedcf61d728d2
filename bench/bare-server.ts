/**
 * The physical floor for capacity: a bare `ws` server on loopback that parses each frame's JSON
 * and base64-decodes its audio, and nothing else (no VAD, no providers, no reply).
 *   npx tsx bench/bare-server.ts [port]
 * Prints its ws:// URL on its first stdout line.
 */
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const wss = new WebSocketServer({ host: '127.0.0.1', port, path: '/was' });
let decodedBytes = 0;
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    // Text frames arrive as one Buffer (no fragments configured).
    try {
      const msg = JSON.parse((data as Buffer).toString('utf8')) as {
        event?: string;
        media?: { payload?: string };
      };
      if (msg.event === 'media' && typeof msg.media?.payload === 'string')
        decodedBytes += Buffer.from(msg.media.payload, 'base64').length;
    } catch {
      // A bad frame costs what parsing it cost; nothing else to do.
    }
  });
});
wss.on('listening', () => {
  const addr = wss.address();
  if (addr && typeof addr === 'object') console.log(`ws://127.0.0.1:${addr.port}/was`);
});
const stop = () => {
  for (const c of wss.clients) c.terminate();
  wss.close(() => process.exit(0));
  console.error(`bare server decoded ${decodedBytes} bytes`);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.stdin.on('close', stop).resume();
