/** Test helpers: rules from YAML text (written to a temp dir and loaded for real), events, a tiny mapping. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRuleset, type Ruleset, type RulesetOptions } from '../../../src/detect/ruleset.ts';
import type { FieldValue, LogsourceMapping, SigmaEvent } from '../../../src/map/types.ts';

/**
 * `test`-product rules see events whose meta.source is `test`; windows/process_creation comes as
 * Sysmon EID 1 or Security 4688 (with thor's renames); unmapped rules see `generic` events.
 */
export const MAPPING: LogsourceMapping = {
  entries: [
    { product: 'test', variants: [{ when: { '@source': ['test'] } }] },
    {
      product: 'windows',
      category: 'process_creation',
      variants: [
        { when: { Channel: ['Microsoft-Windows-Sysmon/Operational'], EventID: [1] } },
        { when: { Channel: ['Security'], EventID: [4688] }, rename: { Image: 'NewProcessName', ParentImage: 'ParentProcessName' } },
      ],
    },
    { product: 'windows', service: 'security', variants: [{ when: { Channel: ['Security'] } }] },
  ],
  fallback: { when: { '@source': ['generic'] } },
};

export function event(fields: Record<string, FieldValue>, source = 'test'): SigmaEvent {
  return { fields, meta: { source, product: undefined, service: undefined, host: '' } };
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-rules-'));
}

/** Writes `files` (name → YAML) to a fresh temp dir and loads it. */
export function load(files: Record<string, string>, opts: Partial<RulesetOptions> = {}): Ruleset & { dir: string } {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  try {
    return { ...loadRuleset({ paths: [dir], mapping: MAPPING, ...opts }), dir };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A `test`-product rule document around a detection block (indented YAML under `detection:`). */
export function ruleYaml(detection: string, extra = '', id = '00000000-0000-4000-8000-000000000001'): string {
  return `title: Test rule ${id}
id: ${id}
status: test
level: high
logsource:
  product: test
${extra}detection:
${detection
  .trim()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;
}

/**
 * Compiles one detection; returns a predicate over event fields. Throws with the problems when
 * the rule does not load, so tests of matching semantics fail loudly on load errors.
 */
export function compile(detection: string, opts: Partial<RulesetOptions> = {}): (fields: Record<string, FieldValue>) => boolean {
  const rs = load({ 'r.yml': ruleYaml(detection) }, opts);
  if (rs.loaded !== 1) throw new Error(`rule did not load: ${rs.problems.map((p) => p.reason).join('; ')}`);
  return (fields) => rs.detector.evaluate(event(fields)).length === 1;
}

/** The first error reason when loading the detection (the rule must be rejected). */
export function rejection(detection: string, opts: Partial<RulesetOptions> = {}): string {
  const rs = load({ 'r.yml': ruleYaml(detection) }, opts);
  const err = rs.problems.find((p) => p.severity === 'error');
  if (!err || rs.rejected !== 1) throw new Error(`expected a rejection, got loaded=${rs.loaded} problems=${JSON.stringify(rs.problems)}`);
  return err.reason;
}
