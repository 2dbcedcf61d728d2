/**
 * The module graph of `src/` has no cycles (type-only imports count: two modules that need each
 * other's types are one design). Relative imports and re-exports are read from the source.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every cycle found by a depth-first walk, as a list of paths relative to src/. */
export function importCycles(files: string[]): string[][] {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const deps = [...text.matchAll(/(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/g)]
      .map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')))
      .filter((d) => known.has(d));
    graph.set(file, deps);
  }
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (state.get(dep) === 'open') cycles.push(stack.slice(stack.indexOf(dep)));
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return cycles.map((c) => c.map((f) => relative(SRC, f)));
}

describe('module graph', () => {
  it('has no import cycles in src/', () => {
    expect(importCycles(sourceFiles(SRC))).toEqual([]);
  });

  it('finds a cycle made of type-only imports', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cycle-'));
    writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js';\nexport type A = B;\n");
    writeFileSync(
      join(dir, 'b.ts'),
      "import { x } from './c.js';\nexport type B = { a: import('./a.js').A };\n",
    );
    writeFileSync(join(dir, 'c.ts'), "export type { A as x } from './a.js';\n");
    expect(importCycles(sourceFiles(dir))).toHaveLength(1);
  });
});
