/** Correlation test helpers: YAML → documents (written to a temp file and read for real), rules, inputs, output digests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { documentKind } from '../../../../src/detect/rules/documents.ts';
import { readDocuments, type RuleDocument } from '../../../../src/detect/rules/load.ts';
import { scalarText } from '../../../../src/detect/rules/compile.ts';
import { Correlator, type CorrelatorOptions } from '../../../../src/detect/correlation/engine.ts';
import { parseCorrelation, resolveCorrelations } from '../../../../src/detect/correlation/parse.ts';
import type { CorrelationInput, CorrelationOutput, CorrelationRule } from '../../../../src/detect/correlation/types.ts';
import type { RuleProblem } from '../../../../src/detect/types.ts';

/** The documents of a multi-document YAML text (written to a temp file and read with readDocuments). */
export function docs(yaml: string, problems: RuleProblem[] = []): RuleDocument[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-corr-'));
  try {
    const file = path.join(dir, 'mr_test.yml');
    fs.writeFileSync(file, yaml);
    return readDocuments(file, problems).docs;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface Loaded {
  readonly rules: CorrelationRule[];
  readonly problems: RuleProblem[];
  readonly base: { id: string; name: string }[];
}

/**
 * Parses every correlation of `yaml` and resolves them against the base rules of `yaml` (documents
 * with `detection`) plus `extraBase`. A correlation that does not parse throws (use parseErr for those).
 */
export function load(yaml: string, extraBase: readonly { id: string; name: string }[] = []): Loaded {
  const problems: RuleProblem[] = [];
  const parsed: CorrelationRule[] = [];
  const base = [...extraBase];
  for (const d of docs(yaml, problems)) {
    const kind = documentKind(d);
    if (kind === 'correlation') parsed.push(parseCorrelation(d, problems));
    else if (kind === 'rule') base.push({ id: scalarText(d.root.get('id', true)), name: scalarText(d.root.get('name', true)) });
  }
  return { rules: resolveCorrelations(parsed, base, problems), problems, base };
}

/** Base rules a..e (id = name = the letter) for engine tests. */
export const BASE = ['a', 'b', 'c', 'd', 'e'].map((x) => ({ id: x, name: `rule_${x}` }));

/** One resolved correlation from a `correlation:` body (indented YAML) and optional top-level lines. */
export function corr(body: string, top = '', id = 'corr-1'): CorrelationRule {
  const yaml = `title: Test correlation ${id}\nid: ${id}\n${top}correlation:\n${body
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;
  const l = load(yaml, BASE);
  const errors = l.problems.filter((p) => p.severity === 'error');
  if (errors.length || l.rules.length !== 1) throw new Error(`correlation did not load: ${JSON.stringify(l.problems)}`);
  return l.rules[0]!;
}

export const OPTS: CorrelatorOptions = { latenessMs: 0, maxGroupsPerRule: 10_000, maxGroups: 100_000, maxEventsPerGroup: 10_000 };

export function correlator(rules: CorrelationRule | readonly CorrelationRule[], opts: Partial<CorrelatorOptions> = {}): Correlator {
  return new Correlator(Array.isArray(rules) ? rules : [rules as CorrelationRule], { ...OPTS, ...opts });
}

/** ns string of a time in seconds (fractions allowed, to the ns). */
export function ns(sec: number): string {
  return (BigInt(Math.round(sec * 1000)) * 1_000_000n).toString();
}

let seq = 0;
/** An input of rule `ruleId` at `sec` seconds with `fields`; the fingerprint defaults to a fresh one. */
export function inp(ruleId: string, sec: number, fields: Record<string, string> = {}, fp?: string, host = 'h1'): CorrelationInput {
  return { ruleId, timeNs: ns(sec), fingerprint: fp ?? `fp-${ruleId}-${sec}-${seq++}`, host, fields };
}

/** Runs everything through one push and a flush. */
export function runAll(c: Correlator, inputs: readonly CorrelationInput[], now = 0): CorrelationOutput[] {
  return [...c.push(inputs, now), ...c.flush()];
}

/** A comparable digest of outputs (order of the outputs ignored). */
export function digest(outs: readonly CorrelationOutput[]): string[] {
  return outs
    .map((o) =>
      JSON.stringify({
        r: o.rule.info.id,
        g: o.group,
        s: o.windowStartNs,
        e: o.windowEndNs,
        v: o.value,
        c: o.contributing,
        n: o.contributingCount,
        h: o.hosts,
        f: o.fingerprint,
      }),
    )
    .sort();
}

/** Window bounds in seconds and value, for readable assertions. */
export function windows(outs: readonly CorrelationOutput[]): [number, number, number][] {
  return outs.map((o) => [Number(BigInt(o.windowStartNs) / 1_000_000n) / 1000, Number(BigInt(o.windowEndNs) / 1_000_000n) / 1000, o.value]);
}

/** The spec's complete example (Examples § Failed Logins Followed by Successful Login). */
export const SPEC_FULL_EXAMPLE = `title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
description: Detects multiple failed logins by a single user followed by a successful login of that user
references:
    - https://reference.com
author: Florian Roth (Nextron Systems)
date: 2023-06-16
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
falsepositives:
    - Unlikely
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
description: Detects multiple failed logins within a certain amount of time
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
description: Detects a successful login
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
`;
