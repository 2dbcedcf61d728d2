import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadAgentProfiles } from '../../src/agents/index.js';
import { VALID_PROFILE, agentDir, loadError } from './helpers.js';

const EXAMPLES = fileURLToPath(new URL('../../agents', import.meta.url));
const yaml = (fields: Record<string, unknown>) => stringify({ ...VALID_PROFILE, ...fields });

describe('loadAgentProfiles: the example profiles', () => {
  it('loads loan_hi with its documents file and clinic_en with inline documents', async () => {
    const registry = await loadAgentProfiles(EXAMPLES);
    expect(registry.names()).toEqual(['clinic_en', 'loan_hi']);
    expect(registry.default).toBeUndefined();

    const loan = registry.get('loan_hi');
    expect(loan?.personaName).toBe('Priya');
    expect(loan?.personaAge).toBe('28');
    expect(loan?.language).toBe('Hinglish');
    expect(loan?.voice).toBe('shimmer');
    expect(loan?.bargeInMs).toBe(250);
    expect(loan?.models.llm).toBe('gpt-4o-mini');
    expect(loan?.documents).toContain('Processing fee');
    expect(loan?.documents.length).toBeGreaterThan(1000);
    expect(loan?.documents.length).toBeLessThan(2500);

    const clinic = registry.get('clinic_en');
    expect(clinic?.language).toBe('English');
    expect(clinic?.documents).toContain('dial 108');
    expect(clinic?.customerName).toBeUndefined();
    expect(registry.get('LOAN_HI')).toBeUndefined();
  });

  it('returns frozen profiles', async () => {
    const loan = (await loadAgentProfiles(EXAMPLES)).get('loan_hi');
    expect(Object.isFrozen(loan)).toBe(true);
    expect(Object.isFrozen(loan?.models)).toBe(true);
  });
});

describe('loadAgentProfiles: the folder', () => {
  it('treats a missing folder as no profiles', async () => {
    const dir = await agentDir({});
    const registry = await loadAgentProfiles(path.join(dir, 'nope'));
    expect(registry.names()).toEqual([]);
    expect(registry.default).toBeUndefined();
    expect(registry.get('loan_hi')).toBeUndefined();
  });

  it('fails when a default agent is configured but the folder is missing', async () => {
    const dir = await agentDir({});
    const err = await loadError(path.join(dir, 'nope'), { defaultAgent: 'loan_hi' });
    expect(err.code).toBe('AGENT_INVALID');
    expect(err.message).toContain('default agent "loan_hi" has no profile file');
  });

  it('fails with CONFIG_INVALID when the folder is a file', async () => {
    const dir = await agentDir({ 'agents.txt': 'x' });
    const err = await loadError(path.join(dir, 'agents.txt'));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('agents.txt (ENOTDIR)');
  });

  it('reads .yaml, .yml and .json and ignores other files, dot-files and folders', async () => {
    const dir = await agentDir({
      'a.yaml': yaml({}),
      'b.yml': yaml({ persona_name: 'Bela' }),
      'c.json': JSON.stringify({ ...VALID_PROFILE, persona_name: 'Chetan' }),
      'README.md': 'not a profile',
      '.d.yaml.swp': 'junk',
      '.e.yaml': 'junk: [',
      'docs/f.yaml': 'junk: [',
    });
    const registry = await loadAgentProfiles(dir);
    expect(registry.names()).toEqual(['a', 'b', 'c']);
    expect(registry.get('b')?.personaName).toBe('Bela');
    expect(registry.get('c')?.personaName).toBe('Chetan');
    expect(registry.get('c')?.source).toBe(path.join(dir, 'c.json'));
  });

  it('makes a profile named default the default, and a configured default wins', async () => {
    const dir = await agentDir({ 'default.yaml': yaml({}), 'other.yaml': yaml({}) });
    expect((await loadAgentProfiles(dir)).default).toBe('default');
    expect((await loadAgentProfiles(dir, { defaultAgent: 'other' })).default).toBe('other');
  });

  it('fails when the configured default agent has no profile, listing the profiles', async () => {
    const dir = await agentDir({ 'a.yaml': yaml({}) });
    const err = await loadError(dir, { defaultAgent: 'b' });
    expect(err.message).toContain(`${dir}: default agent "b" has no profile file (profiles: a)`);
  });
});

describe('loadAgentProfiles: fields', () => {
  it('accepts a numeric or text age, voice_id as an alias, and customer_name', async () => {
    const { voice: _voice, ...noVoice } = VALID_PROFILE;
    const dir = await agentDir({
      'a.yaml': stringify({
        ...noVoice,
        voice_id: 'alloy',
        persona_age: 'tees',
        customer_name: 'Sunil',
      }),
    });
    const a = (await loadAgentProfiles(dir)).get('a');
    expect(a?.voice).toBe('alloy');
    expect(a?.personaAge).toBe('tees');
    expect(a?.customerName).toBe('Sunil');
  });

  it('joins documents_files in order, read relative to the folder', async () => {
    const { documents: _d, ...noDocs } = VALID_PROFILE;
    const dir = await agentDir({
      'a.yaml': stringify({ ...noDocs, documents_files: ['docs/one.md', 'two.txt'] }),
      'docs/one.md': '\uFEFFFirst part.\n',
      'two.txt': '\nSecond part.',
    });
    expect((await loadAgentProfiles(dir)).get('a')?.documents).toBe('First part.\n\nSecond part.');
  });
});

describe('loadAgentProfiles: each problem names the file and the field', () => {
  it('reports a wrong type', async () => {
    const dir = await agentDir({ 'loan_hi.yaml': yaml({ barge_in_ms: 'fast' }) });
    const err = await loadError(dir);
    expect(err.code).toBe('AGENT_INVALID');
    expect(err.message).toContain(
      `${path.join(dir, 'loan_hi.yaml')}: barge_in_ms: expected a number`,
    );
  });

  it('reports an out-of-range setting and a missing field', async () => {
    const { city: _city, ...noCity } = VALID_PROFILE;
    const dir = await agentDir({ 'a.yaml': stringify({ ...noCity, endpointing_ms: 20 }) });
    const err = await loadError(dir);
    expect(err.message).toContain('a.yaml: endpointing_ms: must be an integer from 100 to 5000');
    expect(err.message).toContain('a.yaml: city: required');
  });

  it('reports unknown keys, at the top level with a suggestion and nested', async () => {
    const { persona_name: _n, ...noName } = VALID_PROFILE;
    const dir = await agentDir({
      'a.yaml': stringify({ ...noName, persona_nme: 'Ravi', models: { lmm: 'gpt-4o' } }),
    });
    const err = await loadError(dir);
    expect(err.message).toContain(
      'a.yaml: persona_nme: unknown field (did you mean persona_name?)',
    );
    expect(err.message).toContain('a.yaml: models.lmm: unknown field');
    expect(err.message).toContain('a.yaml: persona_name: required');
  });

  it('reports a file that is not a mapping', async () => {
    const dir = await agentDir({ 'a.yaml': '- one\n- two\n' });
    expect((await loadError(dir)).message).toContain(
      'a.yaml: (profile): expected a mapping of fields',
    );
  });

  it('reports both or neither of voice / voice_id and documents / documents_files', async () => {
    const { voice: _v, documents: _d, ...bare } = VALID_PROFILE;
    const dir = await agentDir({
      'both.yaml': yaml({ voice_id: 'alloy', documents_files: ['x.md'] }),
      'none.yaml': stringify(bare),
      'x.md': 'x',
    });
    const err = await loadError(dir);
    expect(err.message).toContain(
      'both.yaml: voice_id: give voice or its alias voice_id, not both',
    );
    expect(err.message).toContain('both.yaml: documents_files: give documents or documents_files');
    expect(err.message).toContain('none.yaml: voice: required');
    expect(err.message).toContain('none.yaml: documents: required');
  });

  it('reports a bad profile name', async () => {
    const dir = await agentDir({ 'loan v2.yaml': yaml({}), [`${'x'.repeat(41)}.json`]: '{}' });
    const err = await loadError(dir);
    expect(err.message).toContain('loan v2.yaml: (file name): a profile name must be 1 to 40');
    expect(err.message).toContain(`${'x'.repeat(41)}.json: (file name)`);
  });

  it('reports a missing, empty or outside documents file by its entry', async () => {
    const { documents: _d, ...noDocs } = VALID_PROFILE;
    const dir = await agentDir({
      'a.yaml': stringify({ ...noDocs, documents_files: ['docs/missing.md'] }),
      'b.yaml': stringify({ ...noDocs, documents_files: ['ok.md', 'empty.md'] }),
      'c.yaml': stringify({ ...noDocs, documents_files: ['../secret.md'] }),
      'ok.md': 'fine',
      'empty.md': '  \n',
    });
    const err = await loadError(dir);
    expect(err.message).toContain(
      `a.yaml: documents_files[0]: cannot read ${path.join(dir, 'docs/missing.md')} (ENOENT)`,
    );
    expect(err.message).toContain('b.yaml: documents_files[1]:');
    expect(err.message).toContain('empty.md is empty');
    expect(err.message).toContain(`c.yaml: documents_files[0]: must be a path inside ${dir}`);
  });

  it('reads documents files even when other fields are wrong', async () => {
    const { documents: _d, ...noDocs } = VALID_PROFILE;
    const dir = await agentDir({
      'a.yaml': stringify({ ...noDocs, tone: 3, documents_files: ['gone.md'] }),
    });
    const err = await loadError(dir);
    expect(err.message).toContain('a.yaml: tone: expected a string');
    expect(err.message).toContain('a.yaml: documents_files[0]: cannot read');
  });

  it('reports a duplicate name across extensions', async () => {
    const dir = await agentDir({ 'a.yaml': yaml({}), 'a.json': JSON.stringify(VALID_PROFILE) });
    const err = await loadError(dir);
    expect(err.message).toContain(
      `a.yaml: (file name): profile "a" is also defined by ${path.join(dir, 'a.json')}`,
    );
  });

  it('reports invalid YAML with its line and column', async () => {
    const dir = await agentDir({ 'bad.yaml': 'persona_name: Ravi\ntone: calm\ncity: [Jaipur\n' });
    const err = await loadError(dir);
    expect(err.message).toMatch(/bad\.yaml: line 4, column \d+: invalid YAML: /);
  });

  it('reports a duplicate YAML key with its line', async () => {
    const dir = await agentDir({ 'dup.yaml': `${yaml({})}tone: loud\n` });
    const lines = yaml({}).split('\n').length;
    expect((await loadError(dir)).message).toContain(
      `dup.yaml: line ${lines}, column 1: invalid YAML`,
    );
  });

  it('reports invalid JSON with its line and column', async () => {
    const dir = await agentDir({ 'bad.json': '{\n  "persona_name": "Ravi",\n  "tone" "calm"\n}' });
    expect((await loadError(dir)).message).toMatch(/bad\.json: line 3, column 10: invalid JSON: /);
  });

  it('collects the problems of every file in one error, one per line', async () => {
    const dir = await agentDir({
      'a.yaml': yaml({ barge_in_ms: 'fast', tone: 7 }),
      'b.json': '{',
      'c.yaml': yaml({}),
    });
    const err = await loadError(dir);
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('Invalid agent profiles:');
    expect(lines.slice(1)).toEqual([
      expect.stringContaining('a.yaml: tone: expected a string'),
      expect.stringContaining('a.yaml: barge_in_ms: expected a number'),
      expect.stringContaining('b.json: '),
    ]);
  });

  it('reads a documents file larger than the limit as a problem', async () => {
    const { documents: _d, ...noDocs } = VALID_PROFILE;
    const dir = await agentDir({ 'a.yaml': stringify({ ...noDocs, documents_files: ['big.md'] }) });
    await writeFile(path.join(dir, 'big.md'), 'x'.repeat(1024 * 1024 + 1));
    expect((await loadError(dir)).message).toContain('big.md is larger than 1048576 bytes');
  });
});

describe('loadAgentProfiles: tools and call endings', () => {
  const TOOL = {
    name: 'check_loan_status',
    description: 'Look up a loan application.',
    parameters: {
      type: 'object',
      properties: { application_id: { type: 'string' } },
      required: ['application_id'],
    },
    url: 'https://crm.example.com/loan-status',
    headers: { Authorization: 'Bearer ${CRM_TOKEN}', 'X-Team': 'loans' },
    message: 'Ek second.',
  };
  const env = (vars: Record<string, string>) => (name: string) => vars[name];

  it('reads a tool with its secret from the environment and its arguments check compiled', async () => {
    const dir = await agentDir({
      'loan.yaml': yaml({
        tools: [
          TOOL,
          {
            ...TOOL,
            name: 'hours',
            url: 'https://crm.example.com/h',
            method: 'get',
            headers: undefined,
          },
        ],
        transfer: { number: '+91 98000-00001' },
        idle: { after_ms: 8000, prompts: 2, message: 'Hello?' },
        max_call_ms: 900000,
        end_call: false,
        goodbye_text: 'Bye.',
      }),
    });
    const loan = (
      await loadAgentProfiles(dir, { env: env({ CRM_TOKEN: 'tok-123' }), toolTimeoutMs: 4000 })
    ).get('loan')!;
    const [check, hours] = loan.tools;
    expect(check).toMatchObject({
      method: 'POST',
      headers: { Authorization: 'Bearer tok-123', 'X-Team': 'loans' },
      timeoutMs: 4000,
      message: 'Ek second.',
    });
    expect(hours).toMatchObject({ method: 'GET', headers: {} });
    expect(check!.checkArguments('{"application_id":"HL-1"}')).toEqual({
      ok: true,
      args: { application_id: 'HL-1' },
    });
    expect(check!.checkArguments('{}')).toMatchObject({ ok: false });
    expect(loan).toMatchObject({
      transfer: { number: '+919800000001' },
      idle: { afterMs: 8000, prompts: 2, message: 'Hello?' },
      maxCallMs: 900000,
      endCall: false,
      goodbyeText: 'Bye.',
    });
  });

  it('fails start-up naming the profile, the tool and a variable that is not set', async () => {
    const dir = await agentDir({ 'loan.yaml': yaml({ tools: [TOOL] }) });
    const err = await loadError(dir, { env: env({}) });
    expect(err.code).toBe('AGENT_INVALID');
    expect(err.message).toContain(
      `${path.join(dir, 'loan.yaml')}: tools[0] (check_loan_status): headers.Authorization: environment variable CRM_TOKEN is not set`,
    );
  });

  it.each([
    [
      'a name OpenAI refuses',
      { ...TOOL, name: 'check status' },
      'tools[0].name: must be 1 to 64 letters',
    ],
    [
      'a built-in name',
      { ...TOOL, name: 'end_call' },
      'tools[0].name: is the name of a built-in tool',
    ],
    [
      'parameters that are not an object schema',
      { ...TOOL, parameters: { type: 'string' } },
      'tools[0].parameters: must be a JSON Schema with type: object',
    ],
    [
      'a URL that is not http(s)',
      { ...TOOL, url: 'ftp://crm' },
      'tools[0].url: must be an http:// or https:// URL',
    ],
    ['an unknown method', { ...TOOL, method: 'DELETE' }, 'tools[0].method: must be GET or POST'],
    [
      'a schema ajv cannot compile',
      { ...TOOL, parameters: { type: 'object', properties: { a: { type: 'strin' } } } },
      'parameters: not a usable JSON Schema',
    ],
    [
      'a tool with no description',
      { ...TOOL, description: undefined },
      'tools[0].description: required',
    ],
  ])('refuses %s', async (_name, bad, problem) => {
    const dir = await agentDir({ 'loan.yaml': yaml({ tools: [bad] }) });
    const err = await loadError(dir, { env: env({ CRM_TOKEN: 't' }) });
    expect(err.message).toContain(problem);
  });

  it.each([
    [
      'two tools with one name',
      { tools: [TOOL, TOOL] },
      'tools[1].name: "check_loan_status" is used twice',
    ],
    [
      'a transfer number that is not one',
      { transfer: { number: 'call Ravi' } },
      'transfer.number: must be a phone number',
    ],
    [
      'an idle wait over ten minutes',
      { idle: { after_ms: 700000 } },
      'idle.after_ms: must be an integer from 0 to 600000',
    ],
    [
      'a time limit under ten seconds',
      { max_call_ms: 5000 },
      'max_call_ms: must be an integer from 10000 to 14400000',
    ],
  ])('refuses %s', async (_name, fields, problem) => {
    const dir = await agentDir({ 'loan.yaml': yaml(fields) });
    const err = await loadError(dir, { env: env({ CRM_TOKEN: 't' }) });
    expect(err.message).toContain(problem);
  });
});
