// One test per protocol rule of /work/shared/exotel-protocol.md, fed raw frame strings.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FRAME_BYTES,
  decode,
  encode,
  encodeMedia,
  encodeMediaFromBase64,
  type DecodeResult,
  type InboundEvent,
} from '../../src/telephony/exotel-codec.js';

// Five PCM16LE samples: 0, 1, -1, 32767, -32768.
const PCM = Buffer.from([0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x80]);
const PCM_B64 = PCM.toString('base64');

function ok(text: string): InboundEvent {
  const result = decode(text);
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.event;
}

function errorOf(result: DecodeResult): { code: string; message: string } {
  if (result.ok) throw new Error(`expected an error, got event ${result.event.event}`);
  return result.error;
}

function codeOf(text: string): string {
  return errorOf(decode(text)).code;
}

describe('decode: the documented frames', () => {
  it('decodes connected', () => {
    expect(ok('{"event":"connected"}')).toEqual({ event: 'connected' });
  });

  it('decodes start with numbers given as strings', () => {
    const frame = `{"event":"start","sequence_number":"1","stream_sid":"MZ1",
 "start":{"stream_sid":"MZ1","call_sid":"CA1","account_sid":"AC1",
          "from":"+919876543210","to":"+918047491899",
          "custom_parameters":{"agent":"loan_hi"},
          "media_format":{"encoding":"audio/x-raw","sample_rate":"16000","bit_rate":"16"}}}`;
    expect(ok(frame)).toEqual({
      event: 'start',
      sequenceNumber: 1,
      streamSid: 'MZ1',
      callSid: 'CA1',
      accountSid: 'AC1',
      from: '+919876543210',
      to: '+918047491899',
      customParameters: { agent: 'loan_hi' },
      mediaFormat: { encoding: 'audio/x-raw', sampleRate: 16000, bitRate: 16 },
    });
  });

  it('decodes media and base64-decodes its payload to PCM bytes', () => {
    const frame = `{"event":"media","sequence_number":"3","stream_sid":"MZ1",
 "media":{"chunk":"2","timestamp":"200","payload":"${PCM_B64}"}}`;
    const event = ok(frame);
    expect(event).toEqual({
      event: 'media',
      sequenceNumber: 3,
      streamSid: 'MZ1',
      chunk: 2,
      timestamp: 200,
      payload: PCM,
    });
    if (event.event !== 'media') throw new Error('not media');
    expect(Buffer.isBuffer(event.payload)).toBe(true);
    expect([...event.payload]).toEqual([...PCM]);
  });

  it('decodes dtmf, reading duration as durationMs', () => {
    const frame =
      '{"event":"dtmf","sequence_number":"7","stream_sid":"MZ1","dtmf":{"digit":"5","duration":"100"}}';
    expect(ok(frame)).toEqual({
      event: 'dtmf',
      sequenceNumber: 7,
      streamSid: 'MZ1',
      digit: '5',
      durationMs: 100,
    });
  });

  it('decodes mark with the name the bot gave it', () => {
    const frame =
      '{"event":"mark","sequence_number":"15","stream_sid":"MZ1","mark":{"name":"turn-3"}}';
    expect(ok(frame)).toEqual({
      event: 'mark',
      sequenceNumber: 15,
      streamSid: 'MZ1',
      name: 'turn-3',
    });
  });

  it('decodes stop', () => {
    const frame = `{"event":"stop","sequence_number":"20","stream_sid":"MZ1",
 "stop":{"call_sid":"CA1","account_sid":"AC1","reason":"callended"}}`;
    expect(ok(frame)).toEqual({
      event: 'stop',
      sequenceNumber: 20,
      streamSid: 'MZ1',
      callSid: 'CA1',
      accountSid: 'AC1',
      reason: 'callended',
    });
  });

  it('accepts an inbound clear (other bridges send it for barge-in)', () => {
    expect(ok('{"event":"clear","stream_sid":"MZ1"}')).toEqual({
      event: 'clear',
      streamSid: 'MZ1',
    });
  });
});

describe('decode: tolerance rules', () => {
  it('reads camelCase keys in start', () => {
    const frame = `{"event":"start","sequenceNumber":1,"streamSid":"MZ1",
 "start":{"streamSid":"MZ1","callSid":"CA1","accountSid":"AC1",
          "customParameters":{"agent":"loan_hi"},
          "mediaFormat":{"encoding":"raw","sampleRate":24000,"bitRate":128}}}`;
    expect(ok(frame)).toEqual({
      event: 'start',
      sequenceNumber: 1,
      streamSid: 'MZ1',
      callSid: 'CA1',
      accountSid: 'AC1',
      customParameters: { agent: 'loan_hi' },
      mediaFormat: { encoding: 'raw', sampleRate: 24000, bitRate: 128 },
    });
  });

  it('reads camelCase streamSid and sequenceNumber on media, mark, dtmf and stop', () => {
    const envelope = '"sequenceNumber":"4","streamSid":"MZ9"';
    const frames = [
      `{"event":"media",${envelope},"media":{"payload":"${PCM_B64}"}}`,
      `{"event":"mark",${envelope},"mark":{"name":"m"}}`,
      `{"event":"dtmf",${envelope},"dtmf":{"digit":"1"}}`,
      `{"event":"stop",${envelope},"stop":{"callSid":"CA1","accountSid":"AC1"}}`,
    ];
    for (const frame of frames) {
      expect(ok(frame)).toMatchObject({ sequenceNumber: 4, streamSid: 'MZ9' });
    }
    expect(ok(frames[3] ?? '')).toMatchObject({ callSid: 'CA1', accountSid: 'AC1' });
  });

  it('finds stream_sid of start at the top level only', () => {
    const event = ok('{"event":"start","stream_sid":"MZ1","start":{"call_sid":"CA1"}}');
    expect(event).toMatchObject({ event: 'start', streamSid: 'MZ1', callSid: 'CA1' });
  });

  it('finds stream_sid of start inside start only', () => {
    const event = ok('{"event":"start","start":{"stream_sid":"MZ2","call_sid":"CA1"}}');
    expect(event).toMatchObject({ event: 'start', streamSid: 'MZ2' });
  });

  it('prefers start.stream_sid when both spellings disagree', () => {
    const event = ok('{"event":"start","stream_sid":"MZ1","start":{"stream_sid":"MZ2"}}');
    expect(event).toMatchObject({ streamSid: 'MZ2' });
  });

  it('accepts start with no custom_parameters (empty record) and no media_format', () => {
    const event = ok('{"event":"start","stream_sid":"MZ1"}');
    expect(event).toEqual({ event: 'start', streamSid: 'MZ1', customParameters: {} });
  });

  it('reads numbers given as integers', () => {
    const frame = `{"event":"media","sequence_number":3,"stream_sid":"MZ1",
 "media":{"chunk":2,"timestamp":200,"payload":"${PCM_B64}"}}`;
    expect(ok(frame)).toMatchObject({ sequenceNumber: 3, chunk: 2, timestamp: 200 });
    const start = ok(
      '{"event":"start","stream_sid":"MZ1","start":{"media_format":{"sample_rate":8000}}}',
    );
    expect(start).toMatchObject({ mediaFormat: { sampleRate: 8000 } });
  });

  it.each([
    [
      'sequence_number',
      `{"event":"media","sequence_number":"three","media":{"payload":"${PCM_B64}"}}`,
    ],
    ['media.chunk', `{"event":"media","media":{"chunk":"2a","payload":"${PCM_B64}"}}`],
    ['media.timestamp', `{"event":"media","media":{"timestamp":"","payload":"${PCM_B64}"}}`],
    ['media.timestamp', `{"event":"media","media":{"timestamp":-5,"payload":"${PCM_B64}"}}`],
    ['media.timestamp', `{"event":"media","media":{"timestamp":true,"payload":"${PCM_B64}"}}`],
    ['dtmf.duration', `{"event":"dtmf","dtmf":{"digit":"1","duration":"long"}}`],
    [
      'start.media_format.sample_rate',
      `{"event":"start","stream_sid":"MZ1","start":{"media_format":{"sample_rate":"16k"}}}`,
    ],
  ])('rejects a non-numeric %s with FRAME_SHAPE naming the field', (field, frame) => {
    const error = errorOf(decode(frame));
    expect(error.code).toBe('FRAME_SHAPE');
    expect(error.message).toContain(field);
  });

  it('does not depend on encoding or bit_rate values', () => {
    for (const [encoding, bitRate] of [
      ['"raw"', '"128"'],
      ['"audio/x-raw"', '16'],
      ['"linear16"', '16'],
      ['"audio/x-l16"', '"16"'],
      ['42', '"lots"'],
      ['null', '{}'],
    ]) {
      const frame = `{"event":"start","stream_sid":"MZ1","start":{"media_format":
        {"encoding":${encoding},"sample_rate":"8000","bit_rate":${bitRate}}}}`;
      expect(ok(frame)).toMatchObject({ mediaFormat: { sampleRate: 8000 } });
    }
    // Integer and string rates alike.
    expect(
      ok(
        '{"event":"start","start":{"media_format":{"encoding":"audio/x-l16","sample_rate":16000}}}',
      ),
    ).toMatchObject({ mediaFormat: { encoding: 'audio/x-l16', sampleRate: 16000 } });
    expect(
      ok(
        '{"event":"start","stream_sid":"MZ1","start":{"media_format":{"encoding":7,"bit_rate":"x"}}}',
      ),
    ).toMatchObject({ mediaFormat: { encoding: undefined, bitRate: undefined } });
  });

  it('stringifies custom parameter values that are numbers or booleans', () => {
    const frame =
      '{"event":"start","stream_sid":"MZ1","start":{"custom_parameters":{"a":"x","n":42,"f":1.5,"b":true}}}';
    expect(ok(frame)).toMatchObject({
      customParameters: { a: 'x', n: '42', f: '1.5', b: 'true' },
    });
  });

  it('drops custom parameter values that are objects, arrays or null', () => {
    const frame =
      '{"event":"start","stream_sid":"MZ1","start":{"custom_parameters":{"keep":"1","o":{"x":1},"a":[1],"z":null}}}';
    const event = ok(frame);
    if (event.event !== 'start') throw new Error('not start');
    expect(event.customParameters).toEqual({ keep: '1' });
  });

  it('keeps a __proto__ custom parameter as a plain key', () => {
    const frame =
      '{"event":"start","stream_sid":"MZ1","start":{"custom_parameters":{"__proto__":"p"}}}';
    const event = ok(frame);
    if (event.event !== 'start') throw new Error('not start');
    expect(Object.keys(event.customParameters)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(event.customParameters)).toBe(Object.prototype);
  });

  it('rejects custom_parameters that is not an object', () => {
    for (const value of ['"agent=loan"', '["a"]', '3']) {
      const frame = `{"event":"start","stream_sid":"MZ1","start":{"custom_parameters":${value}}}`;
      expect(codeOf(frame)).toBe('FRAME_SHAPE');
    }
  });

  it('treats stop.reason as free text and accepts a stop without a body', () => {
    expect(ok('{"event":"stop","stop":{"reason":"Stream timed out (60 min)"}}')).toMatchObject({
      reason: 'Stream timed out (60 min)',
    });
    expect(ok('{"event":"stop","stream_sid":"MZ1"}')).toEqual({
      event: 'stop',
      streamSid: 'MZ1',
    });
  });

  it('accepts every DTMF digit 0-9, *, #, A-D', () => {
    for (const digit of '0123456789*#ABCD') {
      expect(ok(`{"event":"dtmf","dtmf":{"digit":"${digit}"}}`)).toMatchObject({ digit });
    }
  });

  it('upper-cases a-d and reads an integer digit', () => {
    expect(ok('{"event":"dtmf","dtmf":{"digit":"b"}}')).toMatchObject({ digit: 'B' });
    expect(ok('{"event":"dtmf","dtmf":{"digit":5}}')).toMatchObject({ digit: '5' });
  });

  it.each([['"E"'], ['"55"'], ['""'], ['12'], ['null'], ['true']])(
    'rejects DTMF digit %s with FRAME_SHAPE',
    (digit) => {
      expect(codeOf(`{"event":"dtmf","dtmf":{"digit":${digit}}}`)).toBe('FRAME_SHAPE');
    },
  );

  it('ignores unknown keys', () => {
    const frame = `{"event":"media","protocol":"x","media":{"track":"inbound","payload":"${PCM_B64}"}}`;
    expect(ok(frame)).toMatchObject({ event: 'media', payload: PCM });
  });
});

describe('decode: malformed frames', () => {
  it('rejects text that is not JSON with FRAME_JSON', () => {
    expect(codeOf('{"event":"media",')).toBe('FRAME_JSON');
    expect(codeOf('')).toBe('FRAME_JSON');
  });

  it.each([['[]'], ['null'], ['42'], ['"media"'], ['true']])(
    'rejects JSON %s that is not an object with FRAME_JSON',
    (text) => {
      expect(codeOf(text)).toBe('FRAME_JSON');
    },
  );

  it.each([
    ['missing', '{"stream_sid":"MZ1"}'],
    ['null', '{"event":null}'],
    ['non-string', '{"event":3}'],
    ['unknown', '{"event":"interrupt"}'],
    ['wrong case', '{"event":"Media"}'],
  ])('rejects a %s event with FRAME_UNKNOWN_EVENT', (_label, text) => {
    expect(codeOf(text)).toBe('FRAME_UNKNOWN_EVENT');
  });

  it('rejects media without payload, with a non-string payload or without a media body', () => {
    expect(codeOf('{"event":"media","stream_sid":"MZ1","media":{"chunk":"1"}}')).toBe(
      'FRAME_SHAPE',
    );
    expect(codeOf('{"event":"media","media":{"payload":123}}')).toBe('FRAME_SHAPE');
    expect(codeOf('{"event":"media","stream_sid":"MZ1"}')).toBe('FRAME_SHAPE');
    expect(codeOf('{"event":"media","media":"AAAA"}')).toBe('FRAME_SHAPE');
  });

  it('accepts start without stream_sid (Exotel tells streams apart by the socket)', () => {
    expect(ok('{"event":"start","start":{"call_sid":"CA1"}}')).toEqual({
      event: 'start',
      callSid: 'CA1',
      customParameters: {},
    });
    expect(ok('{"event":"start","stream_sid":"","start":{}}')).not.toHaveProperty('streamSid');
    // The shape Exotel's own test client (exotel/Agent-Stream tests/bot-test.js) sends.
    const agentStream = ok(
      '{"event":"start","start":{"call_sid":"CA1","media_format":{"encoding":"linear16","sample_rate":8000,"bit_rate":16}}}',
    );
    expect(agentStream).toMatchObject({
      callSid: 'CA1',
      mediaFormat: { encoding: 'linear16', sampleRate: 8000, bitRate: 16 },
    });
  });

  it('rejects start with a non-string stream_sid or a start that is not an object', () => {
    expect(codeOf('{"event":"start","start":{"stream_sid":7}}')).toBe('FRAME_SHAPE');
    expect(codeOf('{"event":"start","stream_sid":"MZ1","start":"MZ1"}')).toBe('FRAME_SHAPE');
  });

  it('rejects mark without a name, or with an empty one', () => {
    expect(codeOf('{"event":"mark","mark":{}}')).toBe('FRAME_SHAPE');
    expect(codeOf('{"event":"mark","mark":{"name":""}}')).toBe('FRAME_SHAPE');
    expect(codeOf('{"event":"mark","stream_sid":"MZ1"}')).toBe('FRAME_SHAPE');
  });

  it('rejects dtmf without a dtmf body', () => {
    expect(codeOf('{"event":"dtmf","stream_sid":"MZ1"}')).toBe('FRAME_SHAPE');
  });

  it('rejects wrong-typed optional strings with FRAME_SHAPE', () => {
    expect(codeOf('{"event":"start","stream_sid":"MZ1","start":{"call_sid":5}}')).toBe(
      'FRAME_SHAPE',
    );
    expect(codeOf('{"event":"stop","stop":{"reason":{"code":1}}}')).toBe('FRAME_SHAPE');
    expect(codeOf('{"event":"mark","stream_sid":1,"mark":{"name":"m"}}')).toBe('FRAME_SHAPE');
  });

  it('rejects a payload that is not base64 with FRAME_BASE64', () => {
    expect(codeOf('{"event":"media","media":{"payload":"@@@@"}}')).toBe('FRAME_BASE64');
    expect(codeOf('{"event":"media","media":{"payload":"not base64!"}}')).toBe('FRAME_BASE64');
  });

  it('rejects a frame larger than maxBytes with FRAME_TOO_LARGE', () => {
    const frame = `{"event":"media","media":{"payload":"${'A'.repeat(4000)}"}}`;
    expect(errorOf(decode(frame, { maxBytes: 1000 })).code).toBe('FRAME_TOO_LARGE');
    expect(decode(frame, { maxBytes: frame.length }).ok).toBe(true);
  });

  it('counts maxBytes in UTF-8 bytes, not characters', () => {
    const frame = '{"event":"mark","mark":{"name":"नमस्ते"}}'; // Devanagari: 3 bytes each
    const bytes = Buffer.byteLength(frame, 'utf8');
    expect(bytes).toBeGreaterThan(frame.length);
    expect(errorOf(decode(frame, { maxBytes: bytes - 1 })).code).toBe('FRAME_TOO_LARGE');
    expect(decode(frame, { maxBytes: bytes }).ok).toBe(true);
  });

  it('applies a 64 KiB limit by default (ten times the largest frame Exotel sends)', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(64 * 1024);
    const payload = 'A'.repeat(DEFAULT_MAX_FRAME_BYTES);
    expect(codeOf(`{"event":"media","media":{"payload":"${payload}"}}`)).toBe('FRAME_TOO_LARGE');
  });

  it('never echoes frame contents in error messages', () => {
    const phone = '919876543210';
    const cases = [
      `{"event":"start","start":{"stream_sid":${phone}}}`,
      `{"event":"start","stream_sid":"MZ1","start":{"from":${phone}}}`,
      `{"event":"media","media":{"payload":"${phone}!"}}`,
      `{"event":"media","media":{"chunk":"${phone}x","payload":"${PCM_B64}"}}`,
      `{"event":"call${phone}"}`,
      `{"event":"media","secret":"${phone}"`,
      `{"event":"dtmf","dtmf":{"digit":"${phone}"}}`,
      `[${phone}]`,
    ];
    for (const frame of cases) {
      const { message } = errorOf(decode(frame));
      expect(message).not.toContain(phone);
      expect(message.length).toBeGreaterThan(0);
    }
  });

  it('does not quote an unknown event name back', () => {
    expect(errorOf(decode('{"event":"interrupt"}')).message).not.toContain('interrupt');
  });
});

describe('encode', () => {
  it('encodes media from bytes exactly as documented', () => {
    expect(encode({ event: 'media', streamSid: 'MZ1', payload: PCM })).toBe(
      `{"event":"media","stream_sid":"MZ1","media":{"payload":"${PCM_B64}"}}`,
    );
  });

  it('encodes media from a base64 string without re-encoding it', () => {
    expect(encode({ event: 'media', streamSid: 'MZ1', payload: PCM_B64 })).toBe(
      `{"event":"media","stream_sid":"MZ1","media":{"payload":"${PCM_B64}"}}`,
    );
    expect(encodeMediaFromBase64('MZ1', PCM_B64)).toBe(
      encode({ event: 'media', streamSid: 'MZ1', payload: PCM }),
    );
  });

  it('encodes only the bytes of a Uint8Array view', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    const view = backing.subarray(2, 5);
    expect(encode({ event: 'media', streamSid: 'MZ1', payload: view })).toBe(
      `{"event":"media","stream_sid":"MZ1","media":{"payload":"${Buffer.from([1, 2, 3]).toString('base64')}"}}`,
    );
  });

  it('quotes its own base64 unescaped, the same text JSON.stringify gives, for every base64 character', () => {
    // Bytes 0-255 at three alignments give all 64 characters and both kinds of '=' padding.
    for (const length of [256, 257, 258]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
      const b64 = Buffer.from(bytes).toString('base64');
      expect(new Set(b64.replace(/=/g, '')).size).toBe(64);
      for (const sid of ['MZ1', undefined]) {
        expect(encodeMedia(sid, bytes)).toBe(
          JSON.stringify({
            event: 'media',
            ...(sid === undefined ? {} : { stream_sid: sid }),
            media: { payload: b64 },
          }),
        );
      }
    }
  });

  it('still escapes a base64 string it is handed, so a bad one cannot break the message', () => {
    const text = encodeMediaFromBase64('MZ1', 'QUJD"},"event":"clear');
    expect(JSON.parse(text)).toEqual({
      event: 'media',
      stream_sid: 'MZ1',
      media: { payload: 'QUJD"},"event":"clear' },
    });
  });

  it('encodes mark exactly as documented', () => {
    expect(encode({ event: 'mark', streamSid: 'MZ1', name: 'turn-3' })).toBe(
      '{"event":"mark","stream_sid":"MZ1","mark":{"name":"turn-3"}}',
    );
  });

  it('encodes clear exactly as documented', () => {
    expect(encode({ event: 'clear', streamSid: 'MZ1' })).toBe(
      '{"event":"clear","stream_sid":"MZ1"}',
    );
  });

  it('leaves stream_sid out when the call has none', () => {
    expect(encode({ event: 'mark', streamSid: undefined, name: 'm-1' })).toBe(
      '{"event":"mark","mark":{"name":"m-1"}}',
    );
    expect(encode({ event: 'clear', streamSid: undefined })).toBe('{"event":"clear"}');
    expect(JSON.parse(encodeMediaFromBase64(undefined, PCM_B64))).toEqual({
      event: 'media',
      media: { payload: PCM_B64 },
    });
  });

  it('escapes strings so the output is always valid JSON', () => {
    const sid = 'MZ"1\\\n';
    for (const text of [
      encode({ event: 'media', streamSid: sid, payload: PCM }),
      encode({ event: 'mark', streamSid: sid, name: 'a"b' }),
      encode({ event: 'clear', streamSid: sid }),
    ]) {
      expect((JSON.parse(text) as { stream_sid: string }).stream_sid).toBe(sid);
    }
  });

  it('round-trips payload bytes through encode and decode', () => {
    const bytes = Buffer.alloc(640);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37) & 0xff;
    const event = ok(encode({ event: 'media', streamSid: 'MZ1', payload: bytes }));
    expect(event).toMatchObject({ event: 'media', streamSid: 'MZ1' });
    if (event.event !== 'media') throw new Error('not media');
    expect(event.payload.equals(bytes)).toBe(true);
    expect(ok(encode({ event: 'mark', streamSid: 'MZ1', name: 'turn-3' }))).toEqual({
      event: 'mark',
      streamSid: 'MZ1',
      name: 'turn-3',
    });
    expect(ok(encode({ event: 'clear', streamSid: 'MZ1' }))).toEqual({
      event: 'clear',
      streamSid: 'MZ1',
    });
  });
});
