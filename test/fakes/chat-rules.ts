/**
 * What OpenAI's chat completions endpoint rejects with a 400 although the OpenAPI schema allows
 * it: tool names outside `^[a-zA-Z0-9_-]{1,64}$`, function parameters whose top level is not an
 * object, `tool_choice` without `tools`, and a history whose tool messages do not pair up with
 * the assistant's tool calls. The messages follow the API's own wording.
 */
import type OpenAI from 'openai';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

type Body = OpenAI.Chat.ChatCompletionCreateParams;

/** The API's error message for this body, or undefined when it would accept it. */
export function chatRequestProblem(body: Body): string | undefined {
  return toolsProblem(body) ?? historyProblem(body.messages);
}

function toolsProblem(body: Body): string | undefined {
  const tools = body.tools ?? [];
  if (body.tool_choice !== undefined && tools.length === 0) {
    return "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.";
  }
  const seen = new Set<string>();
  for (const [i, tool] of tools.entries()) {
    if (tool.type !== 'function') continue;
    const { name, parameters } = tool.function;
    if (!TOOL_NAME.test(name)) {
      return `Invalid 'tools[${i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`;
    }
    if (seen.has(name)) return `Invalid 'tools': duplicate function name '${name}'.`;
    seen.add(name);
    if (parameters !== undefined && parameters['type'] !== 'object') {
      return `Invalid schema for function '${name}': schema must be a JSON Schema of 'type: "object"', got 'type: "${String(parameters['type'])}"'.`;
    }
  }
  return undefined;
}

function historyProblem(messages: Body['messages']): string | undefined {
  let open: Set<string> | undefined;
  for (const [i, m] of messages.entries()) {
    if (m.role === 'tool') {
      if (!open?.has(m.tool_call_id)) {
        return `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'. (messages[${i}])`;
      }
      open.delete(m.tool_call_id);
      continue;
    }
    if (open && open.size > 0) return unanswered(open);
    open = undefined;
    if (m.role === 'assistant' && m.tool_calls?.length) {
      open = new Set(m.tool_calls.map((c) => c.id));
    }
  }
  return open && open.size > 0 ? unanswered(open) : undefined;
}

function unanswered(ids: Set<string>): string {
  return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...ids].join(', ')}`;
}
