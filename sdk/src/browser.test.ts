import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

/** The module specifiers in a file as tsc writes it: `import ... from '...'`, `export ... from '...'`, `import('...')`. */
const SPECIFIER = /\bfrom '([^']+)'|\bimport\('([^']+)'\)|^import '([^']+)'/gm;

/** What `file` and the files of ours it imports, transitively, import from outside. */
function outsideImports(file: string, seen = new Set<string>()): Set<string> {
  const outside = new Set<string>();
  if (seen.has(file)) return outside;
  seen.add(file);
  for (const match of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
    const spec = (match[1] ?? match[2] ?? match[3])!;
    const found = spec.startsWith('.') ? outsideImports(path.resolve(path.dirname(file), spec), seen) : [spec];
    for (const name of found) outside.add(name);
  }
  return outside;
}

test('the browser entry reaches no Node.js module, only TypeBox', () => {
  const outside = [...outsideImports(path.join(import.meta.dirname, 'browser.js'))];
  assert.deepEqual(outside.filter((spec) => !spec.startsWith('@sinclair/typebox')), []);
  assert.ok(outside.length > 0, 'the scan finds the imports it looks for');
});
