/**
 * What a tool is: an operator-defined HTTP call (from an agent profile) or one of the built-in
 * call controls (`end_call`, `transfer_call`), and how each is offered to the LLM.
 */
import type { ChatTool } from '../providers/llm/types.js';

/** A JSON Schema object, as OpenAI function calling takes it. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** OpenAI's rule for function names; checked when profiles load. */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** A tool that calls the business's backend. The LLM fills only the arguments. */
export interface HttpToolSpec {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the arguments (type object). */
  readonly parameters: JsonSchema;
  /** Fixed by the operator; GET puts the arguments in its query, POST sends them as JSON. */
  readonly url: string;
  readonly method: 'GET' | 'POST';
  /** With `${NAME}` already read from the environment. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Said when the caller would otherwise wait in silence for this tool. */
  readonly message?: string;
}

export const END_CALL = 'end_call';
export const TRANSFER_CALL = 'transfer_call';
export const BUILT_IN_TOOLS: readonly string[] = [END_CALL, TRANSFER_CALL];

const REASON = {
  type: 'object',
  properties: {
    reason: { type: 'string', description: 'Why, in a few words (for the call record).' },
  },
  required: ['reason'],
  additionalProperties: false,
} as const;

export function httpToolDefinition(spec: HttpToolSpec): ChatTool {
  return {
    type: 'function',
    function: {
      name: spec.name,
      description: spec.description,
      parameters: { ...spec.parameters },
    },
  };
}

export const END_CALL_DEFINITION: ChatTool = {
  type: 'function',
  function: {
    name: END_CALL,
    description:
      'Hang up the phone call. Use it when the conversation is over: the caller said goodbye, ' +
      'has nothing more to ask, or asked to end the call. Say your goodbye in the same reply; ' +
      'the call ends once it has been heard.',
    parameters: { ...REASON },
  },
};

export const TRANSFER_CALL_DEFINITION: ChatTool = {
  type: 'function',
  function: {
    name: TRANSFER_CALL,
    description:
      'Hand the caller over to a human colleague. Use it when the caller asks for a person, ' +
      'or needs something you cannot do. Tell the caller you are connecting them in the same ' +
      'reply; the transfer starts once that has been heard.',
    parameters: { ...REASON },
  },
};
