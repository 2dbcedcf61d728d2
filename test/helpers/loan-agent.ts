/**
 * The acting agent the tool and call-ending tests use: a Hinglish loan assistant with an HTTP
 * tool, a transfer number, idle prompts and its own goodbye, written as a profile file.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const LOAN_TRANSFER_NUMBER = '+919800000001';

/** The profile's fields; `toolUrl` is where check_loan_status goes. */
export function loanAgent(toolUrl: string, extra: Record<string, unknown> = {}) {
  return {
    persona_name: 'Priya',
    persona_age: 28,
    tone: 'friendly',
    gender: 'female',
    city: 'Pune',
    language: 'Hinglish',
    greeting_text: 'Namaste.',
    voice: 'shimmer',
    documents: 'Home loans from 8.5 percent.',
    tools: [
      {
        name: 'check_loan_status',
        description: 'Look up the status of a loan application by its number.',
        parameters: {
          type: 'object',
          properties: { application_id: { type: 'string' } },
          required: ['application_id'],
        },
        url: toolUrl,
        method: 'POST',
        headers: { Authorization: 'Bearer ${CRM_TOKEN}' },
        timeout_ms: 5000,
        message: 'Ek second, main check karti hoon.',
      },
    ],
    transfer: { number: '+91 98000 00001', message: 'Main aapko apne colleague se jod rahi hoon.' },
    idle: { after_ms: 8000, prompts: 2, message: 'Kya aap abhi bhi line par hain?' },
    goodbye_text: 'Dhanyavaad, aapka din shubh ho.',
    ...extra,
  };
}

/** A fresh agents folder holding `loan.yaml` with these fields. */
export async function loanAgentDir(fields: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'voicebot-loan-agent-'));
  await writeFile(join(dir, 'loan.yaml'), stringify(fields));
  return dir;
}
