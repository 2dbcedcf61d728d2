/**
 * What happens around a call when its peer, the network, the database or the server itself
 * fails: each row names the test that shows it (a file and the exact title of a test in it).
 * `faults-doc.test.ts` checks that every named test exists, and `docs/faults.md` is rendered
 * from these rows and the conversation's (`npm run docs:faults`).
 */

export interface ServerFault {
  fault: string;
  /** What the caller (or the peer: Exotel, a client) sees. */
  seen: string;
  /** What the call record, the logs or the metrics hold. */
  stored: string;
  test: { file: string; title: string };
}

export const SERVER_FAULTS: ServerFault[] = [
  {
    fault: 'Malformed frames (not JSON, wrong shape, bad base64, unknown event)',
    seen: 'Nothing: the frame is dropped and the call goes on',
    stored: 'A warning with the frame code (`FRAME_JSON`, `FRAME_SHAPE`, …); no frame content',
    test: {
      file: 'test/e2e/greeting.test.ts',
      title: 'are logged with a code and dropped; the call goes on',
    },
  },
  {
    fault: 'A frame over `WS_MAX_PAYLOAD_BYTES` (64 KiB)',
    seen: 'The socket is closed with 1009',
    stored: 'The record ends (`connection_lost`); a `WS_ERROR` warning is logged',
    test: {
      file: 'test/e2e/greeting.test.ts',
      title: 'closes the socket with 1009 on a frame over WS_MAX_PAYLOAD_BYTES',
    },
  },
  {
    fault: 'A `start` with too many or too long custom parameters',
    seen: 'The greeting, as usual',
    stored: 'The parameters cut to their bounds, with a coded warning',
    test: {
      file: 'test/e2e/greeting.test.ts',
      title:
        'bounds the custom parameters of a start frame (count, length, total) and still greets',
    },
  },
  {
    fault: 'A `start` without `stream_sid`',
    seen: 'The call runs; frames are sent without a stream sid',
    stored: 'A normal record',
    test: {
      file: 'test/e2e/greeting.test.ts',
      title: "runs a call whose start has no stream_sid (Exotel's test client), frames without one",
    },
  },
  {
    fault: 'An unsupported sample rate',
    seen: 'The socket is closed with 1008, reason `SAMPLE_RATE_UNSUPPORTED`',
    stored: 'The code, logged',
    test: {
      file: 'test/e2e/greeting.test.ts',
      title:
        'closes a stream at an unsupported sample rate with a policy-violation code and reason',
    },
  },
  {
    fault: 'A greeting longer than TTS accepts (4096 characters)',
    seen: 'The whole greeting, synthesized in pieces',
    stored: 'A normal record',
    test: {
      file: 'test/e2e/greeting.test.ts',
      title:
        'says a greeting longer than TTS accepts in pieces, each within the 4096-character limit',
    },
  },
  {
    fault: 'TTS fails, stalls or hangs on the greeting',
    seen: 'No greeting (given up after two attempts of `TTS_TIMEOUT_MS` at most); the call stays open and answers the caller',
    stored:
      'The error code (`PROVIDER_SERVER_ERROR`, `PROVIDER_STALLED`, `PROVIDER_TIMEOUT`), logged',
    test: {
      file: 'test/e2e/greeting.test.ts',
      title: 'gives up on a TTS request that never answers',
    },
  },
  {
    fault: 'A TCP connection that never sends a byte',
    seen: 'Closed after `HTTP_IDLE_TIMEOUT_MS`',
    stored: 'Nothing (it is not a call)',
    test: {
      file: 'test/server/connections.test.ts',
      title: 'closes a TCP connection that never sends a byte',
    },
  },
  {
    fault: 'A WebSocket that never sends `start`',
    seen: 'Closed with 1008 `START_TIMEOUT` after `START_TIMEOUT_MS`',
    stored: 'No record; counted in `/metrics`',
    test: {
      file: 'test/server/connections.test.ts',
      title: 'closes a WebSocket that sends no start, records nothing and counts it',
    },
  },
  {
    fault: 'A call whose peer goes silent (no frames at all)',
    seen: 'Closed with 1008 `NO_MEDIA` after `INBOUND_IDLE_TIMEOUT_MS`',
    stored: 'The record ends, saying how',
    test: {
      file: 'test/server/connections.test.ts',
      title: 'ends a started call whose peer goes silent, and records how',
    },
  },
  {
    fault: 'Too many connections from one address, or too many calls',
    seen: 'The upgrade is answered 503',
    stored: 'Nothing (it is not a call)',
    test: {
      file: 'test/server/connections.test.ts',
      title: 'answers 503 past MAX_CONNECTIONS_PER_IP, and takes a new one when a place frees up',
    },
  },
  {
    fault: 'A stream without the Basic credentials, or from an address not allowed',
    seen: '401 or 403 before the upgrade',
    stored: 'Nothing',
    test: {
      file: 'test/server/exotel-auth.test.ts',
      title:
        'refuses the upgrade without the credentials, takes it with them (wss://key:token@host)',
    },
  },
  {
    fault: 'Wrong admin keys, again and again',
    seen: '429 with `Retry-After` after five, longer each time',
    stored: 'Nothing',
    test: {
      file: 'test/server/admin-surface.test.ts',
      title:
        'answers 429 with Retry-After after five wrong keys, even to the right one, then lets it in',
    },
  },
  {
    fault: 'The database is down for 30 s during calls',
    seen: 'Nothing: the calls go on',
    stored: 'Every record and turn, written when the database is back',
    test: {
      file: 'test/e2e/database-outage.test.ts',
      title: 'keeps every record of calls that ran through the outage',
    },
  },
  {
    fault: 'SIGTERM with live calls',
    seen: 'New calls get 503; live calls hear the goodbye at the deadline and close with 1001',
    stored: 'Ended by `shutdown`',
    test: {
      file: 'test/server/drain.test.ts',
      title: 'refuses new calls, then says goodbye to the live ones and closes them with 1001',
    },
  },
  {
    fault: 'The server is killed (SIGKILL) with live calls',
    seen: 'The calls drop',
    stored:
      'Finalised as `abandoned` (`server_lost`) by the next live instance once the lease lapses; turns kept',
    test: {
      file: 'test/server/crash.test.ts',
      title: 'has its calls finalised as abandoned by the next server',
    },
  },
  {
    fault: "Exotel's answer to a call placement is lost (a reset, a timeout, a 5xx)",
    seen: 'The callee rings at most once: the placement is not sent again',
    stored:
      "The outbound row waits without a Sid (`EXOTEL_UNCERTAIN`); the `answered` callback, its stream or Exotel's call list gives it one, else it ends `failed` (`OUTBOUND_NOT_PLACED`)",
    test: {
      file: 'test/outbound/unplaced.test.ts',
      title:
        'is what a placement whose answer was lost leaves: never sent twice, settled by the list',
    },
  },
  {
    fault: 'The server dies after storing a campaign call, before Exotel took it',
    seen: 'The row is dialled once, by the next instance',
    stored: 'The lost attempt (`OUTBOUND_NOT_PLACED`) is not counted against the retry policy',
    test: {
      file: 'test/outbound/unplaced.test.ts',
      title: 'in a campaign, is dialled again, once, without counting an attempt',
    },
  },
  {
    fault: 'The primary process is killed (WORKERS=2)',
    seen: 'Its workers drain: live calls end with the goodbye',
    stored: 'Every call ended on the record',
    test: {
      file: 'test/server/crash.test.ts',
      title:
        'a primary killed with WORKERS=2: its workers drain, and their calls end on the record',
    },
  },
  {
    fault: '`/metrics` on a worker (WORKERS>1) when the primary does not answer in time',
    seen: "This worker's own metrics, with `X-Metrics-Scope: worker` (else `cluster`)",
    stored: 'A `METRICS_CLUSTER_UNAVAILABLE` warning',
    test: {
      file: 'test/server/worker-metrics.test.ts',
      title: "answers with the worker's own metrics, and logs a code, when the primary does not",
    },
  },
];
