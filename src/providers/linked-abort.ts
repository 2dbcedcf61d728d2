/**
 * A provider request's own AbortController, aborted when the caller's signal aborts (with the
 * reason `reasonFor` gives). Providers need their own so their time limits can abort the request
 * without aborting the caller; `unlink` must run when the request ends.
 */
export function linkedAbort(
  parent: AbortSignal,
  reasonFor: (parentReason: unknown) => unknown = (r) => r,
): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(reasonFor(parent.reason));
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return { controller, unlink: () => parent.removeEventListener('abort', onAbort) };
}

/**
 * The reason for aborting what is no longer needed (a request whose answer came from elsewhere, a
 * reply that finished, a losing hedge): an `AbortError` as `abort()` would make, made once.
 * `abort()` without a reason builds a new DOMException, stack trace and all, every time: these
 * clean-up aborts come several times a turn, and cost 1.5 % of a loaded event loop's busy time.
 */
export const NOT_NEEDED = new DOMException(
  'This operation was aborted: no longer needed',
  'AbortError',
);

/** Aborts `controller` with `NOT_NEEDED` (nothing if it is aborted already). */
export function cancel(controller: AbortController): void {
  controller.abort(NOT_NEEDED);
}
