/**
 * After a call ends: the summary (LLM, retried on failure) is written to the call record, then
 * the finished record goes to the webhook. Runs beside the next calls and never delays a hang-up;
 * the app waits for it (bounded) on shutdown. At most `concurrency` calls are worked on at once
 * (200 calls ending together make 200 summary requests otherwise, straight into the provider's
 * rate limit); the others wait in order.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { VoicebotError, errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { LlmProvider } from '../providers/llm/types.js';
import { backoff, retry } from '../retry.js';
import type { TurnRecord } from '../conversation/turn-record.js';
import type { CallStore } from '../store/index.js';
import { summarizeCall } from './summarize.js';
import { postWebhook } from './webhook.js';

export interface FinishedCall {
  id: string;
  callSid: string | undefined;
  language: string | undefined;
  turns: readonly TurnRecord[];
  /** The record as the webhook receives it (the summary is added to it). */
  record: Record<string, unknown>;
}

export interface PostCallOptions {
  store: CallStore;
  llm: LlmProvider;
  logger: Logger;
  webhook: { url: string | undefined; secret: string | undefined };
  summaryAttempts?: number;
  retryBaseMs?: number;
  /** Calls worked on at once (default 4). */
  concurrency?: number;
}

export class PostCallWorker {
  private readonly tasks = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(private readonly opts: PostCallOptions) {
    this.limit = pLimit(opts.concurrency ?? 4);
  }

  get pending(): number {
    return this.tasks.size;
  }

  submit(call: FinishedCall): void {
    const task = this.limit(() => this.run(call)).catch((err: unknown) => {
      this.opts.logger.error(
        { code: errorCode(err), callSid: call.callSid },
        'post-call work failed',
      );
    });
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  /** Waits up to `timeoutMs` for pending work, then abandons the rest. */
  async close(timeoutMs: number): Promise<void> {
    const all = Promise.allSettled([...this.tasks]);
    const timer = sleep(timeoutMs, 'timeout' as const, { ref: false });
    if ((await Promise.race([all, timer])) === 'timeout') {
      this.opts.logger.warn({ pending: this.tasks.size }, 'post-call work abandoned at shutdown');
      this.stop.abort();
      await all;
    }
  }

  private async run(call: FinishedCall): Promise<void> {
    const { store, logger } = this.opts;
    const log = logger.child({ callSid: call.callSid });
    if (this.stop.signal.aborted) return; // still waiting its turn at shutdown: abandoned
    let summary: string | undefined;
    if (call.turns.length > 0) {
      store.summaryUpdated(call.id, { status: 'pending' });
      summary = await this.summarize(call, log);
      store.summaryUpdated(
        call.id,
        summary === undefined ? { status: 'failed' } : { summary, status: 'done' },
      );
    }
    const { url, secret } = this.opts.webhook;
    if (!url) return;
    try {
      const attempts = await postWebhook(
        { ...call.record, summary: summary ?? null },
        { url, secret, signal: this.stop.signal, retryBaseMs: this.opts.retryBaseMs },
      );
      log.info({ attempts }, 'call webhook delivered');
    } catch (err) {
      log.error(
        { code: 'WEBHOOK_FAILED', detail: err instanceof Error ? err.message : 'error' },
        'call webhook failed',
      );
    }
  }

  private async summarize(call: FinishedCall, log: Logger): Promise<string | undefined> {
    const signal = this.stop.signal;
    try {
      return await retry(
        async () => {
          const text = await summarizeCall(this.opts.llm, call.turns, call.language, signal);
          if (!text) throw new VoicebotError('PROVIDER_BAD_RESPONSE', 'summary: empty');
          return text;
        },
        {
          attempts: this.opts.summaryAttempts ?? 3,
          delayMs: backoff(this.opts.retryBaseMs ?? 1000),
          signal,
          retryIf: () => true,
          onRetry: (err, attempt) =>
            log.warn({ code: errorCode(err), attempt }, 'call summary failed'),
        },
      );
    } catch (err) {
      if (!signal.aborted) log.warn({ code: errorCode(err) }, 'call summary failed; giving up');
      return undefined;
    }
  }
}
