/** The text-to-speech interface: streamed 16-bit mono PCM, cancellable through `signal`. */

export interface TtsRequest {
  text: string;
  voice: string;
  signal: AbortSignal;
}

export interface TtsProvider {
  /** Model name, part of cache keys. */
  readonly model: string;
  /** Sample rate of the PCM the provider yields. */
  readonly sampleRate: number;
  /**
   * Streams the speech as s16le mono PCM chunks (each an even number of bytes) as they arrive.
   * Throws a VoicebotError (PROVIDER_*) on failure, timeout or stall.
   */
  synthesize(req: TtsRequest): AsyncIterable<Buffer>;
}
