/**
 * Runs in the AudioWorklet: hands the microphone's samples (mono, at the context's rate) to
 * the page in 20 ms blocks, so the page can send them as Exotel media frames.
 */

export {};

// The AudioWorklet scope is not in TypeScript's DOM library; these are the parts used here.
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(
  name: string,
  ctor: new () => AudioWorkletProcessor & {
    process(inputs: Float32Array[][]): boolean;
  },
): void;

class MicCapture extends AudioWorkletProcessor {
  private readonly block = new Float32Array(Math.round(sampleRate / 50));
  private filled = 0;

  process(inputs: Float32Array[][]): boolean {
    const input = inputs[0]?.[0];
    if (!input) return true;
    let offset = 0;
    while (offset < input.length) {
      const n = Math.min(input.length - offset, this.block.length - this.filled);
      this.block.set(input.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.block.length) {
        this.port.postMessage(this.block.slice());
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('mic-capture', MicCapture);
