/** Every YAML and JSON block of the README and docs/ parses, and the configuration example is a valid configuration. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import YAML from 'yaml';
import { loadConfig } from '../../../src/config/load.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const pages = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

interface Block { readonly page: string; readonly line: number; readonly lang: string; readonly text: string }

function blocks(page: string): Block[] {
  const text = fs.readFileSync(path.join(ROOT, page), 'utf8');
  const out: Block[] = [];
  for (const m of text.matchAll(/^```(yaml|yml|json)[ \t]*\n([\s\S]*?)^```/gm)) {
    out.push({ page, line: text.slice(0, m.index).split('\n').length, lang: m[1]!, text: m[2]! });
  }
  return out;
}

const all = pages.flatMap(blocks);

describe('documentation code blocks', () => {
  test('there are blocks to check (README has the collector exporter, docs/configuration.md the example)', () => {
    assert.ok(all.some((b) => b.page === 'README.md'));
    assert.ok(all.some((b) => b.page === 'docs/configuration.md'));
  });

  for (const b of all) {
    test(`${b.page}:${b.line} (${b.lang}) parses`, () => {
      if (b.lang === 'json') {
        JSON.parse(b.text);
        return;
      }
      for (const doc of YAML.parseAllDocuments(b.text, { uniqueKeys: true })) {
        assert.deepEqual(doc.errors.map((e) => e.message), [], `${b.page}:${b.line}`);
      }
    });
  }

  test('the example in docs/configuration.md is accepted by the configuration loader', () => {
    const example = all.find((b) => b.page === 'docs/configuration.md')!;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-doc-block-')), 'example.yaml');
    try {
      fs.writeFileSync(file, example.text);
      const cfg = loadConfig({ file });
      assert.equal(cfg.rules.min_level, 'medium');
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});
