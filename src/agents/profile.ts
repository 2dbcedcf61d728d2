/**
 * Agent profiles: a persona (and its voice, models and turn-taking settings) kept on the
 * server, because Exotel passes at most three short custom parameters on a call. This module
 * is the file format, checked strictly so a typo in a key fails at start-up, and the
 * normalised `AgentProfile` the rest of the server uses. Pure: the loader reads the files.
 */
import { z } from 'zod';

/** A profile's name is its file name without the extension. */
export const AGENT_NAME_PATTERN = /^[a-z0-9_-]{1,40}$/i;

/** Sane ranges, shared by profile files and the `endpointing_ms` / `barge_in_ms` parameters. */
export const ENDPOINTING_MS_RANGE = { min: 100, max: 5_000 } as const;
export const BARGE_IN_MS_RANGE = { min: 0, max: 5_000 } as const;

const AGE_RANGE = 'must be an age from 1 to 150';
const text = z.string().trim().min(1, 'must not be empty');
const msSetting = (range: { min: number; max: number }) =>
  z
    .number()
    .int()
    .min(range.min, `must be an integer from ${range.min} to ${range.max}`)
    .max(range.max, `must be an integer from ${range.min} to ${range.max}`);

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
): AgentProfile {
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
  };
  return Object.freeze(profile);
}
