/**
 * docs/faults.md is what the fault tables render to, and every test a row names exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULTS_DOC, renderFaults } from './render.js';
import { SERVER_FAULTS } from './server-faults.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('docs/faults.md', () => {
  it('is the rendering of the fault tables (npm run docs:faults)', async () => {
    expect(readFileSync(FAULTS_DOC, 'utf8')).toBe(await renderFaults());
  });

  it.each(SERVER_FAULTS.map((row) => [row.fault, row] as const))(
    'names a test that exists: %s',
    (_, row) => {
      const source = readFileSync(join(ROOT, row.test.file), 'utf8');
      const quoted = [`'${row.test.title}'`, `"${row.test.title}"`, `\`${row.test.title}\``];
      expect(
        quoted.some((q) => source.includes(`it(${q}`) || source.includes(`it(\n    ${q}`)),
        `${row.test.file} has no test titled "${row.test.title}"`,
      ).toBe(true);
    },
  );
});
