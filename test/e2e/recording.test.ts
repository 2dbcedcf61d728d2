/**
 * The recording of a simulated call with a barge-in, through the whole server and the admin API:
 * two channels, the caller's speech on the left where it was spoken, the bot's audio on the right
 * only up to the clear (what Exotel had queued past it is not there), served with byte ranges.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/app.js';
import { fixture, nextEcho, sleep } from '../helpers/calls.js';
import { LLM, useConversationEnv } from '../helpers/conversation-env.js';
import { channels } from '../helpers/wav.js';

const env = useConversationEnv();
const KEY = 'recording-admin-key-0123';
const RATE = 16000;
/** Windows of `windowMs` holding sound, as [start, end) runs in ms (gaps up to `mergeMs` joined). */
function voiced(ch: Int16Array, mergeMs: number, windowMs = 5): Array<[number, number]> {
  const size = (RATE / 1000) * windowMs;
  const runs: Array<[number, number]> = [];
  for (let w = 0; w * size < ch.length; w++) {
    const slice = ch.subarray(w * size, (w + 1) * size);
    if (!slice.some((v) => Math.abs(v) > 64)) continue;
    const at = w * windowMs;
    const last = runs.at(-1);
    if (last && at - last[1] <= mergeMs) last[1] = at + windowMs;
    else runs.push([at, at + windowMs]);
  }
  return runs;
}

describe('the recording', () => {
  it('holds a barge-in as the caller heard it: caller left, bot right up to the clear', async () => {
    await env.restart({ ADMIN_API_KEY: KEY });
    const long =
      'Let me explain our loan products in detail. First there is the home loan at eight percent. ' +
      'Then there is the car loan at nine percent. Finally the personal loan at twelve percent.';
    let reply = 0;
    env.fake.chat.setDefault(() => ({
      kind: 'stream',
      tokens: reply++ === 0 ? long : 'The car loan is at nine percent.',
      ...LLM,
    }));
    const c = await env.call();
    // What the caller's side had queued and not yet played when the clear came (it drops it).
    let playEnd = 0;
    let droppedMs = 0;
    c.on('media', (f: { at: number; bytes: number }) => {
      playEnd = Math.max(playEnd, f.at) + (f.bytes / (RATE * 2)) * 1000;
    });
    c.on('clear', (at: number) => {
      droppedMs += Math.max(0, playEnd - at);
      playEnd = at;
    });
    const hello = await fixture('hello-16k.wav');
    const replyAudio = c.waitForEvent('media', () => true, 20_000);
    await c.say(hello);
    await replyAudio;
    await sleep(1500);
    const cleared = c.waitForEvent('clear', () => true, 15_000);
    const answered = nextEcho(c, 'response_done');
    await c.say(await fixture('long-16k.wav'));
    await cleared;
    await answered;
    await c.hangup();

    const record = await eventually(async () => {
      await env.server.voicebot.store.flush(2_000);
      const r = await env.server.voicebot.store.getCall(c.callSid);
      return r?.call.recordingMs !== undefined ? r : undefined;
    });
    const res = await fetch(`${env.server.httpBase}/api/calls/${c.callSid}/recording`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    const wav = channels(Buffer.from(await res.arrayBuffer()));
    expect(wav).toMatchObject({ channels: 2, rate: RATE });
    const lengthMs = (wav.left.length / RATE) * 1000;
    expect(Math.abs(lengthMs - record.call.recordingMs!)).toBeLessThan(50);

    // Left: the caller's two utterances (each fixture's voice), nothing of the bot.
    const caller = voiced(wav.left, 400);
    expect(caller).toHaveLength(2);
    const [, barge] = caller as [[number, number], [number, number]];
    // Right: the first reply up to the clear, then nothing while the caller goes on, then the
    // answer to the interruption.
    const bot = voiced(wav.right, 400);
    const before = bot.filter(([s]) => s < barge[0]);
    expect(before.length).toBeGreaterThan(0);
    const cutAt = Math.max(...before.map(([, e]) => e));
    expect(cutAt).toBeGreaterThan(barge[0]); // the bot was talking when the caller came in
    expect(cutAt).toBeLessThan(barge[0] + 800); // and stopped at the barge-in (200 ms + the clear)
    expect(bot.filter(([s]) => s >= cutAt && s < barge[1])).toEqual([]);
    expect(bot.some(([s]) => s >= barge[1])).toBe(true);
    // The bot's audio on the right is what was sent, less what Exotel had queued at the clear
    // (windows of 5 ms: a run may count up to 5 ms more than its sound).
    const botMs = bot.reduce((a, [s, e]) => a + e - s, 0);
    const sentMs = (c.frames.reduce((a, f) => a + f.bytes, 0) / (RATE * 2)) * 1000;
    console.log(
      `[recording] sent ${Math.round(sentMs)} ms, dropped at the clear ${Math.round(droppedMs)} ms, on the right ${botMs} ms`,
    );
    expect(botMs).toBeLessThanOrEqual(sentMs - droppedMs + 5 * bot.length);
    expect(botMs).toBeGreaterThan(sentMs - droppedMs - 1500); // silences inside replies

    // A byte range, as a browser seeking asks for it.
    const part = await fetch(`${env.server.httpBase}/api/calls/${c.callSid}/recording`, {
      headers: { authorization: `Bearer ${KEY}`, range: 'bytes=44-1067' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toMatch(/^bytes 44-1067\/\d+$/);
    expect((await part.arrayBuffer()).byteLength).toBe(1024);
    const bad = await fetch(`${env.server.httpBase}/api/calls/${c.callSid}/recording`, {
      headers: { authorization: `Bearer ${KEY}`, range: 'bytes=99999999-' },
    });
    expect(bad.status).toBe(416);
    const noKey = await fetch(`${env.server.httpBase}/api/calls/${c.callSid}/recording`);
    expect(noKey.status).toBe(401);
  }, 60_000);
});
