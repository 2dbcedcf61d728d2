/**
 * Reads the agent profiles in a folder (`agents/*.yaml|*.yml|*.json`) once at start-up. Every
 * problem in every file is collected and reported in one error whose lines name the file and
 * the field (`agents/loan_hi.yaml: barge_in_ms: expected a number`), so an operator fixes them
 * all in one pass; a folder that does not exist is simply no profiles (unless a default agent
 * is configured, which must exist).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { Config } from '../config/index.js';
import { VoicebotError } from '../errors.js';
import { compileArguments } from '../tools/arguments.js';
import type { HttpTool } from '../tools/toolbox.js';
import { AGENT_NAME_PATTERN, checkProfileFile, toAgentProfile } from './profile.js';
import type { AgentProfile, AgentProfileFile } from './profile.js';
import { createAgentRegistry } from './registry.js';
import type { AgentRegistry } from './registry.js';

const PROFILE_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** Larger than any sensible prompt (the prompt keeps about 6 KB); guards against a wrong file. */
export const MAX_DOCUMENTS_FILE_BYTES = 1024 * 1024;

export interface LoadAgentProfilesOptions {
  /** The agent for calls that name none; must be one of the profiles. */
  defaultAgent?: string;
  /** Where `${NAME}` in a tool's URL or headers is read from (the process environment). */
  env?: (name: string) => string | undefined;
  /** A tool's time limit when its profile gives none. Default 5000 ms. */
  toolTimeoutMs?: number;
}

const DEFAULT_TOOL_TIMEOUT_MS = 5_000;

/** The loader's options from the server's configuration. */
export function agentLoadOptions(config: Config): LoadAgentProfilesOptions {
  return {
    ...(config.agents.defaultAgent === undefined
      ? {}
      : { defaultAgent: config.agents.defaultAgent }),
    env: config.env,
    toolTimeoutMs: config.tools.timeoutMs,
  };
}
const NO_PARAMETERS = Object.freeze({ type: 'object', properties: {} });

/** A path as an operator would type it: relative to the working directory when inside it. */
function display(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
}

/** The file's data, or a problem naming the line and column of a syntax error. */
function parseProfileText(text: string, ext: string): { data: unknown } | { problem: string } {
  if (ext === '.json') {
    try {
      return { data: JSON.parse(text) as unknown };
    } catch (err) {
      const message = err instanceof Error ? err.message : 'invalid JSON';
      // Node 20 gives a character position for most errors (newer Node also a line).
      const at = /at position (\d+)/.exec(message);
      const end = /end of JSON input/.test(message) ? text.trimEnd().length : undefined;
      if (!at && end === undefined) return { problem: `invalid JSON: ${message}` };
      const before = text.slice(0, at ? Number(at[1]) : end);
      const line = before.split('\n').length;
      const column = before.length - before.lastIndexOf('\n');
      const reason = message.replace(/\s*(?:in JSON )?at position \d+.*$/s, '');
      return { problem: `line ${line}, column ${column}: invalid JSON: ${reason}` };
    }
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const reason = (first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const where = pos ? `line ${pos.line}, column ${pos.col}: ` : '';
    return { problem: `${where}invalid YAML: ${reason}` };
  }
  return { data: doc.toJS() as unknown };
}

/** The joined contents of `documents_files`, or problems naming the entry that failed. */
async function readDocuments(
  dir: string,
  files: readonly string[],
): Promise<{ text: string; problems: string[] }> {
  const parts: string[] = [];
  const problems: string[] = [];
  for (const [i, rel] of files.entries()) {
    const field = `documents_files[${i}]`;
    const full = path.resolve(dir, rel);
    const inside = path.relative(dir, full);
    if (path.isAbsolute(rel) || inside.startsWith('..') || path.isAbsolute(inside)) {
      problems.push(`${field}: must be a path inside ${display(dir)}`);
      continue;
    }
    try {
      const info = await stat(full);
      if (!info.isFile()) {
        problems.push(`${field}: ${display(full)} is not a file`);
        continue;
      }
      if (info.size > MAX_DOCUMENTS_FILE_BYTES) {
        problems.push(
          `${field}: ${display(full)} is larger than ${MAX_DOCUMENTS_FILE_BYTES} bytes`,
        );
        continue;
      }
      const content = (await readFile(full, 'utf8')).replace(/^\uFEFF/, '').trim();
      if (!content) problems.push(`${field}: ${display(full)} is empty`);
      parts.push(content);
    } catch (err) {
      problems.push(`${field}: cannot read ${display(full)} (${errnoCode(err)})`);
    }
  }
  return { text: parts.filter(Boolean).join('\n\n'), problems };
}

/** `documents_files` when it is a list of strings, whatever else is wrong with the file. */
function documentsFiles(data: unknown): string[] | undefined {
  const files = (data as { documents_files?: unknown } | null)?.documents_files;
  return Array.isArray(files) && files.every((f) => typeof f === 'string' && f.trim())
    ? (files as string[])
    : undefined;
}

/** `${NAME}` replaced from the environment; a missing variable is a problem naming it. */
function expand(
  value: string,
  env: (name: string) => string | undefined,
  problems: string[],
  where: string,
): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, varName: string) => {
    const found = env(varName);
    if (found === undefined || found === '') {
      problems.push(`${where}: environment variable ${varName} is not set`);
      return '';
    }
    return found;
  });
}

/** The profile's tools, ready to run: secrets read, URLs checked, argument schemas compiled. */
function loadTools(
  file: AgentProfileFile,
  options: LoadAgentProfilesOptions,
): { tools: HttpTool[]; problems: string[] } {
  const env = options.env ?? (() => undefined);
  const problems: string[] = [];
  const tools = (file.tools ?? []).map((t, i): HttpTool => {
    const at = `tools[${i}] (${t.name})`;
    const url = expand(t.url, env, problems, `${at}: url`);
    if (url && !URL.canParse(url)) problems.push(`${at}: url: is not a valid URL`);
    const headers = Object.fromEntries(
      Object.entries(t.headers ?? {}).map(([k, v]) => [
        k,
        expand(v, env, problems, `${at}: headers.${k}`),
      ]),
    );
    const parameters = t.parameters ?? NO_PARAMETERS;
    let checkArguments: HttpTool['checkArguments'] = () => ({ ok: false, problem: 'not loaded' });
    try {
      checkArguments = compileArguments(parameters);
    } catch (err) {
      const reason = err instanceof Error ? err.message : 'invalid';
      problems.push(`${at}: parameters: not a usable JSON Schema (${reason})`);
    }
    return Object.freeze({
      name: t.name,
      description: t.description,
      parameters,
      url,
      method: t.method ?? 'POST',
      headers: Object.freeze(headers),
      timeoutMs: t.timeout_ms ?? options.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS,
      ...(t.message === undefined ? {} : { message: t.message }),
      checkArguments,
    });
  });
  return { tools, problems };
}

async function loadProfileFile(
  dir: string,
  fileName: string,
  name: string,
  options: LoadAgentProfilesOptions,
): Promise<{ profile?: AgentProfile; problems: string[] }> {
  const full = path.join(dir, fileName);
  const label = display(full);
  let text: string;
  try {
    text = (await readFile(full, 'utf8')).replace(/^\uFEFF/, '');
  } catch (err) {
    return { problems: [`${label}: cannot read (${errnoCode(err)})`] };
  }
  const parsed = parseProfileText(text, path.extname(fileName).toLowerCase());
  if ('problem' in parsed) return { problems: [`${label}: ${parsed.problem}`] };

  const check = checkProfileFile(parsed.data);
  // Documents files are read even when other fields are wrong, so all problems show at once.
  const files = documentsFiles(parsed.data);
  const read = files ? await readDocuments(dir, files) : { text: '', problems: [] };
  const problems = [...check.problems.map((p) => `${p.field}: ${p.message}`), ...read.problems].map(
    (p) => `${label}: ${p}`,
  );
  if (!check.ok || problems.length > 0) return { problems };
  const tools = loadTools(check.file, options);
  if (tools.problems.length > 0) return { problems: tools.problems.map((p) => `${label}: ${p}`) };
  const documents = check.file.documents ?? read.text;
  return {
    profile: toAgentProfile(name, label, check.file, documents, tools.tools),
    problems: [],
  };
}

/**
 * Loads every profile in `dir` (profile name = file name without extension). Throws one
 * VoicebotError('AGENT_INVALID') listing every problem, one per line as `file: field: what`;
 * VoicebotError('CONFIG_INVALID') when `dir` exists but cannot be read as a folder.
 */
export async function loadAgentProfiles(
  dir: string,
  options: LoadAgentProfilesOptions = {},
): Promise<AgentRegistry> {
  let entries: string[] = [];
  try {
    const dirents = await readdir(dir, { withFileTypes: true });
    entries = dirents
      .filter((d) => d.isFile() || d.isSymbolicLink())
      .map((d) => d.name)
      .filter((n) => !n.startsWith('.') && PROFILE_EXTENSIONS.has(path.extname(n).toLowerCase()))
      .sort();
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') {
      throw new VoicebotError(
        'CONFIG_INVALID',
        `Cannot read the agent profiles folder ${display(dir)} (${errnoCode(err)})`,
        { cause: err },
      );
    }
  }

  const problems: string[] = [];
  const profiles: AgentProfile[] = [];
  const seen = new Map<string, string>();
  for (const fileName of entries) {
    const name = path.basename(fileName, path.extname(fileName));
    const label = display(path.join(dir, fileName));
    if (!AGENT_NAME_PATTERN.test(name)) {
      problems.push(
        `${label}: (file name): a profile name must be 1 to 40 letters, digits, _ or -`,
      );
      continue;
    }
    const other = seen.get(name);
    if (other !== undefined) {
      problems.push(`${label}: (file name): profile "${name}" is also defined by ${other}`);
      continue;
    }
    seen.set(name, label);
    const loaded = await loadProfileFile(dir, fileName, name, options);
    problems.push(...loaded.problems);
    if (loaded.profile) profiles.push(loaded.profile);
  }

  const { defaultAgent } = options;
  if (defaultAgent !== undefined && !seen.has(defaultAgent)) {
    const have = [...seen.keys()].join(', ') || 'none';
    problems.push(
      `${display(dir)}: default agent "${defaultAgent}" has no profile file (profiles: ${have})`,
    );
  }
  if (problems.length > 0) {
    throw new VoicebotError(
      'AGENT_INVALID',
      `Invalid agent profiles:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
  return createAgentRegistry(profiles, defaultAgent);
}
