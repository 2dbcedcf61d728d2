/**
 * Agent profiles: a persona (and its voice, models and turn-taking settings) kept on the
 * server, because Exotel passes at most three short custom parameters on a call. This module
 * is the file format, checked strictly so a typo in a key fails at start-up, and the
 * normalised `AgentProfile` the rest of the server uses. Pure: the loader reads the files.
 */
import { z } from 'zod';
import type { HttpTool } from '../tools/toolbox.js';
import { BUILT_IN_TOOLS, TOOL_NAME_PATTERN } from '../tools/spec.js';

/** A profile's name is its file name without the extension. */
export const AGENT_NAME_PATTERN = /^[a-z0-9_-]{1,40}$/i;

/** Sane ranges, shared by profile files and the `endpointing_ms` / `barge_in_ms` parameters. */
export const ENDPOINTING_MS_RANGE = { min: 100, max: 5_000 } as const;
export const BARGE_IN_MS_RANGE = { min: 0, max: 5_000 } as const;

/** Limits on the per-call settings a profile may give. */
export const TOOL_TIMEOUT_MS_RANGE = { min: 100, max: 60_000 } as const;
export const IDLE_AFTER_MS_RANGE = { min: 0, max: 600_000 } as const;
export const IDLE_PROMPTS_RANGE = { min: 0, max: 10 } as const;
/** Exotel ends a stream after 60 minutes; a call of its own can run 4 hours (TimeLimit). */
export const MAX_CALL_MS_RANGE = { min: 10_000, max: 4 * 60 * 60 * 1000 } as const;
/** A number Exotel's Connect applet can dial: E.164, or a national number with its 0. */
export const TRANSFER_NUMBER_PATTERN = /^(\+[1-9][0-9]{7,14}|0[0-9]{9,11}|[6-9][0-9]{9})$/;

const AGE_RANGE = 'must be an age from 1 to 150';
const text = z.string().trim().min(1, 'must not be empty');
const msSetting = (range: { min: number; max: number }) =>
  z
    .number()
    .int()
    .min(range.min, `must be an integer from ${range.min} to ${range.max}`)
    .max(range.max, `must be an integer from ${range.min} to ${range.max}`);

const httpToolSchema = z.strictObject({
  name: z
    .string()
    .regex(TOOL_NAME_PATTERN, 'must be 1 to 64 letters, digits, _ or -')
    .refine((n) => !BUILT_IN_TOOLS.includes(n), 'is the name of a built-in tool'),
  description: text,
  /** JSON Schema of the arguments, as OpenAI function calling takes it. */
  parameters: z
    .record(z.string(), z.unknown(), { error: 'expected a JSON Schema object' })
    .refine((p) => p['type'] === 'object', 'must be a JSON Schema with type: object')
    .optional(),
  url: z
    .string()
    .trim()
    .regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL'),
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(['GET', 'POST'], { error: 'must be GET or POST' }))
    .optional(),
  /** `${NAME}` in a value is read from the environment at start-up. */
  headers: z.record(z.string(), z.string(), { error: 'expected a mapping of strings' }).optional(),
  timeout_ms: msSetting(TOOL_TIMEOUT_MS_RANGE).optional(),
  message: text.optional(),
});

export type HttpToolFile = z.infer<typeof httpToolSchema>;

/** The shape of one profile file (YAML or JSON), before documents files are read. */
export const agentProfileFileSchema = z.strictObject({
  description: text.optional(),
  persona_name: text,
  persona_age: z.union([z.number().int().min(1, AGE_RANGE).max(150, AGE_RANGE), text], {
    error: 'expected a number or a string',
  }),
  tone: text,
  gender: text,
  city: text,
  language: text,
  customer_name: text.optional(),
  greeting_text: text,
  voice: text.optional(),
  /** The seed's custom-parameter name, accepted as an alias of `voice`. */
  voice_id: text.optional(),
  documents: text.optional(),
  /** Paths relative to the profile's folder; their contents are joined at load. */
  documents_files: z.array(text).min(1, 'must list at least one file').optional(),
  models: z
    .strictObject({ llm: text.optional(), stt: text.optional(), tts: text.optional() })
    .optional(),
  endpointing_ms: msSetting(ENDPOINTING_MS_RANGE).optional(),
  barge_in_ms: msSetting(BARGE_IN_MS_RANGE).optional(),
  fallback_text: text.optional(),
  tools: z.array(httpToolSchema).optional(),
  /** Offer the model `end_call` (default true). */
  end_call: z.boolean().optional(),
  /** Said when the bot ends the call without words of its own (idle, time limit, end_call). */
  goodbye_text: text.optional(),
  /** Offer the model `transfer_call`, to this number. */
  transfer: z
    .strictObject({
      number: z
        .string()
        .transform((n) => n.replace(/[\s()-]/g, ''))
        .pipe(
          z
            .string()
            .regex(TRANSFER_NUMBER_PATTERN, 'must be a phone number (+91..., 0..., or 10 digits)'),
        ),
      message: text.optional(),
    })
    .optional(),
  idle: z
    .strictObject({
      after_ms: msSetting(IDLE_AFTER_MS_RANGE).optional(),
      prompts: z
        .number()
        .int()
        .min(IDLE_PROMPTS_RANGE.min, 'must be an integer from 0 to 10')
        .max(IDLE_PROMPTS_RANGE.max, 'must be an integer from 0 to 10')
        .optional(),
      message: text.optional(),
    })
    .optional(),
  max_call_ms: msSetting(MAX_CALL_MS_RANGE).optional(),
  /** How numbers are read aloud: English words, or Hindi in Devanagari (default from language). */
  numbers: z.enum(['english', 'hindi'], { error: 'must be english or hindi' }).optional(),
});

export type AgentProfileFile = z.infer<typeof agentProfileFileSchema>;

/** A checked profile, with its documents read and its voice alias resolved. Frozen. */
export interface AgentProfile {
  /** The file name without its extension; what the `agent` custom parameter names. */
  readonly name: string;
  /** The file it came from, for logs. */
  readonly source: string;
  readonly description?: string;
  readonly personaName: string;
  /** As written in the file (a number becomes its decimal string). */
  readonly personaAge: string;
  readonly tone: string;
  readonly gender: string;
  readonly city: string;
  readonly language: string;
  readonly customerName?: string;
  readonly greetingText: string;
  /** The text-to-speech voice (`voice`, or its alias `voice_id`). */
  readonly voice: string;
  /** Inline `documents`, or the `documents_files` contents joined by a blank line. */
  readonly documents: string;
  readonly models: { readonly llm?: string; readonly stt?: string; readonly tts?: string };
  readonly endpointingMs?: number;
  readonly bargeInMs?: number;
  readonly fallbackText?: string;
  /** HTTP tools, with secrets read and argument checks compiled. */
  readonly tools: readonly HttpTool[];
  readonly endCall?: boolean;
  readonly goodbyeText?: string;
  readonly transfer?: { readonly number: string; readonly message?: string };
  readonly idle?: {
    readonly afterMs?: number;
    readonly prompts?: number;
    readonly message?: string;
  };
  readonly maxCallMs?: number;
  /** How numbers are read aloud; unset: from the language (speech/numbers.ts). */
  readonly numbers?: 'english' | 'hindi';
}

/** One problem in a profile file: the field (a dotted path) and what is wrong with it. */
export interface ProfileProblem {
  field: string;
  message: string;
}

export type ProfileCheck =
  { ok: true; file: AgentProfileFile; problems: [] } | { ok: false; problems: ProfileProblem[] };

const EXPECTED: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  object: 'a mapping of fields',
  array: 'a list',
  boolean: 'true or false',
};

const KNOWN_KEYS = new Set(Object.keys(agentProfileFileSchema.shape));

function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  }
  return out || '(profile)';
}

/** Levenshtein distance, for "did you mean" on an unknown top-level key. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

function unknownKey(key: string, topLevel: boolean): string {
  if (!topLevel) return 'unknown field';
  const near = [...KNOWN_KEYS].find((k) => distance(k, key.toLowerCase()) <= 2);
  return near ? `unknown field (did you mean ${near}?)` : 'unknown field';
}

function toProblems(issue: z.core.$ZodIssue): ProfileProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      field: fieldName([...issue.path, key]),
      message: unknownKey(key, issue.path.length === 0),
    }));
  }
  const field = fieldName(issue.path);
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return [{ field, message: 'required' }];
    return [{ field, message: `expected ${EXPECTED[issue.expected] ?? issue.expected}` }];
  }
  return [{ field, message: issue.message }];
}

/** Rules across fields, checked even when other fields are wrong so all problems show at once. */
function crossFieldProblems(data: unknown): ProfileProblem[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return [];
  const has = (key: string) => (data as Record<string, unknown>)[key] !== undefined;
  const problems: ProfileProblem[] = [];
  if (has('voice') && has('voice_id')) {
    problems.push({ field: 'voice_id', message: 'give voice or its alias voice_id, not both' });
  } else if (!has('voice') && !has('voice_id')) {
    problems.push({ field: 'voice', message: 'required (or its alias voice_id)' });
  }
  if (has('documents') && has('documents_files')) {
    problems.push({
      field: 'documents_files',
      message: 'give documents or documents_files, not both',
    });
  } else if (!has('documents') && !has('documents_files')) {
    problems.push({ field: 'documents', message: 'required (inline, or as documents_files)' });
  }
  const tools = (data as { tools?: unknown }).tools;
  if (Array.isArray(tools)) {
    const seen = new Set<string>();
    tools.forEach((t: unknown, i) => {
      const name = (t as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') return;
      if (seen.has(name))
        problems.push({ field: `tools[${i}].name`, message: `"${name}" is used twice` });
      seen.add(name);
    });
  }
  return problems;
}

/** Checks parsed file contents against the profile format, returning every problem found. */
export function checkProfileFile(data: unknown): ProfileCheck {
  const parsed = agentProfileFileSchema.safeParse(data, { reportInput: true });
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap(toProblems)),
    ...crossFieldProblems(data),
  ];
  if (parsed.success && problems.length === 0) return { ok: true, file: parsed.data, problems: [] };
  return { ok: false, problems };
}

/** The normalised profile, given the documents text (inline, or read from documents_files). */
export function toAgentProfile(
  name: string,
  source: string,
  file: AgentProfileFile,
  documents: string,
  tools: readonly HttpTool[] = [],
): AgentProfile {
  const idle = file.idle;
  const profile: AgentProfile = {
    name,
    source,
    ...(file.description === undefined ? {} : { description: file.description }),
    personaName: file.persona_name,
    personaAge: String(file.persona_age),
    tone: file.tone,
    gender: file.gender,
    city: file.city,
    language: file.language,
    ...(file.customer_name === undefined ? {} : { customerName: file.customer_name }),
    greetingText: file.greeting_text,
    // checkProfileFile guarantees exactly one of the two.
    voice: file.voice ?? file.voice_id ?? '',
    documents,
    models: Object.freeze({ ...file.models }),
    ...(file.endpointing_ms === undefined ? {} : { endpointingMs: file.endpointing_ms }),
    ...(file.barge_in_ms === undefined ? {} : { bargeInMs: file.barge_in_ms }),
    ...(file.fallback_text === undefined ? {} : { fallbackText: file.fallback_text }),
    tools: Object.freeze([...tools]),
    ...(file.end_call === undefined ? {} : { endCall: file.end_call }),
    ...(file.goodbye_text === undefined ? {} : { goodbyeText: file.goodbye_text }),
    ...(file.transfer === undefined ? {} : { transfer: Object.freeze({ ...file.transfer }) }),
    ...(idle === undefined
      ? {}
      : {
          idle: Object.freeze({
            ...(idle.after_ms === undefined ? {} : { afterMs: idle.after_ms }),
            ...(idle.prompts === undefined ? {} : { prompts: idle.prompts }),
            ...(idle.message === undefined ? {} : { message: idle.message }),
          }),
        }),
    ...(file.max_call_ms === undefined ? {} : { maxCallMs: file.max_call_ms }),
    ...(file.numbers === undefined ? {} : { numbers: file.numbers }),
  };
  return Object.freeze(profile);
}
