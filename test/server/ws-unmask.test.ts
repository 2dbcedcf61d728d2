// Every WebSocket frame a caller sends is masked (RFC 6455 section 5.3), so ws unmasks every
// inbound byte: natively with bufferutil, an optional dependency, else in a JavaScript loop that
// costs 3-7 us a 100 ms Exotel frame (README, Performance). This checks that the native module
// loads here, unmasks as the RFC says, and is the one ws uses.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const require = createRequire(import.meta.url);

interface Unmasker {
  unmask(buffer: Buffer, mask: Buffer): void;
}

describe('inbound WebSocket frames', () => {
  it('are unmasked natively, by bufferutil through ws', () => {
    const native = require('bufferutil') as Unmasker;
    const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
    const frame = Buffer.from(
      JSON.stringify({ event: 'media', media: { payload: 'QUJD'.repeat(500) } }),
    );
    const masked = () => Buffer.from(frame.map((b, i) => b ^ mask[i & 3]!));

    const a = masked();
    expect(a.equals(frame)).toBe(false);
    native.unmask(a, mask);
    expect(a.equals(frame)).toBe(true);

    const spy = vi.spyOn(native, 'unmask');
    // ws exports no deep paths; its own module, by file, is the one its receiver loaded.
    const ws = require(join(dirname(require.resolve('ws')), 'lib', 'buffer-util.js')) as Unmasker;
    const b = masked();
    ws.unmask(b, mask);
    expect(b.equals(frame)).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });
});
