// Temp agent folders for the loader tests, and a valid profile to break one field at a time.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import { loadAgentProfiles } from '../../src/agents/index.js';
import type { LoadAgentProfilesOptions } from '../../src/agents/index.js';
import { VoicebotError } from '../../src/errors.js';

export const VALID_PROFILE = {
  persona_name: 'Ravi',
  persona_age: 30,
  tone: 'calm',
  gender: 'male',
  city: 'Jaipur',
  language: 'Hindi',
  greeting_text: 'Namaste, main Ravi bol raha hoon.',
  voice: 'onyx',
  documents: 'Shop opens at 10 am.',
};

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh folder holding `files` (relative path → contents); removed after the test. */
export async function agentDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'voicebot-agents-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
  return dir;
}

/** The error loading `dir` fails with; fails the test when loading succeeds. */
export async function loadError(
  dir: string,
  options?: LoadAgentProfilesOptions,
): Promise<VoicebotError> {
  try {
    await loadAgentProfiles(dir, options);
  } catch (err) {
    expect(err).toBeInstanceOf(VoicebotError);
    return err as VoicebotError;
  }
  throw new Error('expected loadAgentProfiles to fail');
}
