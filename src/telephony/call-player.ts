/** Builds a call's outbound player, speaking Exotel's frames on the call's socket. */
import type { Config } from '../config/index.js';
import type { Pacer } from '../conversation/pacer.js';
import { OutboundPlayer } from '../conversation/player.js';
import { encode, encodeMediaFromBase64 } from './exotel-codec.js';

export interface PlayerSocket {
  send(text: string): void;
  readonly bufferedBytes: number;
}

export function createCallPlayer(
  config: Config,
  pacer: Pacer,
  socket: PlayerSocket,
  streamSid: string,
  sampleRate: number,
): OutboundPlayer {
  return new OutboundPlayer({
    streamSid,
    sampleRate,
    frameMs: config.playback.frameMs,
    prebufferMs: config.playback.prebufferMs,
    leadMs: config.playback.leadMs,
    startMs: config.playback.startMs,
    maxBufferedBytes: config.ws.maxBufferedBytes,
    transport: {
      send: (text) => socket.send(text),
      get bufferedBytes() {
        return socket.bufferedBytes;
      },
    },
    pacer,
    encodeMedia: encodeMediaFromBase64,
    encodeMark: (sid, name) => encode({ event: 'mark', streamSid: sid, name }),
    encodeClear: (sid) => encode({ event: 'clear', streamSid: sid }),
  });
}
