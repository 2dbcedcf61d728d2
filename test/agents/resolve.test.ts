import { describe, expect, it } from 'vitest';
import {
  agentProfileFileSchema,
  createAgentRegistry,
  resolveCallAgent,
  toAgentProfile,
} from '../../src/agents/index.js';
import type { AgentProfile } from '../../src/agents/index.js';
import { VALID_PROFILE } from './helpers.js';

function profile(name: string, fields: Record<string, unknown> = {}): AgentProfile {
  const file = agentProfileFileSchema.parse({ ...VALID_PROFILE, ...fields });
  return toAgentProfile(name, `agents/${name}.yaml`, file, file.documents ?? '');
}

const loan = profile('loan_hi', {
  persona_name: 'Priya',
  gender: 'female',
  customer_name: 'Rahul',
  voice: 'shimmer',
  documents: 'Home loan from 8.5 percent.',
  models: { llm: 'gpt-4o', stt: 'whisper-1', tts: 'tts-1' },
  endpointing_ms: 700,
  barge_in_ms: 300,
  fallback_text: 'Phir se boliye?',
});
const clinic = profile('clinic_en', { persona_name: 'Anita', language: 'English' });
const registry = createAgentRegistry([loan, clinic]);

describe('resolveCallAgent: which profile', () => {
  it('picks the agent named by the custom parameter, flattened to the seed names', () => {
    const r = resolveCallAgent(registry, { agent: 'loan_hi' }, 'clinic_en');
    expect(r.agent).toBe('loan_hi');
    expect(r.warnings).toEqual([]);
    expect(r.params).toEqual({
      persona_name: 'Priya',
      persona_age: '30',
      tone: 'calm',
      gender: 'female',
      city: 'Jaipur',
      language: 'Hindi',
      documents: 'Home loan from 8.5 percent.',
      customer_name: 'Rahul',
      greeting_text: 'Namaste, main Ravi bol raha hoon.',
      voice_id: 'shimmer',
    });
    expect(r.overrides).toEqual({
      endpointingMs: 700,
      bargeInMs: 300,
      llmModel: 'gpt-4o',
      sttModel: 'whisper-1',
      ttsModel: 'tts-1',
      fallbackText: 'Phir se boliye?',
      voice: 'shimmer',
    });
  });

  it('uses the default agent when the call names none (or a blank one)', () => {
    expect(resolveCallAgent(registry, {}, 'clinic_en').agent).toBe('clinic_en');
    expect(resolveCallAgent(registry, { agent: '  ' }, 'clinic_en').params['persona_name']).toBe(
      'Anita',
    );
  });

  it("falls back to the registry's default when no default is passed", () => {
    const withDefault = createAgentRegistry([loan, clinic], 'loan_hi');
    expect(resolveCallAgent(withDefault, {}, undefined).agent).toBe('loan_hi');
    expect(resolveCallAgent(withDefault, {}, 'clinic_en').agent).toBe('clinic_en');
  });

  it('with no agent and no default, passes the custom parameters through as in the seed', () => {
    const custom = { persona_name: 'Seema', voice_id: 'nova', customer_name: '' };
    const r = resolveCallAgent(registry, custom, undefined);
    expect(r.agent).toBeUndefined();
    expect(r.params).toEqual(custom);
    expect(r.overrides).toEqual({ voice: 'nova' });
    expect(r.warnings).toEqual([]);
  });

  it('warns about an unknown agent and uses no profile', () => {
    const r = resolveCallAgent(registry, { agent: 'loan_en', persona_name: 'Seema' }, 'clinic_en');
    expect(r.agent).toBeUndefined();
    expect(r.params).toEqual({ persona_name: 'Seema' });
    expect(r.overrides).toEqual({});
    expect(r.warnings).toEqual([
      'custom parameter agent "loan_en" has no profile; using the custom parameters alone',
    ]);
  });

  it('does not echo an agent name that is not a valid name', () => {
    const r = resolveCallAgent(registry, { agent: '<script>' }, undefined);
    expect(r.warnings).toEqual([
      'custom parameter agent is not a valid agent name; using the custom parameters alone',
    ]);
  });

  it('warns about an unknown default agent', () => {
    const r = resolveCallAgent(registry, {}, 'gone');
    expect(r.agent).toBeUndefined();
    expect(r.warnings).toEqual([
      'default agent "gone" has no profile; using the custom parameters alone',
    ]);
  });
});

describe('resolveCallAgent: custom parameters override one by one', () => {
  it('replaces only the fields given, keeps the rest and adds new ones', () => {
    const r = resolveCallAgent(
      registry,
      { agent: 'loan_hi', customer_name: 'Sunita', city: 'Nagpur', loan_id: 'L-7' },
      undefined,
    );
    expect(r.params['customer_name']).toBe('Sunita');
    expect(r.params['city']).toBe('Nagpur');
    expect(r.params['loan_id']).toBe('L-7');
    expect(r.params['persona_name']).toBe('Priya');
    expect(r.params['documents']).toBe('Home loan from 8.5 percent.');
    expect(r.params).not.toHaveProperty('agent');
  });

  it('never lets a blank value replace a profile value', () => {
    const r = resolveCallAgent(registry, { agent: 'loan_hi', greeting_text: ' ' }, undefined);
    expect(r.params['greeting_text']).toBe('Namaste, main Ravi bol raha hoon.');
  });

  it('keeps "__proto__" as a plain parameter', () => {
    const r = resolveCallAgent(
      registry,
      JSON.parse('{"__proto__": "x"}') as Record<string, string>,
      undefined,
    );
    expect(Object.getPrototypeOf(r.params)).toBe(Object.prototype);
    expect(Object.keys(r.params)).toEqual(['__proto__']);
  });

  it('overrides the voice by voice_id, or by its alias voice; voice_id wins', () => {
    const byId = resolveCallAgent(registry, { agent: 'loan_hi', voice_id: 'alloy' }, undefined);
    expect(byId.params['voice_id']).toBe('alloy');
    expect(byId.overrides.voice).toBe('alloy');

    const byAlias = resolveCallAgent(registry, { agent: 'loan_hi', voice: 'echo' }, undefined);
    expect(byAlias.params['voice_id']).toBe('echo');
    expect(byAlias.overrides.voice).toBe('echo');

    const both = resolveCallAgent(registry, { voice: 'echo', voice_id: 'alloy' }, undefined);
    expect(both.overrides.voice).toBe('alloy');
  });

  it('overrides endpointing_ms, barge_in_ms and fallback_text when valid', () => {
    const r = resolveCallAgent(
      registry,
      { agent: 'loan_hi', endpointing_ms: ' 900 ', barge_in_ms: '0', fallback_text: 'Sorry?' },
      undefined,
    );
    expect(r.overrides.endpointingMs).toBe(900);
    expect(r.overrides.bargeInMs).toBe(0);
    expect(r.overrides.fallbackText).toBe('Sorry?');
    expect(r.warnings).toEqual([]);
  });

  it('ignores a numeric parameter that is not a sane integer, with a warning', () => {
    const r = resolveCallAgent(
      registry,
      { agent: 'loan_hi', endpointing_ms: '1e3', barge_in_ms: '99999' },
      undefined,
    );
    expect(r.overrides.endpointingMs).toBe(700);
    expect(r.overrides.bargeInMs).toBe(300);
    expect(r.warnings).toEqual([
      'custom parameter endpointing_ms ignored: expected an integer from 100 to 5000',
      'custom parameter barge_in_ms ignored: expected an integer from 0 to 5000',
    ]);

    const none = resolveCallAgent(registry, { endpointing_ms: '50', barge_in_ms: '-1' }, undefined);
    expect(none.overrides).toEqual({});
    expect(none.warnings).toHaveLength(2);
  });
});
