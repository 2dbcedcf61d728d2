/**
 * "Try an agent": the browser becomes Exotel. The microphone goes to our own `/was` as Exotel
 * media frames (PCM16 mono at the chosen rate, base64), after a `start` naming the agent as a
 * custom parameter; the bot's media frames play through Web Audio on one timeline, its marks
 * are echoed when the audio before them has played, and a `clear` drops what has not played, as
 * Exotel does. The transcript is read from the call's record while the call goes on.
 */

export {};

type Outbound = Record<string, unknown> & { event: string };

interface StoredTurn {
  index: number;
  role: 'user' | 'bot';
  text: string;
  heardText?: string;
  interrupted: boolean;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('try');
const talk = $<HTMLButtonElement>('talk');
const hangupButton = $<HTMLButtonElement>('hangup');
const status = $<HTMLParagraphElement>('try-status');
const sentMeter = $<HTMLSpanElement>('sent-ms');
const playedMeter = $<HTMLSpanElement>('played-ms');
const transcript = $<HTMLOListElement>('transcript');
const meters = $<HTMLParagraphElement>('meters');
const callLink = $<HTMLParagraphElement>('call-link');

function setStatus(state: string, text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Float samples in [-1, 1] to PCM16 little-endian bytes. */
function toPcm16(samples: Float32Array): Uint8Array {
  const out = new DataView(new ArrayBuffer(samples.length * 2));
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]!));
    out.setInt16(i * 2, v < 0 ? v * 0x8000 : v * 0x7fff, true);
  }
  return new Uint8Array(out.buffer);
}

/** PCM16 little-endian in base64 to float samples. */
function fromPcm16(payload: string): Float32Array<ArrayBuffer> {
  const bin = atob(payload);
  const out = new Float32Array(bin.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const v = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
    out[i] = (v >= 0x8000 ? v - 0x10000 : v) / 0x8000;
  }
  return out;
}

class TryCall {
  readonly callSid = `console-${crypto.randomUUID()}`;
  private readonly streamSid = `console-stream-${crypto.randomUUID().slice(0, 8)}`;
  private ws: WebSocket | undefined;
  private ctx: AudioContext | undefined;
  private mic: MediaStream | undefined;
  private sequence = 0;
  private chunk = 0;
  private sentMs = 0;
  private playedMs = 0;
  /** Context time at which the bot's queued audio ends. */
  private cursor = 0;
  private readonly playing = new Set<AudioBufferSourceNode>();
  private readonly markTimers = new Set<number>();
  private poll: number | undefined;
  private ended = false;

  get active(): boolean {
    return !this.ended;
  }

  constructor(
    private readonly agent: string,
    private readonly rate: number,
  ) {}

  async start(): Promise<void> {
    setStatus('connecting', 'Starting the microphone…');
    const ctx = new AudioContext({ sampleRate: this.rate });
    this.ctx = ctx;
    await ctx.audioWorklet.addModule('/console/assets/mic-worklet.js');
    this.mic = await navigator.mediaDevices.getUserMedia({
      audio: {
        channelCount: 1,
        echoCancellation: true,
        noiseSuppression: true,
        autoGainControl: true,
      },
    });
    await ctx.resume();
    const capture = new AudioWorkletNode(ctx, 'mic-capture', { numberOfOutputs: 1 });
    const mute = ctx.createGain();
    mute.gain.value = 0;
    ctx.createMediaStreamSource(this.mic).connect(capture).connect(mute).connect(ctx.destination);
    capture.port.onmessage = (e: MessageEvent<Float32Array>) => this.sendAudio(e.data);

    setStatus('connecting', 'Connecting…');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/was?sample-rate=${this.rate}`);
    this.ws = ws;
    ws.onopen = () => {
      this.send({ event: 'connected' });
      this.send({
        event: 'start',
        stream_sid: this.streamSid,
        start: {
          stream_sid: this.streamSid,
          call_sid: this.callSid,
          account_sid: 'console',
          from: 'console',
          to: 'console',
          custom_parameters: this.agent ? { agent: this.agent } : {},
          media_format: { encoding: 'audio/x-raw', sample_rate: String(this.rate), bit_rate: '16' },
        },
      });
      setStatus('live', 'On the call. Speak after the greeting.');
      hangupButton.disabled = false;
      this.poll = window.setInterval(() => void this.refreshTranscript(), 1000);
    };
    ws.onmessage = (e: MessageEvent<string>) => this.onMessage(e.data);
    ws.onerror = () => setStatus('error', 'The connection failed.');
    ws.onclose = (e) => void this.finish(e.code, e.reason);
  }

  private send(frame: Outbound): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    const withSeq =
      frame.event === 'connected' ? frame : { ...frame, sequence_number: String(++this.sequence) };
    this.ws.send(JSON.stringify(withSeq));
  }

  private sendAudio(samples: Float32Array): void {
    if (this.ws?.readyState !== WebSocket.OPEN || this.sequence === 0) return;
    this.send({
      event: 'media',
      stream_sid: this.streamSid,
      media: {
        chunk: String(++this.chunk),
        timestamp: String(Math.round(this.sentMs)),
        payload: toBase64(toPcm16(samples)),
      },
    });
    this.sentMs += (samples.length / this.rate) * 1000;
    sentMeter.textContent = String(Math.round(this.sentMs));
  }

  private onMessage(data: string): void {
    let frame: { event?: string; media?: { payload?: string }; mark?: { name?: string } };
    try {
      frame = JSON.parse(data) as typeof frame;
    } catch {
      return;
    }
    if (frame.event === 'media' && frame.media?.payload) this.play(fromPcm16(frame.media.payload));
    else if (frame.event === 'mark' && frame.mark?.name) this.echoMark(frame.mark.name);
    else if (frame.event === 'clear') this.clear();
  }

  private play(samples: Float32Array<ArrayBuffer>): void {
    const ctx = this.ctx;
    if (!ctx || samples.length === 0) return;
    const buffer = ctx.createBuffer(1, samples.length, this.rate);
    buffer.copyToChannel(samples, 0);
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(ctx.destination);
    const at = Math.max(this.cursor, ctx.currentTime + 0.02);
    source.start(at);
    this.cursor = at + buffer.duration;
    this.playing.add(source);
    source.onended = () => {
      if (!this.playing.delete(source)) return;
      this.playedMs += buffer.duration * 1000;
      playedMeter.textContent = String(Math.round(this.playedMs));
    };
  }

  /** Exotel echoes a mark once the audio queued before it has played. */
  private echoMark(name: string): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const waitMs = Math.max(0, (this.cursor - ctx.currentTime) * 1000);
    const timer = window.setTimeout(() => {
      this.markTimers.delete(timer);
      this.send({ event: 'mark', stream_sid: this.streamSid, mark: { name } });
      // Which of the bot's utterances have played to their end (`greeting-1 reply-3 …`).
      meters.dataset.playedMarks = `${meters.dataset.playedMarks ?? ''} ${name}`.trim();
    }, waitMs);
    this.markTimers.add(timer);
  }

  /** Drops the audio not yet played (and its marks), as Exotel does on `clear`. */
  private clear(): void {
    const played = [...this.playing];
    this.playing.clear();
    for (const s of played) s.stop();
    for (const t of this.markTimers) clearTimeout(t);
    this.markTimers.clear();
    this.cursor = this.ctx?.currentTime ?? 0;
  }

  hangup(): void {
    this.send({
      event: 'stop',
      stream_sid: this.streamSid,
      stop: { call_sid: this.callSid, account_sid: 'console', reason: 'callended' },
    });
    this.ws?.close(1000, 'hung up');
  }

  /** Stops the microphone and the bot's audio (also when starting failed). */
  async finish(code?: number, reason?: string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    window.clearInterval(this.poll);
    this.clear();
    for (const track of this.mic?.getTracks() ?? []) track.stop();
    await this.ctx?.close().catch(() => undefined);
    hangupButton.disabled = true;
    talk.disabled = false;
    if (code !== undefined) {
      const why = code === 1000 || code === 1001 ? '' : ` (${code}${reason ? `: ${reason}` : ''})`;
      // The link goes up with the status, not after the transcript's fetch: whoever sees
      // "ended" (a person, a test) can follow it at once.
      const link = callLink.querySelector('a')!;
      link.href = `/console/calls/${encodeURIComponent(this.callSid)}`;
      callLink.hidden = false;
      setStatus('ended', `The call ended${why}.`);
      await this.refreshTranscript();
    }
  }

  /** The turns so far, from the call's record (written as each turn ends). */
  private async refreshTranscript(): Promise<void> {
    const res = await fetch(`/api/calls/${encodeURIComponent(this.callSid)}`, {
      headers: { accept: 'application/json' },
    }).catch(() => undefined);
    if (!res?.ok) return;
    const detail = (await res.json()) as { turns: StoredTurn[] };
    const items = detail.turns.map((t) => {
      const li = document.createElement('li');
      li.className = `msg ${t.role === 'user' ? 'caller' : 'bot'}`;
      li.dataset.turn = String(t.index);
      const who = document.createElement('div');
      who.className = 'meta';
      who.textContent = t.role === 'user' ? 'You' : 'Bot';
      const words = document.createElement('p');
      words.className = 'words';
      const heard = t.role === 'bot' && t.interrupted ? (t.heardText ?? '') : t.text;
      words.textContent = heard || '(nothing)';
      if (t.role === 'bot' && t.interrupted && t.text.startsWith(heard)) {
        const rest = document.createElement('s');
        rest.className = 'unheard';
        rest.textContent = t.text.slice(heard.length);
        words.append(rest);
      }
      li.append(who, words);
      return li;
    });
    transcript.replaceChildren(...items);
  }
}

let current: TryCall | undefined;

form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (current?.active) return;
  const call = new TryCall(
    (form.elements.namedItem('agent') as HTMLSelectElement).value,
    Number((form.elements.namedItem('rate') as HTMLSelectElement).value),
  );
  current = call;
  talk.disabled = true;
  callLink.hidden = true;
  transcript.replaceChildren();
  delete meters.dataset.playedMarks;
  call.start().catch(async (err: unknown) => {
    await call.finish();
    const denied = err instanceof DOMException && err.name === 'NotAllowedError';
    setStatus(
      'error',
      denied
        ? 'The browser did not allow the microphone.'
        : `Could not start: ${err instanceof Error ? err.message : String(err)}`,
    );
  });
});

hangupButton.addEventListener('click', () => current?.hangup());
