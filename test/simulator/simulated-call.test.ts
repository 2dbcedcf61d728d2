/** The simulator's playback clock: underruns (holes in the bot's audio) against real time. */
import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { SimulatedCall } from '../../src/simulator/simulated-call.js';

const STREAM_SID = 'MZplayback0000000000000000000000';
const FRAME = Buffer.alloc(640).toString('base64'); // 20 ms at 16 kHz

let wss: WebSocketServer | undefined;
afterEach(() => new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve())));

/** A server that runs `script` with the first connection's socket. */
async function serve(
  script: (ws: WebSocket) => Promise<void>,
): Promise<{ url: string; done: Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss = server;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as { port: number };
  const done = new Promise<void>((resolve, reject) =>
    server.once('connection', (ws) => {
      // Give the simulator's connected/start a moment, then play the script.
      void sleep(20)
        .then(() => script(ws))
        .then(resolve, reject);
    }),
  );
  return { url: `ws://127.0.0.1:${port}/was`, done };
}

const media = (ws: WebSocket, frames: number) => {
  for (let i = 0; i < frames; i++)
    ws.send(JSON.stringify({ event: 'media', stream_sid: STREAM_SID, media: { payload: FRAME } }));
};
const mark = (ws: WebSocket, name: string) =>
  ws.send(JSON.stringify({ event: 'mark', stream_sid: STREAM_SID, mark: { name } }));

describe('SimulatedCall playback clock', () => {
  it('counts every hole in an utterance as an underrun, and none between utterances', async () => {
    const { url, done } = await serve(async (ws) => {
      // Utterance 1: one frame and the next 30 ms later (a ~10 ms hole), then 200 ms of audio
      // and nothing for 400 ms (a ~200 ms hole).
      media(ws, 1);
      await sleep(30);
      media(ws, 10);
      await sleep(400);
      media(ws, 1);
      mark(ws, 'one');
      // Silence between utterances is no underrun.
      await sleep(300);
      media(ws, 5);
      mark(ws, 'two');
      await sleep(50);
    });
    const call = new SimulatedCall({ url, sampleRate: 16000, streamSid: STREAM_SID });
    await call.connect();
    call.start();
    await done;
    await call.hangup();

    expect(call.invalidFrames).toEqual([]);
    expect(call.underruns).toHaveLength(2);
    expect(call.underruns[0]).toBeGreaterThan(0);
    expect(call.underruns[0]).toBeLessThan(30);
    expect(call.underruns[1]).toBeGreaterThan(150); // 400 ms wait − 200 ms of audio
  });

  it('audio that arrives ahead of playback is no underrun', async () => {
    const { url, done } = await serve(async (ws) => {
      media(ws, 10); // 200 ms of cushion
      for (let i = 0; i < 5; i++) {
        await sleep(20);
        media(ws, 1);
      }
      mark(ws, 'one');
    });
    const call = new SimulatedCall({ url, sampleRate: 16000, streamSid: STREAM_SID });
    await call.connect();
    call.start();
    await done;
    await call.hangup();
    expect(call.frames).toHaveLength(15);
    expect(call.underruns).toEqual([]);
  });
});

describe('SimulatedCall media frames', () => {
  it('sends the text JSON.stringify would give for the documented shape, with or without stream_sid', async () => {
    // 256-258 bytes of every value: all 64 base64 characters and both kinds of '=' padding.
    const frames = [256, 257, 258].map((length) =>
      Buffer.from(Uint8Array.from({ length }, (_, i) => (i * 7 + (i >> 8)) & 0xff)),
    );
    for (const omitStreamSid of [false, true]) {
      // The server listens from the moment it accepts: no message can come before the listener.
      const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      wss = server;
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      const texts: string[] = [];
      const done = new Promise<void>((resolve) =>
        server.once('connection', (ws) =>
          ws.on('message', (data) => {
            const text = (data as Buffer).toString();
            if (text.includes('"media"')) texts.push(text);
            if (texts.length === frames.length) resolve();
          }),
        ),
      );
      const { port } = server.address() as { port: number };
      const call = new SimulatedCall({
        url: `ws://127.0.0.1:${port}/was`,
        sampleRate: 8000,
        streamSid: STREAM_SID,
        omitStreamSid,
      });
      await call.connect();
      call.start();
      for (const f of frames) call.sendAudio(f);
      await done;
      await call.hangup();
      await new Promise<void>((resolve) => wss!.close(() => resolve()));
      wss = undefined;
      let timestamp = 0;
      expect(texts).toEqual(
        frames.map((f, i) => {
          const text = JSON.stringify({
            event: 'media',
            sequence_number: String(i + 2), // after start
            ...(omitStreamSid ? {} : { stream_sid: STREAM_SID }),
            media: {
              chunk: String(i + 1),
              timestamp: String(Math.round(timestamp)),
              payload: f.toString('base64'),
            },
          });
          timestamp += f.length / 16;
          return text;
        }),
      );
    }
  });
});
