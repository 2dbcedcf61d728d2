/**
 * Event-loop delay as Node's monitor (`monitorEventLoopDelay`, behind prom-client's
 * `nodejs_eventloop_lag_*`) reports it. The monitor records the whole interval between its
 * samples, so an idle loop reads the sampling interval itself: the delay is the excess.
 */

/** How often the server's and the load generator's monitors sample (ms). */
export const EVENT_LOOP_SAMPLE_MS = 10;

/** The delay in a monitor reading of `intervalMs` (ms, never below 0). */
export function loopDelayMs(intervalMs: number): number {
  return Math.max(0, intervalMs - EVENT_LOOP_SAMPLE_MS);
}
