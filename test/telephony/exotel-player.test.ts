import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExotelPlayer } from '../../src/telephony/exotel-player.js';
import { Pacer } from '../../src/telephony/pacer.js';
import { StartCushion } from '../../src/telephony/start-cushion.js';

interface Sent {
  event: string;
  stream_sid: string;
  media?: { payload: string };
  mark?: { name: string };
}

/** A player on a hand-driven clock with a transport that records what it sends. */
function setup(
  opts: {
    sampleRate?: number;
    maxQueuedMs?: number;
    startMs?: number;
    messageMs?: number;
    cushion?: StartCushion;
    pacer?: Pacer;
  } = {},
) {
  let now = 1000;
  const sent: Sent[] = [];
  const transport = { bufferedBytes: 0, send: (t: string) => sent.push(JSON.parse(t) as Sent) };
  // The pacer's own timer never fires in these tests: we pump by hand.
  const pacer = opts.pacer ?? new Pacer(1_000_000);
  const player = new ExotelPlayer({
    streamSid: 'MZ1',
    sampleRate: opts.sampleRate ?? 16000,
    frameMs: 20,
    messageMs: opts.messageMs,
    tickMs: 20,
    prebufferMs: 200,
    leadMs: 120,
    maxBufferedBytes: 64 * 1024,
    maxQueuedMs: opts.maxQueuedMs,
    startMs: opts.startMs,
    ...(opts.cushion ? { cushion: opts.cushion } : {}),
    transport,
    pacer,
    now: () => now,
  });
  const media = () => sent.filter((s) => s.event === 'media');
  const sentMs = () =>
    media().reduce((a, m) => a + Buffer.from(m.media!.payload, 'base64').length, 0) /
    ((player.sampleRate * 2) / 1000);
  return {
    player,
    pacer,
    sent,
    transport,
    media,
    sentMs,
    advance: (ms: number) => {
      now += ms;
      player.pump(now);
    },
    /** The test's clock, which the player reads. */
    now: () => now,
    pacers: [pacer],
  };
}

/** `ms` of a constant non-zero sample at `rate`, as s16le bytes. */
function audio(ms: number, rate: number, value = 1000): Buffer {
  const pcm = new Int16Array((rate * ms) / 1000).fill(value);
  return Buffer.from(pcm.buffer);
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function make(opts?: Parameters<typeof setup>[0]) {
  const s = setup(opts);
  cleanups.push(() => {
    s.player.close();
    s.pacer.close();
  });
  return s;
}

describe('ExotelPlayer', () => {
  it('sends 640-byte frames at 16 kHz, pads the last one to a multiple of 320, then the mark', async () => {
    const { player, sent, media, advance } = make();
    const utt = await player.startUtterance('greeting_done', 16000);
    await utt.writeBytes(audio(110, 16000)); // 3520 bytes: 5 frames of 640 + 320 left over
    utt.end();
    advance(1000);
    const sizes = media().map((m) => Buffer.from(m.media!.payload, 'base64').length);
    expect(sizes).toEqual([640, 640, 640, 640, 640, 320]);
    expect(sent.at(-1)).toEqual({
      event: 'mark',
      stream_sid: 'MZ1',
      mark: { name: 'greeting_done-1' },
    });
    expect(media().every((m) => m.stream_sid === 'MZ1')).toBe(true);
  });

  it.each([
    [8000, 320],
    [24000, 960],
  ])('uses %i Hz frames of %i bytes', async (rate, bytes) => {
    const { player, media, advance } = make({ sampleRate: rate });
    const utt = await player.startUtterance('response_done', rate);
    await utt.writeBytes(audio(100, rate));
    utt.end();
    advance(1000);
    expect(media().map((m) => Buffer.from(m.media!.payload, 'base64').length)).toEqual(
      Array(5).fill(bytes),
    );
  });

  it('sends the first 200 ms at once, then keeps a 120 ms lead over real time', async () => {
    const { player, sentMs, advance } = make();
    const utt = await player.startUtterance('response_done', 16000);
    await utt.writeBytes(audio(2000, 16000));
    expect(sentMs()).toBe(200);
    advance(100);
    expect(sentMs()).toBe(220); // 100 ms played + 120 ms lead
    for (let t = 0; t < 900; t += 20) advance(20);
    expect(sentMs()).toBeGreaterThanOrEqual(1000 + 100);
    expect(sentMs()).toBeLessThanOrEqual(1000 + 140);
    expect(player.isSpeaking()).toBe(true);
  });

  describe('messages of several frames (messageMs)', () => {
    it('tops the lead up a message at a time: 100 ms messages, the lead between 120 and 200 ms', async () => {
      const { player, media, sentMs, advance } = make({ messageMs: 100 });
      const utt = await player.startUtterance('response_done', 16000);
      await utt.writeBytes(audio(3000, 16000));
      utt.end();
      const start = 1000;
      let now = start;
      const leads: number[] = [];
      for (let t = 0; t < 2000; t += 20) {
        advance(20);
        now += 20;
        leads.push(sentMs() - (now - start));
      }
      // The prebuffer (200 ms) in two messages, then one 100 ms message whenever the lead
      // falls below 120 ms: in 2 s, 2.2 s in 22 messages of 3200 bytes (100 ms at 16 kHz).
      const sizes = media().map((m) => Buffer.from(m.media!.payload, 'base64').length);
      expect(sizes).toEqual(Array(22).fill(3200));
      expect(player.stats.framesSent).toBe(110);
      expect(player.stats.messagesSent).toBe(22);
      const steady = leads.slice(5); // after the prebuffer has played down to the lead
      expect(Math.min(...steady)).toBe(120);
      expect(Math.max(...steady)).toBe(200);
    });

    it('sends the audio before a mark first, and the mark before the next utterance’s audio', async () => {
      const { player, sent, transport, advance } = make({ messageMs: 100 });
      transport.bufferedBytes = 1_000_000; // nothing leaves until both utterances are queued
      const first = await player.startUtterance('response_done', 16000);
      await first.writeBytes(audio(60, 16000, 1000));
      first.end();
      const second = await player.startUtterance('response_done', 16000);
      await second.writeBytes(audio(60, 16000, 2000));
      second.end();
      expect(sent).toEqual([]);
      transport.bufferedBytes = 0;
      advance(20);
      const order = sent.map((s) =>
        s.event === 'mark'
          ? `mark ${s.mark!.name}`
          : `media ${Buffer.from(s.media!.payload, 'base64').readInt16LE(0)} ${Buffer.from(s.media!.payload, 'base64').length}`,
      );
      expect(order).toEqual([
        'media 1000 1920',
        'mark response_done-1',
        'media 2000 1920',
        'mark response_done-2',
      ]);
    });

    it('hands the recording each message once, at the time it starts playing', async () => {
      const { player, advance } = make({ messageMs: 100 });
      const taps: Array<{ ms: number; playAt: number }> = [];
      player.tap = {
        sent: (pcm, playAt) => taps.push({ ms: pcm.length / 32, playAt }),
        cleared: () => {},
      };
      const utt = await player.startUtterance('response_done', 16000);
      await utt.writeBytes(audio(400, 16000));
      utt.end();
      for (let t = 0; t < 600; t += 20) advance(20);
      expect(taps.reduce((a, t) => a + t.ms, 0)).toBe(400);
      expect(taps.every((t) => t.ms <= 100)).toBe(true);
      // Contiguous: each message starts where the one before ends.
      for (let i = 1; i < taps.length; i++)
        expect(taps[i]!.playAt).toBe(taps[i - 1]!.playAt + taps[i - 1]!.ms);
    });
  });

  it('resamples 24 kHz TTS audio to the stream rate', async () => {
    const { player, sentMs, advance } = make({ sampleRate: 8000 });
    const utt = await player.startUtterance('response_done', 24000);
    await utt.writeBytes(audio(1000, 24000));
    utt.end();
    for (let t = 0; t < 2000; t += 20) advance(20);
    expect(Math.abs(sentMs() - 1000)).toBeLessThanOrEqual(20);
  });

  it('stops sending while the socket holds too much unsent data', async () => {
    const { player, transport, sentMs, advance } = make();
    transport.bufferedBytes = 1_000_000;
    const utt = await player.startUtterance('response_done', 16000);
    await utt.writeBytes(audio(500, 16000));
    advance(100);
    expect(sentMs()).toBe(0);
    transport.bufferedBytes = 0;
    advance(20);
    expect(sentMs()).toBeGreaterThan(0);
  });

  it('makes writers wait while too much audio is queued locally', async () => {
    const { player, advance } = make({ maxQueuedMs: 500 });
    const utt = await player.startUtterance('response_done', 16000);
    let resolved = false;
    const w = utt.writeBytes(audio(3000, 16000)).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(resolved).toBe(false);
    for (let t = 0; t < 3000 && !resolved; t += 20) {
      advance(20);
      await Promise.resolve();
    }
    await w;
    expect(resolved).toBe(true);
  });

  it('reports the utterance as completely heard when Exotel echoes its mark', async () => {
    const { player, advance } = make();
    const utt = await player.startUtterance('response_done', 16000);
    await utt.writeBytes(audio(300, 16000));
    utt.end();
    for (let t = 0; t < 400; t += 20) advance(20);
    expect(player.onMarkEcho(utt.name)).toBe(true);
    await expect(utt.played).resolves.toEqual({ completed: true, heardMs: 300, cleared: false });
    expect(player.onMarkEcho('nope')).toBe(false);
  });

  it('clear() drops queued audio, sends clear, and reports how much was heard', async () => {
    const { player, sent, sentMs, advance } = make();
    const utt = await player.startUtterance('response_done', 16000);
    await utt.writeBytes(audio(2000, 16000));
    for (let t = 0; t < 500; t += 20) advance(20);
    player.clear();
    expect(sent.at(-1)).toEqual({ event: 'clear', stream_sid: 'MZ1' });
    const result = await utt.played;
    expect(result.cleared).toBe(true);
    expect(result.completed).toBe(false);
    expect(result.heardMs).toBeGreaterThanOrEqual(480);
    expect(result.heardMs).toBeLessThanOrEqual(520);
    const before = sentMs();
    advance(1000);
    expect(sentMs()).toBe(before);
    expect(player.isSpeaking()).toBe(false);
  });

  it('gives each mark a name unique within the call', async () => {
    const { player, sent, advance } = make();
    for (let i = 0; i < 3; i++) {
      const utt = await player.startUtterance('response_done', 16000);
      await utt.writeBytes(audio(40, 16000));
      utt.end();
    }
    advance(1000);
    const names = sent.filter((s) => s.event === 'mark').map((s) => s.mark!.name);
    expect(new Set(names).size).toBe(3);
  });

  it('counts an underrun when audio for a started utterance arrives after playback ran dry', async () => {
    const { player, advance } = make();
    const utt = await player.startUtterance('response_done', 16000);
    await utt.writeBytes(audio(100, 16000));
    advance(300);
    await utt.writeBytes(audio(100, 16000));
    expect(player.stats.underruns).toBe(1);
    expect(player.stats.underrunMs).toBeCloseTo(200, 0);
    expect(player.stats.audibleUnderruns).toBe(1);
  });

  it.each([
    { maxLeadMs: 400, audible: 1 },
    { maxLeadMs: 120, audible: 2 },
  ])(
    'after the pacer’s clock stalls, keeps that stall ahead and rides out the next (max lead $maxLeadMs)',
    async ({ maxLeadMs, audible }) => {
      vi.useFakeTimers(); // the pacer's interval never fires on its own: ticks come by hand
      let now = 1000;
      const sent: string[] = [];
      const pacer = new Pacer(20);
      const player = new ExotelPlayer({
        streamSid: 'MZ1',
        sampleRate: 16000,
        frameMs: 20,
        prebufferMs: 200,
        leadMs: 120,
        maxLeadMs,
        maxBufferedBytes: 64 * 1024,
        transport: { bufferedBytes: 0, send: (t: string) => sent.push(t) },
        pacer,
        now: () => now,
      });
      cleanups.push(() => {
        player.close();
        pacer.close();
        vi.useRealTimers();
      });
      const utt = await player.startUtterance('response_done', 16000);
      await utt.writeBytes(audio(5000, 16000));
      // Audio queued at Exotel beyond what has played, by the player's clock.
      const ahead = () =>
        sent.filter((t) => t.includes('"media"')).length * 20 - player.playedMs(now);
      const tick = (ms: number) => {
        now += ms;
        pacer.tick(now);
      };
      for (let i = 0; i < 25; i++) tick(20);
      expect(ahead()).toBe(120);
      tick(200); // the event loop held for 180 ms: 120 ms queued was not enough
      expect(player.stats.audibleUnderruns).toBe(1);
      for (let i = 0; i < 25; i++) tick(20);
      expect(ahead()).toBe(maxLeadMs === 120 ? 120 : 200); // the stall + one tick
      tick(200); // the same stall again
      expect(player.stats.audibleUnderruns).toBe(audible);
    },
  );

  it('counts a gap of 20 ms or less as an underrun, not an audible one', async () => {
    const { player, advance } = make();
    const utt = await player.startUtterance('response_done', 16000);
    await utt.writeBytes(audio(100, 16000));
    advance(115);
    await utt.writeBytes(audio(100, 16000));
    advance(125);
    await utt.writeBytes(audio(100, 16000));
    // Dry for 15 ms, then for 25 ms.
    expect(player.stats.underruns).toBe(2);
    expect(player.stats.underrunMs).toBeCloseTo(40, 0);
    expect(player.stats.audibleUnderruns).toBe(1);
  });

  describe('start cushion (startMs)', () => {
    it('holds a streamed utterance until it has startMs of audio, then sends it all', async () => {
      const { player, media, sentMs, advance } = make({ startMs: 60 });
      const utt = await player.startUtterance('response_done', 16000);
      await utt.writeBytes(audio(40, 16000));
      advance(10);
      expect(media()).toHaveLength(0);
      await utt.writeBytes(audio(40, 16000)); // 80 ms queued ≥ 60
      expect(sentMs()).toBe(80);
      expect(utt.firstFrameAt).toBe(1010);
      advance(60);
      await utt.writeBytes(audio(20, 16000));
      expect(player.stats.underruns).toBe(0); // 80 ms of cushion covered the 60 ms wait
    });

    it('starts after startMs of waiting when the audio comes slower than that', async () => {
      const { player, media, advance } = make({ startMs: 60 });
      const utt = await player.startUtterance('response_done', 16000);
      await utt.writeBytes(audio(20, 16000));
      advance(40);
      expect(media()).toHaveLength(0);
      advance(20);
      expect(media()).toHaveLength(1);
    });

    it('starts a short utterance at once when its end is known', async () => {
      const { player, sent, media } = make({ startMs: 60 });
      const utt = await player.startUtterance('fallback_done', 16000);
      await utt.writeBytes(audio(20, 16000));
      expect(media()).toHaveLength(0);
      utt.end();
      expect(media()).toHaveLength(1);
      expect(sent.at(-1)?.event).toBe('mark');
    });

    it('does not hold an utterance that follows one still playing', async () => {
      const { player, media } = make({ startMs: 60 });
      const first = await player.startUtterance('greeting_done', 16000);
      await first.writeBytes(audio(100, 16000));
      first.end();
      const sentBefore = media().length;
      const second = await player.startUtterance('response_done', 16000);
      await second.writeBytes(audio(20, 16000));
      expect(media().length).toBe(sentBefore + 1);
    });

    it('a learned cushion: streams that came fast enough let the next reply start at once', async () => {
      const cushion = new StartCushion({ maxMs: 60, minSamples: 2, marginMs: 10 });
      const { player, media, advance, now } = make({ startMs: 60, cushion });
      const stream = async (late: number) => {
        const utt = await player.startUtterance('response_done', 16000);
        await utt.writeBytes(audio(40, 16000));
        advance(late);
        await utt.writeBytes(audio(40, 16000));
        utt.end();
        advance(2000);
        player.onMarkEcho(utt.name); // played out: the utterance reports what it needed
        await utt.played;
      };
      await stream(20); // 40 ms of audio, the next 20 ms later: needed nothing
      expect(cushion.for(0, now())).toBe(60);
      await stream(20);
      expect(cushion.for(0, now())).toBe(10);
      const sentBefore = media().length;
      const utt = await player.startUtterance('response_done', 16000);
      await utt.writeBytes(audio(20, 16000)); // 20 ms ≥ the learned 10: out at once
      expect(media().length).toBe(sentBefore + 1);
      utt.cancel();
      // A stream whose second chunk came 50 ms after 20 ms of audio needed 30: the cushion grows.
      const slow = await player.startUtterance('response_done', 16000);
      await slow.writeBytes(audio(20, 16000));
      advance(50);
      await slow.writeBytes(audio(20, 16000));
      slow.end();
      advance(2000);
      player.onMarkEcho(slow.name);
      await slow.played;
      expect(cushion.for(0, now())).toBe(40);
    });

    it("a learned cushion still covers the event loop's recent stalls", async () => {
      class StalledPacer extends Pacer {
        override recentStallMs(): number {
          return 35;
        }
      }
      const cushion = new StartCushion({ maxMs: 60, minSamples: 1, marginMs: 10 });
      cushion.record(0, 1000); // the TTS needs nothing: 10 ms on a calm loop
      const { player, sentMs, advance } = make({
        startMs: 60,
        cushion,
        pacer: new StalledPacer(1_000_000),
      });
      const utt = await player.startUtterance('response_done', 16000);
      await utt.writeBytes(audio(40, 16000));
      expect(sentMs()).toBe(0); // 40 ms < the 35 ms stall + 10
      await utt.writeBytes(audio(20, 16000));
      expect(sentMs()).toBe(60);
      advance(10);
      utt.cancel();
    });

    it('a reply written in one go (a cached line) teaches the cushion nothing', async () => {
      const cushion = new StartCushion({ maxMs: 60, minSamples: 1, marginMs: 10 });
      const { player, advance, now } = make({ startMs: 60, cushion });
      const utt = await player.startUtterance('greeting_done', 16000);
      await utt.writeBytes(audio(210, 16000)); // 10 frames, and 10 ms left for the end's flush
      advance(5);
      utt.end(); // the flush's frame is not a second arrival
      advance(2000);
      player.onMarkEcho(utt.name);
      await utt.played;
      expect(cushion.for(0, now())).toBe(60);
    });

    it('without a cushion (startMs 0) the first frame leaves at once', async () => {
      const { player, media } = make({ startMs: 0 });
      const utt = await player.startUtterance('response_done', 16000);
      await utt.writeBytes(audio(20, 16000));
      expect(media()).toHaveLength(1);
    });
  });

  it('a cancelled utterance sends no more audio and no mark', async () => {
    const { player, sent, advance } = make();
    const utt = await player.startUtterance('response_done', 16000);
    await utt.writeBytes(audio(1000, 16000));
    utt.cancel();
    const count = sent.length;
    advance(2000);
    expect(sent.length).toBe(count);
    expect(sent.some((s) => s.event === 'mark')).toBe(false);
  });
});

describe('ExotelPlayer without mark echoes', () => {
  afterEach(() => vi.useRealTimers());

  it('trusts the playback clock a grace period after the audio should have played', async () => {
    vi.useFakeTimers();
    const { player, advance } = make();
    const utt = await player.startUtterance('response_done', 16000);
    await utt.writeBytes(audio(300, 16000));
    utt.end();
    for (let t = 0; t < 400; t += 20) advance(20);
    let result: unknown;
    void utt.played.then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(1_900);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(2_200);
    expect(result).toEqual({ completed: true, heardMs: 300, cleared: false });
  });
});
