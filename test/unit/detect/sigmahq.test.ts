/**
 * Acceptance over the SigmaHQ ruleset in ../shared/sigma (skipped when it is absent): the active
 * directories load (all 3,777 rules once every placeholder has values), every refusal has a
 * reason, and the hard cases in unsupported/ and deprecated/ never throw.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadRuleset, type Ruleset } from '../../../src/detect/ruleset.ts';
import { findRuleFiles } from '../../../src/detect/rules/load.ts';
import { event, MAPPING } from './helpers.ts';

const SIGMA = path.resolve(import.meta.dirname, '../../../../shared/sigma');
const present = fs.existsSync(path.join(SIGMA, 'rules'));
const ACTIVE = ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-placeholder'].map((d) => path.join(SIGMA, d));
const ACTIVE_RULES = 3777;

function assertReasons(rs: Ruleset): void {
  const errors = rs.problems.filter((p) => p.severity === 'error');
  assert.equal(errors.length, rs.rejected, 'one error problem per refused document');
  for (const p of rs.problems) {
    assert.ok(p.reason.trim().length > 10, `empty reason: ${JSON.stringify(p)}`);
    assert.ok(p.file, `no file: ${JSON.stringify(p)}`);
    assert.doesNotMatch(p.reason, /internal error/, `${p.file}: ${p.reason}`);
  }
}

/** Every `%name%` used with `|expand` in the active rules (read from the YAML text). */
function placeholdersUsed(): string[] {
  const names = new Set<string>();
  for (const f of findRuleFiles(ACTIVE, [])) {
    const lines = fs.readFileSync(f, 'utf8').split('\n');
    let inExpand = false;
    for (const line of lines) {
      if (/\|expand\b/.test(line)) inExpand = true;
      else if (/^\s*[\w.|-]+:/.test(line)) inExpand = false;
      if (inExpand) for (const m of line.matchAll(/%([^%\s'"]+)%/g)) names.add(m[1]!);
    }
  }
  return [...names];
}

void describe('SigmaHQ ruleset', { skip: present ? false : '../shared/sigma is not present' }, () => {
  void test('the active directories load: at least 3,752 of 3,777, every refusal with a reason', (t) => {
    const t0 = performance.now();
    const rs = loadRuleset({ paths: ACTIVE, mapping: MAPPING });
    const ms = performance.now() - t0;
    t.diagnostic(`load + compile of ${ACTIVE_RULES} rules: ${ms.toFixed(0)} ms; loaded ${rs.loaded}, rejected ${rs.rejected}`);
    assert.equal(rs.loaded + rs.rejected, ACTIVE_RULES);
    assert.ok(rs.loaded >= 3752, `loaded ${rs.loaded}`);
    assertReasons(rs);
    for (const p of rs.problems.filter((x) => x.severity === 'error')) assert.match(p.reason, /placeholder %[^%]+% has no values: set rules\.placeholders\./, `${p.file}:${p.line}`);
    assert.doesNotThrow(() => rs.detector.evaluate(event({ CommandLine: 'x', Image: 'y' }, 'windows')));
  });

  void test('with values for every placeholder used, all 3,777 load', () => {
    const names = placeholdersUsed();
    assert.ok(names.length >= 20, `found ${names.length} placeholders`);
    const placeholders = Object.fromEntries(names.map((n) => [n, [`value-of-${n}`]]));
    const rs = loadRuleset({ paths: ACTIVE, mapping: MAPPING, placeholders });
    assertReasons(rs);
    assert.deepEqual(
      rs.problems.filter((p) => p.severity === 'error'),
      [],
    );
    assert.equal(rs.loaded, ACTIVE_RULES);
  });

  void test('unsupported/ and deprecated/: nothing throws, every refusal has a reason', () => {
    const rs = loadRuleset({ paths: [path.join(SIGMA, 'unsupported'), path.join(SIGMA, 'deprecated')], mapping: MAPPING });
    assertReasons(rs);
    assert.ok(rs.rejected >= 55, `rejected ${rs.rejected}`);
    const aggregations = rs.problems.filter((p) => p.reason.startsWith('deprecated aggregation, rewrite as a correlation rule'));
    assert.ok(aggregations.length >= 54, `pipe / near rules refused as deprecated aggregations: ${aggregations.length}`);
  });
});
