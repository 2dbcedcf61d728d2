/**
 * What a call is set up with when its `start` arrives: the per-call context stored by
 * /voicebot/init (`ctx=<id>`), the URL's and the start event's custom parameters, and the plan
 * they resolve to with the agent profile they select. Never throws: a missing context or a
 * database that is down is logged and the call goes on with what it has.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveCallPlan, type AgentRegistry, type CallPlan } from '../agents/index.js';
import type { Config } from '../config/index.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { CallStore } from '../store/index.js';
import { boundParams } from './call-params.js';

export interface CallSetupDeps {
  config: Config;
  store: CallStore;
  agents: AgentRegistry;
  log: Logger;
  /** How long the context lookup may delay the greeting. */
  contextTimeoutMs?: number;
}

export interface PreparedCall {
  plan: CallPlan;
  /** Caller and called numbers carried in the context, when the URL had none. */
  from?: string;
  to?: string;
}

export const CONTEXT_PARAM = 'ctx';

export async function prepareCall(
  deps: CallSetupDeps,
  urlCustom: Record<string, string>,
  startCustom: Record<string, string>,
  callSid: string | undefined,
): Promise<PreparedCall> {
  const url = boundParams(urlCustom);
  const start = boundParams(startCustom);
  for (const problem of [...url.problems, ...start.problems]) {
    deps.log.warn(
      { code: problem.slice(0, problem.indexOf(':')), detail: problem },
      'custom parameters bounded',
    );
  }
  urlCustom = url.params;
  startCustom = start.params;
  const ctxId = startCustom[CONTEXT_PARAM] ?? urlCustom[CONTEXT_PARAM];
  const context = ctxId ? await loadContext(deps, ctxId) : {};
  const { from, to, ...contextParams } = context;
  const merged: Record<string, string> = { ...contextParams, ...urlCustom, ...startCustom };
  delete merged[CONTEXT_PARAM];
  const { plan, warnings } = resolveCallPlan(deps.config, deps.agents, merged, { callSid });
  for (const w of warnings) deps.log.warn({ code: 'AGENT_WARNING', detail: w }, 'agent selection');
  return { plan, from, to };
}

async function loadContext(deps: CallSetupDeps, id: string): Promise<Record<string, string>> {
  const timeoutMs = deps.contextTimeoutMs ?? 1500;
  const ac = new AbortController();
  try {
    const found = await Promise.race([
      deps.store.getContext(id, Date.now()),
      sleep(timeoutMs, 'timeout' as const, { signal: ac.signal }),
    ]);
    if (found === 'timeout') {
      deps.log.warn({ code: 'CONTEXT_TIMEOUT' }, 'call context lookup timed out');
      return {};
    }
    if (!found) deps.log.warn({ code: 'CONTEXT_NOT_FOUND' }, 'call context missing or expired');
    return found ?? {};
  } catch (err) {
    deps.log.warn({ code: errorCode(err) }, 'call context unavailable');
    return {};
  } finally {
    ac.abort();
  }
}
