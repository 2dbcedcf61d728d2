import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { VoicebotError } from '../../src/errors.js';

describe('loadConfig', () => {
  it('fails without OPENAI_API_KEY, naming the variable', () => {
    expect(() => loadConfig({})).toThrow(/OPENAI_API_KEY is required/);
    try {
      loadConfig({ OPENAI_API_KEY: '  ' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(VoicebotError);
      expect((err as VoicebotError).code).toBe('CONFIG_INVALID');
    }
  });

  it('applies the documented defaults', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'k' });
    expect(c.port).toBe(8080);
    expect(c.host).toBe('0.0.0.0');
    expect(c.tts.model).toBe('tts-1-hd');
    expect(c.tts.voice).toBe('shimmer');
    expect(c.publicUrl).toBeUndefined();
    expect(c.openai.baseUrl).toBeUndefined();
    expect(c.playback.frameMs).toBe(20);
    expect(c.logLevel).toBe('info');
  });

  it('reads every contract variable', () => {
    const c = loadConfig({
      OPENAI_API_KEY: 'k',
      PORT: '9000',
      HOST: '127.0.0.1',
      PUBLIC_URL: 'https://bot.example.com',
      OPENAI_BASE_URL: 'http://localhost:1234/v1',
      TTS_MODEL: 'gpt-4o-mini-tts',
      TTS_VOICE: 'alloy',
      GREETING_TEXT: 'Hello there',
      LOG_LEVEL: 'debug',
    });
    expect(c).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      publicUrl: 'https://bot.example.com',
      openai: { apiKey: 'k', baseUrl: 'http://localhost:1234/v1' },
      tts: { model: 'gpt-4o-mini-tts', voice: 'alloy' },
      greetingText: 'Hello there',
      logLevel: 'debug',
    });
  });

  it('rejects bad values with the variable name', () => {
    expect(() => loadConfig({ OPENAI_API_KEY: 'k', PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ OPENAI_API_KEY: 'k', PUBLIC_URL: 'not a url' })).toThrow(
      /PUBLIC_URL/,
    );
    expect(() => loadConfig({ OPENAI_API_KEY: 'k', LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ OPENAI_API_KEY: 'k', PLAYBACK_FRAME_MS: '25' })).toThrow(
      /PLAYBACK_FRAME_MS/,
    );
  });

  it('learns the start cushion only when PLAYBACK_START_ADAPTIVE is set', () => {
    expect(loadConfig({ OPENAI_API_KEY: 'k' }).playback.startAdaptive).toBe(false);
    expect(
      loadConfig({ OPENAI_API_KEY: 'k', PLAYBACK_START_ADAPTIVE: 'true' }).playback.startAdaptive,
    ).toBe(true);
    expect(() => loadConfig({ OPENAI_API_KEY: 'k', PLAYBACK_START_ADAPTIVE: 'yes' })).toThrow(
      /PLAYBACK_START_ADAPTIVE/,
    );
  });

  it('treats an empty optional URL as unset', () => {
    expect(loadConfig({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: '' }).openai.baseUrl).toBeUndefined();
  });

  it('returns a frozen object', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'k' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.tts)).toBe(true);
  });
});
