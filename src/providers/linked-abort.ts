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
