/** The speech-to-text interface: one finished utterance in, its transcript out, cancellable. */

export interface SttRequest {
  /** 16-bit mono PCM of the whole utterance. */
  audio: Int16Array;
  /** Sample rate of `audio` in Hz (the call's stream rate: 8000, 16000 or 24000). */
  sampleRate: number;
  /** ISO-639-1 code (e.g. 'hi', 'en'); omitted means the model detects the language. */
  language?: string;
  /** Words or earlier text that steer spelling and style (names, Hinglish vocabulary). */
  prompt?: string;
  signal: AbortSignal;
}

export interface SttResult {
  /** The transcript, trimmed; empty when nothing was said. */
  text: string;
}

export interface SttProvider {
  /** Model name, for logs and the call record. */
  readonly model: string;
  /**
   * Transcribes one utterance. Throws a VoicebotError (PROVIDER_*) on failure or timeout, and
   * PROVIDER_ABORTED when `signal` aborts.
   */
  transcribe(req: SttRequest): Promise<SttResult>;
}
