/**
 * The call's audio output on Exotel: turns utterances into paced `media` frames followed by a
 * `mark`, sends `clear` on barge-in, and keeps the playback timeline that tells how much of each
 * utterance the caller has heard. Exotel's encoding and framing rules live here and in the codec.
 *
 * Pacing: at the start of a burst up to `prebufferMs` goes out at once; after that the player
 * keeps `leadMs` of audio ahead of real time at Exotel, so `clear` has little to flush and a
 * whole reply is never dumped in one go. When the pacer's clock has stalled lately (the event
 * loop held), the lead grows to cover the longest recent stall, up to `maxLeadMs`. Frames leave
 * in `media` messages of up to `messageMs` (Exotel asks for 100 ms or more a message): once the
 * lead falls below its mark, the player sends until it is a message past it. An
 * utterance that starts into silence waits until it has `startMs` of audio queued (or its end,
 * or `startMs` has passed since its first frame), so streamed TTS starts with a cushion instead
 * of frame-by-frame, where any hiccup is a hole; with a `cushion` the wait is what recent
 * streams needed (start-cushion.ts), up to `startMs`.
 * Timeline positions are milliseconds of audio on this stream (`sentMs` counts everything sent;
 * `playedMs(now)` estimates what has played). A mark that Exotel never echoes does not hang an
 * utterance: `markGraceMs` after its audio should have played, the clock is trusted.
 */
import { createStreamResampler, frameBytesFor, type StreamResampler } from '../audio/index.js';
import type { AudioOutput, UtteranceKind } from '../conversation/audio-output.js';
import type { Config } from '../config/index.js';
import { encode, encodeMedia } from './exotel-codec.js';
import type { Pacer, Pumpable } from './pacer.js';
import { PlayerUtterance, type UtteranceHost } from './player-utterance.js';
import type { StartCushion } from './start-cushion.js';

/** What the player needs of the socket. */
export interface AudioTransport {
  /** Sends one text frame; never throws. */
  send(text: string): void;
  /** Bytes accepted by send() but not yet written to the network. */
  readonly bufferedBytes: number;
}

export interface PlayerOptions {
  /** Undefined when Exotel's start had none: frames then go out without one. */
  streamSid: string | undefined;
  sampleRate: number;
  frameMs: number;
  /**
   * Most audio one `media` message carries (whole frames; default `frameMs`, one frame a
   * message). Above `frameMs` the player tops the lead up by a message at a time instead of a
   * frame per pacer tick, so a speaking call sends a message every `messageMs` or so.
   */
  messageMs?: number;
  /** The pacer's tick: how often `pump` runs while audio waits. */
  tickMs?: number;
  prebufferMs: number;
  leadMs: number;
  /**
   * Most audio kept ahead when the pacer has seen its clock stall (`Pacer.leadFor`); default
   * `leadMs`, which keeps the lead fixed.
   */
  maxLeadMs?: number;
  /** Audio an utterance gathers before its first frame when nothing is playing (0: none). */
  startMs?: number;
  /**
   * The start cushion learned from how TTS streams and the pacer's stalls (the process's); when
   * set, it is used instead of `startMs`, and every streamed utterance tells it what it needed.
   */
  cushion?: StartCushion;
  /** Stop sending while the socket holds more than this many unsent bytes. */
  maxBufferedBytes: number;
  /** Writers wait while more than this much audio is queued locally. */
  maxQueuedMs?: number;
  /** Wait for a mark echo beyond the audio still to play before trusting the clock. */
  markGraceMs?: number;
  transport: AudioTransport;
  pacer: Pacer;
  now?: () => number;
}

type QueueItem =
  | { audio: Buffer; ms: number; utt: PlayerUtterance }
  | { audio: null; ms: 0; utt: PlayerUtterance };

export interface PlayerStats {
  framesSent: number;
  /** `media` messages: one per frame, or fewer when `messageMs` gathers frames. */
  messagesSent: number;
  bytesSent: number;
  marksSent: number;
  clears: number;
  underruns: number;
  underrunMs: number;
  /** Underruns longer than AUDIBLE_UNDERRUN_MS. */
  audibleUnderruns: number;
}

const DEFAULT_MARK_GRACE_MS = 2_000;
/** A gap in the bot's audio longer than this is heard as a stutter (shorter ones are not). */
export const AUDIBLE_UNDERRUN_MS = 20;

/** Sees what the caller hears: each frame when it starts playing, and each `clear`. */
export interface PlayerTap {
  /** `audio` (s16le at the stream rate) starts playing at `playAt` (the player's clock). */
  sent(audio: Buffer, playAt: number): void;
  /** What was scheduled from `at` on will not be heard. */
  cleared(at: number): void;
}

export class ExotelPlayer implements AudioOutput, Pumpable, UtteranceHost {
  /** The call's recording, when there is one. */
  tap: PlayerTap | undefined;
  /** A player for a call's socket, with the configured pacing. */
  static forCall(
    config: Config,
    pacer: Pacer,
    transport: AudioTransport,
    streamSid: string | undefined,
    sampleRate: number,
    cushion?: StartCushion,
  ): ExotelPlayer {
    return new ExotelPlayer({
      streamSid,
      sampleRate,
      frameMs: config.playback.frameMs,
      messageMs: config.playback.messageMs,
      tickMs: config.playback.tickMs,
      prebufferMs: config.playback.prebufferMs,
      leadMs: config.playback.leadMs,
      maxLeadMs: config.playback.maxLeadMs,
      startMs: config.playback.startMs,
      ...(cushion ? { cushion } : {}),
      maxBufferedBytes: config.ws.maxBufferedBytes,
      transport,
      pacer,
    });
  }

  readonly frameBytes: number;
  readonly stats: PlayerStats = {
    framesSent: 0,
    messagesSent: 0,
    bytesSent: 0,
    marksSent: 0,
    clears: 0,
    underruns: 0,
    underrunMs: 0,
    audibleUnderruns: 0,
  };
  private readonly queue: QueueItem[] = [];
  private head = 0;
  private queuedMs = 0;
  /** Milliseconds of audio sent on this stream (timeline position of the next frame). */
  private sentMs = 0;
  /** When (now() clock) everything sent so far will have finished playing at Exotel. */
  private bufferEndAt = 0;
  private burstStart = 0;
  /** Timeline position confirmed by the last echoed mark. */
  private ackedMs = 0;
  private readonly awaitingEcho = new Map<string, PlayerUtterance>();
  private readonly graceTimers = new Map<PlayerUtterance, NodeJS.Timeout>();
  private readonly live = new Set<PlayerUtterance>();
  private readonly drainWaiters: Array<() => void> = [];
  /** Idle resamplers by input rate, reused across utterances (a flush resets one). */
  private readonly resamplers = new Map<number, StreamResampler[]>();
  private seq = 0;
  private closed = false;
  private readonly now: () => number;
  private readonly maxQueuedMs: number;
  private readonly messageMs: number;
  /** Audio sent past the lead when topping it up, so the next top-up is a message away. */
  private readonly topUpMs: number;

  constructor(private readonly opts: PlayerOptions) {
    this.frameBytes = frameBytesFor(opts.sampleRate, opts.frameMs);
    this.now = opts.now ?? (() => performance.now());
    this.maxQueuedMs = opts.maxQueuedMs ?? 20_000;
    this.messageMs = Math.max(opts.frameMs, opts.messageMs ?? opts.frameMs);
    this.topUpMs = Math.max(0, this.messageMs - (opts.tickMs ?? opts.frameMs));
  }

  get sampleRate(): number {
    return this.opts.sampleRate;
  }

  /**
   * Opens an utterance whose PCM arrives at `inputRate`. The caller writes PCM, then `end()`s it
   * (which queues the mark) or `cancel()`s it. Mark names are `<kind>-<n>`, unique per call.
   */
  async startUtterance(
    kind: UtteranceKind,
    inputRate: number,
    opts: { capture?: boolean } = {},
  ): Promise<PlayerUtterance> {
    const resampler = await this.acquireResampler(inputRate);
    const name = `${kind}-${++this.seq}`;
    const utt = new PlayerUtterance(
      this,
      name,
      kind,
      this.frameBytes,
      resampler,
      !!opts.capture,
      this.opts.cushion !== undefined,
    );
    this.live.add(utt);
    if (this.closed) utt.finish({ completed: false, heardMs: 0, cleared: false });
    return utt;
  }

  async playPcm(kind: UtteranceKind, pcm: Buffer): Promise<PlayerUtterance> {
    const utt = await this.startUtterance(kind, this.opts.sampleRate);
    await utt.writeBytes(pcm);
    utt.end();
    return utt;
  }

  isSpeaking(now = this.now()): boolean {
    return this.head < this.queue.length || this.bufferEndAt > now;
  }

  /** Best estimate of the timeline position the caller has heard up to. */
  playedMs(now = this.now()): number {
    const clock = this.sentMs - Math.max(0, this.bufferEndAt - now);
    return Math.max(this.ackedMs, clock);
  }

  clear(): void {
    if (this.closed) return;
    const now = this.now();
    const position = this.playedMs(now);
    this.dropQueue();
    for (const utt of [...this.live]) {
      utt.finish({ completed: false, heardMs: utt.heardAt(position), cleared: true });
    }
    this.awaitingEcho.clear();
    this.sentMs = position;
    this.bufferEndAt = now;
    this.tap?.cleared(now);
    this.stats.clears++;
    this.opts.transport.send(encode({ event: 'clear', streamSid: this.opts.streamSid }));
  }

  /** Handles a mark echoed by Exotel: the audio before it has finished playing. */
  onMarkEcho(name: string): boolean {
    if (!this.awaitingEcho.has(name)) return false;
    for (const [n, u] of this.awaitingEcho) {
      // Marks come back in order: an echo confirms every earlier mark too.
      this.awaitingEcho.delete(n);
      this.ackedMs = Math.max(this.ackedMs, u.endMs ?? this.ackedMs);
      u.finish({ completed: true, heardMs: u.sentAudioMs, cleared: false });
      if (n === name) break;
    }
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const position = this.playedMs();
    this.dropQueue();
    for (const utt of [...this.live]) {
      utt.finish({ completed: false, heardMs: utt.heardAt(position), cleared: false });
    }
    this.awaitingEcho.clear();
    this.opts.pacer.unregister(this);
    for (const pool of this.resamplers.values()) for (const r of pool) r.destroy();
    this.resamplers.clear();
  }

  // UtteranceHost: called by the utterances this player made.

  releaseResampler(r: StreamResampler): void {
    if (this.closed) return r.destroy();
    r.flush();
    const pool = this.resamplers.get(r.fromRate) ?? [];
    pool.push(r);
    this.resamplers.set(r.fromRate, pool);
  }

  enqueueFrames(utt: PlayerUtterance, frames: Buffer[]): void {
    if (this.closed) return;
    const bytesPerMs = (this.opts.sampleRate * 2) / 1000;
    const now = this.now();
    for (const audio of frames) {
      const ms = audio.length / bytesPerMs;
      this.queue.push({ audio, ms, utt });
      this.queuedMs += ms;
      utt.onQueued(ms, now);
    }
    this.pump(now);
  }

  enqueueMark(utt: PlayerUtterance): void {
    if (this.closed) return;
    this.queue.push({ audio: null, ms: 0, utt });
    this.pump(this.now());
  }

  cancelQueued(utt: PlayerUtterance): void {
    const kept: QueueItem[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const item = this.queue[i]!;
      if (item.utt === utt) {
        this.queuedMs -= item.ms;
        utt.onUnqueued(item.ms);
      } else kept.push(item);
    }
    this.queue.length = 0;
    this.head = 0;
    this.queue.push(...kept);
    this.live.delete(utt);
    this.wakeWriters();
  }

  waitForRoom(): Promise<void> {
    if (this.closed || this.queuedMs <= this.maxQueuedMs) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  forget(utt: PlayerUtterance): void {
    if (utt.startMeter?.streamed) this.opts.cushion?.record(utt.startMeter.neededMs, this.now());
    this.live.delete(utt);
    clearTimeout(this.graceTimers.get(utt));
    this.graceTimers.delete(utt);
  }

  pump(now: number): void {
    if (this.closed) return;
    const { transport, leadMs, maxLeadMs, prebufferMs, maxBufferedBytes } = this.opts;
    const lead = this.opts.pacer.leadFor(leadMs, maxLeadMs ?? leadMs, now);
    // Below the lead a top-up starts; it goes on to a message past it (hysteresis), so that the
    // audio leaves in messages of up to messageMs rather than a frame per tick.
    let toppingUp = false;
    // Frames gathered for the next `media` message, and when the first of them plays.
    let frames: Buffer[] = [];
    let playAt = 0;
    while (this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      if (item.audio === null) {
        this.head++;
        frames = this.sendMessage(frames, playAt); // the mark follows its audio
        this.sendMark(item.utt, now);
        continue;
      }
      if (this.bufferEndAt <= now && item.utt.startMs === undefined && !this.ready(item.utt, now))
        break; // gathering the start cushion; the pacer's tick comes back
      if (this.bufferEndAt <= now) {
        // Exotel has played everything: a new burst starts. A gap inside an utterance is an underrun.
        if (item.utt.startMs !== undefined && this.bufferEndAt > 0) {
          this.stats.underruns++;
          this.stats.underrunMs += now - this.bufferEndAt;
          if (now - this.bufferEndAt > AUDIBLE_UNDERRUN_MS) this.stats.audibleUnderruns++;
        }
        this.bufferEndAt = now;
        this.burstStart = now;
      }
      const prebuffer = prebufferMs - (now - this.burstStart);
      const ahead = this.bufferEndAt - now;
      if (ahead >= Math.max(prebuffer, toppingUp ? lead + this.topUpMs : lead)) break;
      if (transport.bufferedBytes > maxBufferedBytes) break;
      toppingUp = true;
      this.head++;
      this.queuedMs -= item.ms;
      item.utt.onSent(item.ms, this.sentMs, now);
      if (frames.length === 0) playAt = this.bufferEndAt;
      frames.push(item.audio);
      this.sentMs += item.ms;
      this.bufferEndAt += item.ms;
      this.stats.framesSent++;
      this.stats.bytesSent += item.audio.length;
      if (this.bufferEndAt - playAt >= this.messageMs) frames = this.sendMessage(frames, playAt);
    }
    this.sendMessage(frames, playAt);
    if (this.head >= this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.opts.pacer.unregister(this);
    } else {
      if (this.head > 512) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.opts.pacer.register(this);
    }
    this.wakeWriters();
  }

  /**
   * Sends `frames` (if any) as one `media` message that starts playing at `playAt`; returns the
   * list to gather the next message in.
   */
  private sendMessage(frames: Buffer[], playAt: number): Buffer[] {
    if (frames.length === 0) return frames;
    const audio = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    this.tap?.sent(audio, playAt);
    this.stats.messagesSent++;
    this.opts.transport.send(encodeMedia(this.opts.streamSid, audio));
    return [];
  }

  private sendMark(utt: PlayerUtterance, now: number): void {
    utt.onMarkSent(this.sentMs);
    this.awaitingEcho.set(utt.name, utt);
    this.stats.marksSent++;
    this.opts.transport.send(
      encode({ event: 'mark', streamSid: this.opts.streamSid, name: utt.name }),
    );
    const grace = this.opts.markGraceMs ?? DEFAULT_MARK_GRACE_MS;
    const timer = setTimeout(
      () => {
        // No echo: trust the clock.
        this.awaitingEcho.delete(utt.name);
        utt.finish({ completed: true, heardMs: utt.sentAudioMs, cleared: false });
      },
      Math.max(0, this.bufferEndAt - now) + grace,
    );
    this.graceTimers.set(utt, timer);
  }

  private async acquireResampler(inputRate: number): Promise<StreamResampler> {
    return (
      this.resamplers.get(inputRate)?.pop() ??
      createStreamResampler(inputRate, this.opts.sampleRate)
    );
  }

  /** An utterance may start into silence: it has its cushion, its end, or has waited enough. */
  private ready(utt: PlayerUtterance, now: number): boolean {
    const { cushion, pacer } = this.opts;
    const startMs = cushion ? cushion.for(pacer.recentStallMs(now), now) : (this.opts.startMs ?? 0);
    return (
      utt.queuedAudioMs >= startMs || utt.closed || now - (utt.firstQueuedAt ?? now) >= startMs
    );
  }

  private wakeWriters(): void {
    if (this.queuedMs > this.maxQueuedMs && !this.closed) return;
    for (const w of this.drainWaiters.splice(0)) w();
  }

  private dropQueue(): void {
    this.queue.length = 0;
    this.head = 0;
    this.queuedMs = 0;
    this.opts.pacer.unregister(this);
    for (const w of this.drainWaiters.splice(0)) w();
  }
}
