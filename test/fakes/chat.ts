/**
 * `POST /v1/chat/completions`: with `stream: true`, Server-Sent Events framed like OpenAI's
 * (`data: <chat.completion.chunk>\n\n`: a role chunk, one chunk per token, a chunk with the
 * finish_reason, an optional usage chunk, then `data: [DONE]`); otherwise one chat.completion.
 */
import type OpenAI from 'openai';
import { randomBytes } from 'node:crypto';
import type { ChatRequest, ScriptedToolCall, StreamBehaviour } from './behaviours.js';
import { chatRequestProblem } from './chat-rules.js';
import type { EndpointHandler } from './endpoint-handler.js';
import { fixedPlan, type PlanChunk, type ResponsePlan } from './response-plan.js';

let completions = 0;

/**
 * Splits text into word-ish tokens the way OpenAI's deltas look: leading whitespace stays with
 * the word after it and punctuation is its own token. `splitTokens(s).join('') === s`.
 */
export function splitTokens(text: string): string[] {
  return text.match(/\s*[\p{L}\p{N}'’]+|\s*[^\s\p{L}\p{N}'’]|\s+$/gu) ?? [];
}

/** Text of the last user message (string content, or its text parts joined); '' if none. */
export function lastUserText(body: OpenAI.Chat.ChatCompletionCreateParams): string {
  const last = body.messages.filter((m) => m.role === 'user').at(-1);
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return last.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

function approxTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function completionPlan(behaviour: StreamBehaviour, request: ChatRequest): ResponsePlan {
  const tokens =
    typeof behaviour.tokens === 'string' ? splitTokens(behaviour.tokens) : behaviour.tokens;
  const firstMs = behaviour.firstTokenDelayMs ?? 0;
  const perTokenMs = behaviour.perTokenMs ?? 0;
  const toolCalls = (behaviour.toolCalls ?? []).map(materialise);
  const finishReason = behaviour.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop');
  const { body } = request;
  const id = `chatcmpl-fake${++completions}`;
  const head = (object: string): object => ({
    id,
    object,
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
  });
  const promptTokens = approxTokens(JSON.stringify(body.messages));
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: tokens.length,
    total_tokens: promptTokens + tokens.length,
  };
  if (!body.stream) {
    const completion = {
      ...head('chat.completion'),
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: tokens.length > 0 || toolCalls.length === 0 ? tokens.join('') : null,
            refusal: null,
            annotations: [],
            ...(toolCalls.length > 0
              ? {
                  tool_calls: toolCalls.map((c) => ({
                    id: c.id,
                    type: 'function',
                    function: { name: c.name, arguments: c.arguments },
                  })),
                }
              : {}),
          },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage,
    };
    const doneMs = firstMs + perTokenMs * Math.max(0, tokens.length - 1);
    return fixedPlan(200, 'application/json', JSON.stringify(completion), doneMs);
  }
  const includeUsage = body.stream_options?.include_usage === true;
  // OpenAI pads streamed chunks with a random `obfuscation` string unless asked not to.
  const obfuscate = body.stream_options?.include_obfuscation !== false;
  const frame = (choices: object[], extra: object = {}): Buffer =>
    sse({
      ...head('chat.completion.chunk'),
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...(obfuscate ? { obfuscation: 'fAkE' } : {}),
      ...extra,
    });
  const choice = (delta: object, finish: string | null = null): object => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  const chunks: PlanChunk[] = [
    {
      atMs: firstMs,
      data: frame([
        choice({ role: 'assistant', content: tokens.length > 0 ? '' : null, refusal: null }),
      ]),
    },
    ...tokens.map((token, i) => ({
      atMs: firstMs + i * perTokenMs,
      data: frame([choice({ content: token })]),
    })),
  ];
  let at = firstMs + perTokenMs * Math.max(0, tokens.length - 1);
  const piece = behaviour.argumentsChunkChars ?? 12;
  toolCalls.forEach((call, index) => {
    if (tokens.length > 0 || index > 0) at += perTokenMs;
    const start = {
      index,
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: '' },
    };
    chunks.push({ atMs: at, data: frame([choice({ tool_calls: [start] })]) });
    for (let i = 0; i < call.arguments.length; i += piece) {
      at += perTokenMs;
      const args = call.arguments.slice(i, i + piece);
      chunks.push({
        atMs: at,
        data: frame([choice({ tool_calls: [{ index, function: { arguments: args } }] })]),
      });
    }
  });
  const lastMs = at;
  chunks.push({ atMs: lastMs, data: frame([choice({}, finishReason)]) });
  if (includeUsage) chunks.push({ atMs: lastMs, data: frame([], { usage }) });
  chunks.push({ atMs: lastMs, data: Buffer.from('data: [DONE]\n\n') });
  return { status: 200, headers: SSE_HEADERS, headersAtMs: firstMs, chunks, end: true };
}

function materialise(call: ScriptedToolCall): Required<ScriptedToolCall> & { arguments: string } {
  return {
    name: call.name,
    id: call.id ?? `call_${randomBytes(12).toString('base64url')}`,
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
  };
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};

function sse(payload: object): Buffer {
  return Buffer.from(`data: ${JSON.stringify(payload)}\n\n`);
}

export const chatHandler: EndpointHandler<ChatRequest, StreamBehaviour> = {
  builtInDefault: { kind: 'stream', tokens: 'Hello! How can I help you today?' },
  unsupported: (request) => chatRequestProblem(request.body),
  success: completionPlan,
  /**
   * Streamed: a valid role chunk, then a `data:` line whose JSON is cut off, then the end of the
   * stream; the SDK's stream iterator throws a SyntaxError. Not streamed: a cut-off JSON body.
   */
  malformed(request) {
    const broken =
      '{"id":"chatcmpl-fake","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel';
    if (!request.body.stream) return fixedPlan(200, 'application/json', broken);
    const role = sse({
      id: 'chatcmpl-fake',
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: request.body.model,
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    const data = Buffer.concat([role, Buffer.from(`data: ${broken}\n\n`)]);
    return {
      status: 200,
      headers: SSE_HEADERS,
      headersAtMs: 0,
      chunks: [{ atMs: 0, data }],
      end: true,
    };
  },
};
