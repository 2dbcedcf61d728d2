/** `GET /metrics`: Prometheus text with what a real call leaves behind. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAI } from '../fakes/index.js';
import { eventually, startServer, type TestServer } from '../helpers/app.js';
import { dialAndGreet, fixture, nextEcho } from '../helpers/calls.js';

let fake: FakeOpenAI;
let server: TestServer;
beforeAll(async () => {
  fake = await FakeOpenAI.start();
  fake.transcriptions.setDefault({ kind: 'text', text: 'Hello there.', delayMs: 50 });
  fake.chat.enqueue({ kind: 'error', status: 500 }, { kind: 'error', status: 500 });
  server = await startServer({ OPENAI_BASE_URL: fake.baseUrl, LOG_LEVEL: 'silent' });
});
afterAll(async () => {
  await server.close();
  await fake.close();
});

const scrape = async () => {
  const res = await server.voicebot.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body;
};
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('/metrics', () => {
  it('counts live and ended calls, turns by outcome, stage latencies, provider errors and VAD work', async () => {
    const call = await dialAndGreet(server.wsBase);
    expect(value(await scrape(), 'voicebot_live_calls')).toBe(1);
    const hello = await fixture('hello-16k.wav');
    const fallback = nextEcho(call, 'fallback_done');
    await call.say(hello); // the LLM fails twice: fallback line
    await fallback;
    const answered = nextEcho(call, 'response_done');
    await call.say(hello);
    await answered;
    await call.hangup();
    await eventually(() => server.voicebot.registry.size === 0);

    const text = await scrape();
    expect(value(text, 'voicebot_live_calls')).toBe(0);
    expect(value(text, 'voicebot_calls_total{status="completed"}')).toBe(1);
    expect(value(text, 'voicebot_call_endings_total{reason="caller_hangup"}')).toBe(1);
    expect(value(text, 'voicebot_turns_total{source="speech",outcome="fallback"}')).toBe(1);
    expect(value(text, 'voicebot_turns_total{source="speech",outcome="answered"}')).toBe(1);
    expect(value(text, 'voicebot_provider_errors_total{code="PROVIDER_SERVER_ERROR"}')).toBe(2);
    expect(value(text, 'voicebot_stage_duration_ms_count{stage="firstAudioMs"}')).toBe(2);
    expect(value(text, 'voicebot_stage_duration_ms_count{stage="llmFirstTokenMs"}')).toBe(1);
    expect(value(text, 'voicebot_stage_duration_ms_sum{stage="endpointMs"}')).toBeGreaterThan(
      2 * 400,
    );
    expect(value(text, 'voicebot_store_pending_writes')).toBe(0);
    // Silero scored the two utterances (2 × ~1 s of speech at 16 kHz: 32 ms windows).
    const windows = value(text, 'voicebot_vad_windows_total')!;
    const batches = value(text, 'voicebot_vad_batches_total')!;
    expect(windows).toBeGreaterThan(50);
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThanOrEqual(windows);
    // Scored on an inference thread (VAD_THREADS is at least 1 by default); a lone call's windows
    // are never held for company.
    const trips = value(text, 'voicebot_vad_trips_total')!;
    expect(trips).toBeGreaterThan(0);
    expect(trips).toBeLessThanOrEqual(windows);
    expect(value(text, 'voicebot_vad_held_trips_total')).toBe(0);
    // The playback lead: PLAYBACK_LEAD_MS (200), or more after a stall, up to PLAYBACK_LEAD_MAX_MS.
    const lead = value(text, 'voicebot_playback_lead_ms')!;
    expect(lead).toBeGreaterThanOrEqual(200);
    expect(lead).toBeLessThanOrEqual(400);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
  });

  it('reports how busy the event loop was since the previous scrape', async () => {
    await scrape(); // the window starts here
    const t0 = performance.now();
    let x = 0;
    while (performance.now() - t0 < 300) x += Math.sqrt(x + 1); // 300 ms without yielding
    expect(x).toBeGreaterThan(0);
    const busy = value(await scrape(), 'voicebot_event_loop_utilization')!;
    expect(busy).toBeGreaterThan(0.8);
    expect(busy).toBeLessThanOrEqual(1);

    await new Promise((resolve) => setTimeout(resolve, 300)); // 300 ms of waiting
    const idle = value(await scrape(), 'voicebot_event_loop_utilization')!;
    expect(idle).toBeLessThan(0.5);
    expect(idle).toBeGreaterThanOrEqual(0);
  });
});
