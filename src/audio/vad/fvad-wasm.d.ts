// Types for @echogarden/fvad-wasm (libfvad compiled with Emscripten), which ships none.
// Only the exports webrtc.ts uses; see libfvad's fvad.h for the C contract.
declare module '@echogarden/fvad-wasm' {
  export interface FvadModule {
    /** A new VAD instance (a pointer), or 0 when out of memory. */
    _fvad_new(): number;
    _fvad_free(handle: number): void;
    /** Clears all state and restores the default mode and sample rate. */
    _fvad_reset(handle: number): void;
    /** 0 on success, -1 for a mode outside 0..3. */
    _fvad_set_mode(handle: number, mode: number): number;
    /** 0 on success, -1 unless 8000, 16000, 32000 or 48000. */
    _fvad_set_sample_rate(handle: number, sampleRate: number): number;
    /** 1 voice, 0 no voice, -1 when `length` is not 10, 20 or 30 ms. */
    _fvad_process(handle: number, frame: number, length: number): number;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    /** View of the WASM heap; replaced when memory grows, so never keep a reference. */
    HEAP16: Int16Array;
  }
  const createFvadModule: (moduleArg?: object) => Promise<FvadModule>;
  export default createFvadModule;
}
