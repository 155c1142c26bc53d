/**
 * What a detection worker loads is loaded once per core: the workers' static import graph holds the rule
 * engine, the decoders and the mappers, and no transport, storage, alerting, configuration or schema
 * library (grpc-js alone was ~3 MB of heap in each worker; zod, for the mapping files, another ~1 MB).
 * Type-only imports are erased and do not count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const SRC = path.join(import.meta.dirname, '../../../src');
const ALLOWED_PACKAGES = new Set(['yaml', 'protobufjs/minimal.js']);
const FORBIDDEN_DIRS = ['receive', 'store', 'alert', 'config', 'cli', 'telemetry', 'wal'];

/** Every module a worker file loads (relative paths) and every package it names. */
function importGraph(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = fs.readFileSync(file, 'utf8');
    const specs = [
      ...[...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+['"]([^'"]+)['"]/gms)].map((m) => m[1]!),
      ...[...text.matchAll(/^import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!),
      ...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!),
    ];
    for (const spec of specs) {
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec));
      else if (!packages.has(spec)) packages.set(spec, path.relative(SRC, file));
    }
  };
  visit(entry);
  return { files, packages };
}

for (const worker of ['detect/worker.ts', 'hunt/worker.ts']) {
  test(`${worker} loads the engine and its inputs only`, () => {
    const { files, packages } = importGraph(path.join(SRC, worker));
    assert.ok(files.size > 20, `${files.size} modules: the graph was walked`);
    const foreign = [...packages].filter(([p]) => !p.startsWith('node:') && !ALLOWED_PACKAGES.has(p));
    assert.deepEqual(foreign, [], 'packages a worker should not load (package, first importer)');
    const outside = [...files].map((f) => path.relative(SRC, f)).filter((f) => FORBIDDEN_DIRS.some((d) => f.startsWith(`${d}/`)));
    assert.deepEqual(outside, [], 'modules of other stages in a worker');
    assert.ok(packages.has('yaml'), 'the walk sees package imports');
  });
}
