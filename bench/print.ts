/**
 * Prints a results file's markdown again without re-running anything:
 *   npx tsx bench/print.ts [bench/results.json]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatResults, type BenchResults } from './report.js';

const file = process.argv[2] ?? join(import.meta.dirname, 'results.json');
console.log(formatResults(JSON.parse(readFileSync(file, 'utf8')) as BenchResults));
