/** The live calls of this process, by session id. */
import type { CallSession } from './call-session.js';

export class CallRegistry {
  private readonly calls = new Map<string, CallSession>();
  private readonly idleWaiters: Array<() => void> = [];
  total = 0;

  add(call: CallSession): void {
    this.calls.set(call.id, call);
    this.total++;
  }

  remove(call: CallSession): void {
    this.calls.delete(call.id);
    if (this.calls.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  get size(): number {
    return this.calls.size;
  }

  values(): IterableIterator<CallSession> {
    return this.calls.values();
  }

  /** Resolves when no call is live, or after `timeoutMs`; true when idle. */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.calls.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
