/**
 * A simulated Exotel Voicebot stream: connects to a `/was` URL exactly as Exotel does
 * (`connected`, `start`, real-time `media`, `stop`), plays the bot's audio on a virtual
 * playback clock, echoes each `mark` when the audio before it would have finished playing,
 * and drops unplayed audio on `clear`. Used by `voicebot call`, the load generator and tests.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';

export interface SimulatedCallOptions {
  url: string;
  sampleRate: number;
  streamSid?: string;
  callSid?: string;
  accountSid?: string;
  from?: string;
  to?: string;
  customParameters?: Record<string, string>;
  /** Echo marks at playback time (Exotel's behaviour). Default true. */
  echoMarks?: boolean;
  /**
   * Send no `stream_sid` at all, as Exotel's own test client does; the bot's frames must then
   * carry none either. Default false.
   */
  omitStreamSid?: boolean;
  /** Handshake time limit. Default 10 s (Exotel's). */
  connectTimeoutMs?: number;
}

export interface ReceivedFrame {
  at: number;
  bytes: number;
  /** Virtual playback start of this frame (ms, performance.now clock). */
  playAt: number;
}

export interface ReceivedMark {
  name: string;
  at: number;
  echoedAt?: number;
}

export class SimulatedCall extends EventEmitter {
  readonly streamSid: string;
  readonly callSid: string;
  readonly frames: ReceivedFrame[] = [];
  readonly marks: ReceivedMark[] = [];
  readonly clears: number[] = [];
  readonly botAudio: Buffer[] = [];
  /** Gaps between bot frames of one utterance, against real time (ms each). */
  readonly underruns: number[] = [];
  readonly invalidFrames: string[] = [];
  startedAt = 0;
  closedAt: number | undefined;
  closeCode: number | undefined;
  closeReason = '';
  private ws!: WebSocket;
  private seq = 0;
  private chunk = 0;
  private mediaTimestampMs = 0;
  /** Virtual time at which everything received so far finishes playing. */
  private playEnd = 0;
  private inUtterance = false;
  private readonly pendingEchoes = new Set<NodeJS.Timeout>();
  private readonly bytesPerMs: number;
  private micTimer: NodeJS.Timeout | undefined;
  private readonly micQueue: Array<{ pcm: Buffer; offset: number; done: () => void }> = [];

  constructor(private readonly opts: SimulatedCallOptions) {
    super();
    this.streamSid = opts.streamSid ?? `MZ${randomBytes(16).toString('hex')}`;
    this.callSid = opts.callSid ?? `CA${randomBytes(16).toString('hex')}`;
    this.bytesPerMs = (opts.sampleRate * 2) / 1000;
  }

  /** Opens the socket and sends `connected` and `start`. */
  async connect(): Promise<void> {
    this.ws = new WebSocket(this.opts.url, {
      handshakeTimeout: this.opts.connectTimeoutMs ?? 10_000,
    });
    this.ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    this.ws.on('close', (code, reason) => {
      this.closedAt = performance.now();
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.clearEchoes();
      this.stopMic();
      this.emit('close', code, this.closeReason);
    });
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('error', (err) => this.emit('socket-error', err));
    this.sendJson({ event: 'connected' });
  }

  start(): void {
    this.startedAt = performance.now();
    const o = this.opts;
    this.sendJson({
      event: 'start',
      sequence_number: String(++this.seq),
      ...this.sid(),
      start: {
        ...this.sid(),
        call_sid: this.callSid,
        account_sid: o.accountSid ?? 'AC_simulator',
        from: o.from ?? '+919800000001',
        to: o.to ?? '+918000000002',
        custom_parameters: o.customParameters ?? {},
        media_format: {
          encoding: 'audio/x-raw',
          sample_rate: String(o.sampleRate),
          bit_rate: '16',
        },
      },
    });
  }

  /**
   * Sends one `media` frame of caller audio (s16le at the stream rate). The text is built by hand:
   * `JSON.stringify` spends about 5 us a 100 ms frame at 16 kHz scanning the base64 payload for
   * characters to escape, and its alphabet has none (the same text; tested).
   */
  sendAudio(pcm: Buffer): void {
    const sid = this.opts.omitStreamSid ? '' : `"stream_sid":${JSON.stringify(this.streamSid)},`;
    const seq = ++this.seq;
    const chunk = ++this.chunk;
    const timestamp = Math.round(this.mediaTimestampMs);
    if (this.isOpen)
      this.ws.send(
        `{"event":"media","sequence_number":"${seq}",${sid}"media":{"chunk":"${chunk}",` +
          `"timestamp":"${timestamp}","payload":"${pcm.toString('base64')}"}}`,
      );
    this.mediaTimestampMs += pcm.length / this.bytesPerMs;
  }

  /**
   * Starts the caller's microphone: from now on a `media` frame of `frameMs` goes out every
   * `frameMs` on a monotonic clock, as Exotel does for the whole call, carrying what `say()`
   * queued, or silence.
   */
  startMic(frameMs = 100): void {
    if (this.micTimer) return;
    const frameBytes = Math.round((frameMs * this.bytesPerMs) / 2) * 2;
    const t0 = performance.now();
    let i = 0;
    const tick = () => {
      if (!this.isOpen) return this.stopMic();
      let frame: Buffer;
      if (this.micQueue.length > 0) {
        const head = this.micQueue[0]!;
        frame = head.pcm.subarray(head.offset, head.offset + frameBytes);
        head.offset += frame.length;
        if (head.offset >= head.pcm.length) {
          this.micQueue.shift();
          head.done();
        }
        if (frame.length < frameBytes)
          frame = Buffer.concat([frame, Buffer.alloc(frameBytes - frame.length)]);
      } else {
        frame = Buffer.alloc(frameBytes);
      }
      this.sendAudio(frame);
      i++;
      this.micTimer = setTimeout(tick, Math.max(0, t0 + i * frameMs - performance.now()));
    };
    tick();
  }

  /** Queues caller speech on the microphone; resolves when its last frame has been sent. */
  say(pcm: Buffer): Promise<void> {
    return new Promise((resolve) => this.micQueue.push({ pcm, offset: 0, done: resolve }));
  }

  stopMic(): void {
    clearTimeout(this.micTimer);
    this.micTimer = undefined;
    for (const q of this.micQueue.splice(0)) q.done();
  }

  get micRunning(): boolean {
    return this.micTimer !== undefined;
  }

  sendDtmf(digit: string): void {
    this.sendJson({
      event: 'dtmf',
      sequence_number: String(++this.seq),
      ...this.sid(),
      dtmf: { digit, duration: '100' },
    });
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** Sends `stop` (caller hung up) and closes, as Exotel does. */
  async hangup(reason = 'callended'): Promise<void> {
    if (this.isOpen) {
      this.sendJson({
        event: 'stop',
        sequence_number: String(++this.seq),
        ...this.sid(),
        stop: {
          call_sid: this.callSid,
          account_sid: this.opts.accountSid ?? 'AC_simulator',
          reason,
        },
      });
      this.ws.close(1000, 'call ended');
    }
    await this.closed();
  }

  closed(): Promise<void> {
    if (this.closedAt !== undefined || this.ws.readyState === WebSocket.CLOSED)
      return Promise.resolve();
    return new Promise((resolve) => this.once('close', () => resolve()));
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Resolves with the first mark whose name matches, once received (not echoed). */
  waitForMark(match: (name: string) => boolean, timeoutMs = 15_000): Promise<ReceivedMark> {
    const found = this.marks.find((m) => match(m.name));
    if (found) return Promise.resolve(found);
    return this.waitForEvent('mark', (m: ReceivedMark) => match(m.name), timeoutMs);
  }

  /** Waits for the next emitted `event` satisfying `pred`. */
  waitForEvent<T>(event: string, pred: (v: T) => boolean, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off(event, handler);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${event}`));
      }, timeoutMs);
      const handler = (v: T) => {
        if (!pred(v)) return;
        clearTimeout(timer);
        this.off(event, handler);
        resolve(v);
      };
      this.on(event, handler);
    });
  }

  /** The bot's audio as received, concatenated (s16le at the stream rate). */
  botPcm(): Buffer {
    return Buffer.concat(this.botAudio);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const now = performance.now();
    if (isBinary) return this.invalid('binary frame');
    let msg: {
      event?: string;
      stream_sid?: string;
      media?: { payload?: string };
      mark?: { name?: string };
    };
    try {
      msg = JSON.parse(data.toString('utf8')) as typeof msg;
    } catch {
      return this.invalid('not JSON');
    }
    const expected = this.opts.omitStreamSid ? undefined : this.streamSid;
    if (msg.stream_sid !== expected) this.invalid(`${msg.event} with wrong stream_sid`);
    switch (msg.event) {
      case 'media': {
        const payload = msg.media?.payload;
        if (typeof payload !== 'string') return this.invalid('media without payload');
        const audio = Buffer.from(payload, 'base64');
        if (audio.length === 0 || audio.length % 320 !== 0)
          this.invalid(`media of ${audio.length} bytes`);
        if (audio.length > 100_000) this.invalid('media over 100 KB');
        const ms = audio.length / this.bytesPerMs;
        if (this.playEnd < now) {
          if (this.inUtterance && this.playEnd > 0) this.underruns.push(now - this.playEnd);
          this.playEnd = now;
        }
        const frame = { at: now, bytes: audio.length, playAt: this.playEnd };
        this.playEnd += ms;
        this.inUtterance = true;
        this.frames.push(frame);
        this.botAudio.push(audio);
        this.emit('media', frame);
        return;
      }
      case 'mark': {
        const name = msg.mark?.name;
        if (typeof name !== 'string') return this.invalid('mark without name');
        const mark: ReceivedMark = { name, at: now };
        this.marks.push(mark);
        this.inUtterance = false;
        this.emit('mark', mark);
        if (this.opts.echoMarks !== false) this.scheduleEcho(mark, Math.max(0, this.playEnd - now));
        return;
      }
      case 'clear':
        this.clears.push(now);
        this.playEnd = now;
        this.inUtterance = false;
        this.clearEchoes();
        this.emit('clear', now);
        return;
      default:
        return this.invalid(`unknown event ${String(msg.event)}`);
    }
  }

  private scheduleEcho(mark: ReceivedMark, delayMs: number): void {
    const timer = setTimeout(() => {
      this.pendingEchoes.delete(timer);
      if (!this.isOpen) return;
      mark.echoedAt = performance.now();
      this.sendJson({
        event: 'mark',
        sequence_number: String(++this.seq),
        ...this.sid(),
        mark: { name: mark.name },
      });
      this.emit('mark-echo', mark);
    }, delayMs);
    this.pendingEchoes.add(timer);
  }

  private clearEchoes(): void {
    // Exotel does not echo marks whose audio a clear dropped.
    for (const t of this.pendingEchoes) clearTimeout(t);
    this.pendingEchoes.clear();
  }

  private invalid(what: string): void {
    this.invalidFrames.push(what);
    this.emit('invalid', what);
  }

  private sid(): { stream_sid?: string } {
    return this.opts.omitStreamSid ? {} : { stream_sid: this.streamSid };
  }

  private sendJson(obj: unknown): void {
    if (this.isOpen) this.ws.send(JSON.stringify(obj));
  }
}
