// A profile goes all the way to the system prompt: file → loader → resolve → buildSystemPrompt.
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadAgentProfiles, resolveCallAgent } from '../../src/agents/index.js';
import { DOCUMENTS_TRUNCATED_MARKER, buildSystemPrompt } from '../../src/conversation/persona.js';
import { agentDir } from './helpers.js';

/** About 5 KB of numbered facts, so a cut shows which ones survived. */
const DOCUMENTS = Array.from(
  { length: 80 },
  (_, i) => `Fact ${i + 1}: branch ${i + 1} opens at ${9 + (i % 3)} am.`,
).join('\n');

async function tenFieldAgent() {
  const dir = await agentDir({
    'shop.yaml': stringify({
      persona_name: 'Kavya',
      persona_age: 26,
      tone: 'cheerful',
      gender: 'female',
      city: 'Chennai',
      language: 'Tamil',
      customer_name: 'Arjun',
      greeting_text: 'Vanakkam!',
      voice: 'coral',
      documents_files: ['docs/shop.md'],
    }),
    'docs/shop.md': DOCUMENTS,
  });
  return loadAgentProfiles(dir);
}

describe('agent profile to system prompt', () => {
  it('carries every persona field and all 5 KB of documents into the prompt', async () => {
    expect(DOCUMENTS.length).toBeGreaterThan(2500);
    expect(DOCUMENTS.length).toBeLessThan(6000);
    const { params } = resolveCallAgent(await tenFieldAgent(), { agent: 'shop' }, undefined);
    const prompt = buildSystemPrompt(params);

    expect(prompt).toContain('You are Kavya, 26 saal ki cheerful female from Chennai.');
    expect(prompt).toContain('Baat karo Tamil mein.');
    expect(prompt).toContain(`Sirf in documents se jawab do: ${DOCUMENTS}\n`);
    expect(prompt).toContain('Customer ka naam: Arjun');
    expect(prompt).not.toContain(DOCUMENTS_TRUNCATED_MARKER);
    expect(params['greeting_text']).toBe('Vanakkam!');
    expect(params['voice_id']).toBe('coral');
  });

  it("cuts the documents at the prompt's maxDocumentChars", async () => {
    const { params } = resolveCallAgent(await tenFieldAgent(), { agent: 'shop' }, undefined);
    const prompt = buildSystemPrompt(params, { maxDocumentChars: 1000 });
    const start = prompt.indexOf('Sirf in documents se jawab do: ') + 31;
    const kept = prompt.slice(start, prompt.indexOf(` ${DOCUMENTS_TRUNCATED_MARKER}`));

    expect(prompt).toContain('Fact 1: branch 1 opens');
    expect(prompt).not.toContain('Fact 80:');
    expect(kept.length).toBeLessThanOrEqual(1000);
    expect(kept.length).toBeGreaterThan(900);
  });

  it('lets a custom parameter replace one field on the way to the prompt', async () => {
    const { params } = resolveCallAgent(
      await tenFieldAgent(),
      { agent: 'shop', customer_name: 'Meena' },
      undefined,
    );
    const prompt = buildSystemPrompt(params);
    expect(prompt).toContain('Customer ka naam: Meena');
    expect(prompt).not.toContain('Arjun');
    expect(prompt).toContain('You are Kavya');
  });
});
