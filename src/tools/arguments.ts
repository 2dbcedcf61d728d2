/**
 * The model's tool arguments are text that should be JSON matching the tool's schema; it does
 * not always write that. Arguments are parsed and validated (ajv, JSON Schema 2020-12) before any
 * request is made, and what is wrong goes back to the model in words it can act on. Schemas are
 * compiled once, when profiles load, which also rejects a schema ajv cannot compile.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { JsonSchema } from './spec.js';

// OpenAI's schemas use keywords ajv's strict mode does not know (and none it must enforce).
const ajv = new Ajv2020({ strict: false, allErrors: true });

export type ArgumentCheck =
  { ok: true; args: Record<string, unknown> } | { ok: false; problem: string };

export type ArgumentValidator = (text: string) => ArgumentCheck;

/** Compiles `schema`; throws with ajv's reason when it is not a usable JSON Schema. */
export function compileArguments(schema: JsonSchema): ArgumentValidator {
  const validate: ValidateFunction = ajv.compile({ ...schema });
  return (text) => {
    let args: unknown;
    try {
      args = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      return { ok: false, problem: 'the arguments were not valid JSON' };
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      return { ok: false, problem: 'the arguments must be a JSON object' };
    }
    if (!validate(args)) return { ok: false, problem: describe(validate.errors ?? []) };
    return { ok: true, args: args as Record<string, unknown> };
  };
}

function describe(errors: ErrorObject[]): string {
  const parts = errors.slice(0, 3).map((e) => {
    const where = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : 'arguments';
    return `${where} ${e.message ?? 'is invalid'}`;
  });
  return `the arguments do not match the tool's parameters: ${parts.join('; ')}`;
}
