/**
 * Acceptance: the SigmaHQ regression corpus (real Windows events recorded while each attack ran)
 * through the product's own path: OTLP/JSON decode → createRecordMapper() → the whole active SigmaHQ
 * ruleset, loaded once with the shipped logsource mapping. Each case's rule must fire at least
 * match_count times (1 when null) in every shape the case lists (signoz, map, raw).
 * When a case fails, the message says whether the event reached the rule (routing, a mapping matter)
 * and which fields the rule names that the event lacks, so the cause is visible in the test output.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadRuleset, type Ruleset } from '../../src/detect/ruleset.ts';
import { loadLogsourceMapping } from '../../src/map/logsource-mapping.ts';
import { createRecordMapper } from '../../src/map/map-records.ts';
import type { LogsourceMapping, SigmaEvent } from '../../src/map/types.ts';
import { loadManifest, caseRecords, hasCorpus, SHARED_SIGMA, type CorpusCase, type Shape } from '../helpers/corpus.ts';

const RULE_TREES = ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-placeholder'];
const SKIP_NOTE = hasCorpus ? '' : ' (skipped: ../shared/sigma/regression is absent)';

let mapping: LogsourceMapping;
let ruleset: Ruleset;

describe(`SigmaHQ regression corpus: each case's rule fires in every listed shape${SKIP_NOTE}`, { skip: !hasCorpus }, () => {
  before(() => {
    mapping = loadLogsourceMapping();
    ruleset = loadRuleset({ paths: RULE_TREES.map((t) => join(SHARED_SIGMA, t)), mapping, placeholders: {} });
  });

  const cases = loadManifest();
  const results: { c: CorpusCase; shape: Shape; ok: boolean }[] = [];

  for (const c of cases) {
    for (const shape of c.shapes) {
      test(`${c.rule_file} [${shape}]`, () => {
        const want = c.match_count ?? 1;
        const mapper = createRecordMapper({ mapping });
        const events = mapper.map(caseRecords(c, shape)).map((m) => m.event);
        let fired = 0;
        for (const e of events) fired += ruleset.detector.evaluate(e).filter((m) => m.rule.id === c.rule_id).length;
        results.push({ c, shape, ok: fired >= want });
        assert.ok(fired >= want, `${c.rule_id} fired ${fired} times, want ≥ ${want}; ${diagnose(c, events)}`);
      });
    }
  }

  test('summary', () => {
    const pass = results.filter((r) => r.ok).length;
    console.log(`regression corpus: ${pass}/${results.length} case×shape pass`);
    assert.equal(pass, results.length);
  });
});

/** Why a rule did not fire: did any event satisfy the rule's logsource routing, and were its fields present? */
function diagnose(c: CorpusCase, events: readonly SigmaEvent[]): string {
  const rule = ruleset.rules.find((r) => r.id === c.rule_id);
  if (!rule) {
    const why = ruleset.problems.filter((p) => p.ruleId === c.rule_id || p.file.endsWith(c.rule_file)).map((p) => `${p.severity}: ${p.reason}`);
    return `rule not loaded by the engine: ${why.join('; ') || 'no problem reported'}`;
  }
  const ls = rule.logsource;
  const entry = mapping.entries.find((e) => (e.product ?? '') === ls.product && (e.category ?? '') === ls.category && (e.service ?? '') === ls.service);
  const variants = entry ? entry.variants : [mapping.fallback];
  const routed = events.filter((e) => variants.some((v) => Object.entries(v.when).every(([k, vals]) => whenMatches(e, k, vals))));
  return `${events.length} events, ${routed.length} routed to ${ls.product}/${ls.category}/${ls.service}${entry ? '' : ' (fallback)'}; event fields: ${events[0] ? Object.keys(events[0].fields).join(',') : '-'}`;
}

function whenMatches(e: SigmaEvent, key: string, vals: readonly (string | number)[]): boolean {
  const v: unknown = key.startsWith('@') ? (e.meta as unknown as Record<string, unknown>)[key.slice(1)] : e.fields[key];
  const s = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  return s !== undefined && vals.some((x) => String(x).toLowerCase() === s.toLowerCase());
}
