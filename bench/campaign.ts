/**
 * `npm run bench:campaign`: a 1,000-row campaign (ROWS to change it) against the fake Exotel at
 * Exotel's own rate limit (200 API requests a minute), through a real server on SQLite. The
 * numbers answer (70 %), are busy (15 %), do not answer (10 %) or fail (5 %); one call in 20 never
 * gets its status callback (the call details API has to find it). Busy and unanswered rows are
 * retried once. Prints the wall time, calls placed a minute, Exotel's 429s, and checks that every
 * row ended and none was dialled more often than its attempts.
 */
import { FakeExotel } from '../test/fakes/exotel-api.js';
import { FakeOpenAI } from '../test/fakes/index.js';
import { startServer } from '../test/helpers/app.js';
import { freePort } from '../test/helpers/server-process.js';

const ROWS = Number(process.env.ROWS ?? 1000);
const KEY = 'campaign-bench-key-0123456';

const openai = await FakeOpenAI.start();
openai.speech.setDefault({ kind: 'audio', firstByteDelayMs: 50, realtimeFactor: 4 });
openai.transcriptions.setDefault({ kind: 'text', text: 'Haan.', delayMs: 50 });
openai.chat.setDefault({
  kind: 'stream',
  tokens: 'Dhanyavaad.',
  firstTokenDelayMs: 50,
  perTokenMs: 5,
});
const exotel = await FakeExotel.start();
const port = await freePort();
const server = await startServer({
  OPENAI_BASE_URL: openai.baseUrl,
  ADMIN_API_KEY: KEY,
  GREETING_TEXT: 'Namaste.',
  PORT: String(port),
  PUBLIC_URL: `http://127.0.0.1:${port}`,
  LOG_LEVEL: 'warn',
  OUTBOUND_MAX_CALLS: '100',
  OUTBOUND_CHECK_AFTER_MS: '20000',
  ...exotel.env(),
});
const attempts: Record<string, number> = {};
exotel.onDial((to) => {
  attempts[to] = (attempts[to] ?? 0) + 1;
  const n = Number(to.slice(-4));
  const callback = n % 20 === 7 ? ('never' as const) : ('on-time' as const);
  const kind = n % 20;
  if (kind < 14) return { outcome: 'answer', ringMs: 300, callback };
  if (kind < 17) return { outcome: 'busy', ringMs: 300, callback };
  if (kind < 19) return { outcome: 'no-answer', ringMs: 1000, callback };
  return { outcome: 'failed', ringMs: 100, callback };
});

const rows = Array.from({ length: ROWS }, (_, i) => ({
  to: `98${String(10_000_000 + i).padStart(8, '0')}`,
  customer_name: `Customer ${i}`,
}));
const t0 = performance.now();
const res = await fetch(`${server.httpBase}/api/campaigns`, {
  method: 'POST',
  headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
  body: JSON.stringify({
    name: 'bench',
    rows,
    concurrency: 50,
    calls_per_second: 10,
    window: { start: '00:00', end: '00:00', timezone: 'Asia/Kolkata' },
    retry: { on: ['busy', 'no-answer'], max_attempts: 2, after_ms: 0 },
  }),
});
const { id } = (await res.json()) as { id: string };
interface View {
  status: string;
  counts: { done: number; outcomes: Record<string, number> };
  rows: Array<{ to: string; attempts: number; status: string }>;
}
let view: View;
for (;;) {
  await new Promise((r) => setTimeout(r, 2_000));
  view = (await (
    await fetch(`${server.httpBase}/api/campaigns/${id}`, {
      headers: { authorization: `Bearer ${KEY}` },
    })
  ).json()) as View;
  if (view.status === 'completed') break;
  const minutes = (performance.now() - t0) / 60_000;
  process.stderr.write(
    `\r${minutes.toFixed(1)} min: ${view.counts.done}/${ROWS} rows done, ${exotel.placed.length} calls placed`,
  );
}
const wallMin = (performance.now() - t0) / 60_000;
const placed = exotel.placed.length;
const duplicates = view.rows.filter((r) => (attempts[`+91${r.to.slice(-10)}`] ?? 0) !== r.attempts);
const lost = view.rows.filter((r) => r.status !== 'done');
const requests = exotel.requests.length;
console.log(
  `\ncampaign of ${ROWS} rows against the fake Exotel at ${exotel.perMinute} requests/min`,
);
console.log(
  `| wall time | calls placed | calls/min | API requests | 429s | details lookups | rows not done | rows dialled ≠ attempts |`,
);
console.log('|---|---|---|---|---|---|---|---|');
console.log(
  `| ${wallMin.toFixed(1)} min | ${placed} | ${(placed / wallMin).toFixed(0)} | ${requests} | ${exotel.requests.filter((r) => r.status === 429).length} | ${exotel.requests.filter((r) => r.method === 'GET').length} | ${lost.length} | ${duplicates.length} |`,
);
console.log('outcomes:', JSON.stringify(view.counts.outcomes));
await exotel.close();
await server.close();
await openai.close();
if (lost.length > 0 || duplicates.length > 0) process.exit(1);
