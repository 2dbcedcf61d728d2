/**
 * The contract each faked endpoint implements, and the one function that turns any scripted
 * behaviour (success or failure mode) into a response plan for it.
 */
import type { FailureBehaviour, RecordedRequest } from './behaviours.js';
import { errorPlan, stallPlan, type ResponsePlan } from './response-plan.js';

export interface EndpointHandler<R extends RecordedRequest, S extends { kind: string }> {
  /** The success behaviour used when a test scripts nothing (and for `stall`/`drop` without `of`). */
  builtInDefault: S;
  /** Why the fake cannot answer this spec-valid request, if it cannot. */
  unsupported(request: R): string | undefined;
  success(behaviour: S, request: R): ResponsePlan;
  malformed(request: R): ResponsePlan;
}

/** `'hang'` means: never send anything. */
export function planFor<R extends RecordedRequest, S extends { kind: string }>(
  handler: EndpointHandler<R, S>,
  behaviour: S | FailureBehaviour<S>,
  request: R,
): ResponsePlan | 'hang' {
  const failure = behaviour as FailureBehaviour<S>;
  switch (failure.kind) {
    case 'error':
      return errorPlan(failure);
    case 'hang':
      return 'hang';
    case 'stall':
      return stallPlan(
        handler.success(failure.of ?? handler.builtInDefault, request),
        failure.afterBytes,
      );
    case 'drop':
      return {
        ...stallPlan(
          handler.success(failure.of ?? handler.builtInDefault, request),
          failure.afterBytes,
        ),
        drop: true,
      };
    case 'malformed':
      return handler.malformed(request);
    default:
      return handler.success(behaviour as S, request);
  }
}
