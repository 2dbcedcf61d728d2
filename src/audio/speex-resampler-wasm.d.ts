// Types for @echogarden/speex-resampler-wasm (SpeexDSP's resampler compiled with Emscripten), which
// ships none. Only the exports resample.ts uses; see speexdsp's speex_resampler.h for the C contract.
declare module '@echogarden/speex-resampler-wasm' {
  export interface SpeexModule {
    /** A new resampler state (a pointer), or 0 with an error code written at `errorPointer`. */
    _speex_resampler_init(
      channels: number,
      inRate: number,
      outRate: number,
      quality: number,
      errorPointer: number,
    ): number;
    _speex_resampler_destroy(state: number): void;
    /**
     * Resamples up to `*inLength` samples into up to `*outLength`; both are updated with the
     * counts consumed and written. Returns 0 or an error code.
     */
    _speex_resampler_process_int(
      state: number,
      channel: number,
      input: number,
      inLength: number,
      output: number,
      outLength: number,
    ): number;
    /** Makes the output start at input time 0 instead of after the filter's delay. */
    _speex_resampler_skip_zeros(state: number): number;
    /** Clears the filter memory, keeping the rates and the filter. */
    _speex_resampler_reset_mem(state: number): number;
    _speex_resampler_get_output_latency(state: number): number;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    /** Views of the WASM heap; replaced when memory grows, so never keep a reference. */
    HEAP16: Int16Array;
    HEAPU32: Uint32Array;
  }
  const createSpeexModule: (moduleArg?: object) => Promise<SpeexModule>;
  export default createSpeexModule;
}

declare module '@echogarden/speex-resampler-wasm/simd' {
  import type createSpeexModule from '@echogarden/speex-resampler-wasm';
  const createSimdModule: typeof createSpeexModule;
  export default createSimdModule;
}
