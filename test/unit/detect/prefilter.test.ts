/**
 * The candidate index must never change results: with and without it the same rules match.
 * Checked on crafted witnesses, on SigmaHQ rules against events built from their own needles
 * (so many rules come close to matching), and on the regression corpus events.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadRuleset } from '../../../src/detect/ruleset.ts';
import { EventView, FieldSlots } from '../../../src/detect/rules/event-view.ts';
import { RoutePrefilter } from '../../../src/detect/rules/prefilter.ts';
import { ANY_FIELD, type Witness } from '../../../src/detect/rules/combine.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';
import type { FieldValue, SigmaEvent } from '../../../src/map/types.ts';
import { loadManifest, caseRecords, hasCorpus } from '../../helpers/corpus.ts';
import { createRecordMapper } from '../../../src/map/map-records.ts';
import { load, ruleYaml } from './helpers.ts';
import { rng } from '../../helpers/rng.ts';

const SIGMA = path.resolve(import.meta.dirname, '../../../../shared/sigma');
const HAVE_SIGMA = fs.existsSync(path.join(SIGMA, 'rules'));

function candidatesFor(witnesses: (Witness | null)[], fields: Record<string, FieldValue>): number[] {
  const slots = new FieldSlots();
  const table = Int32Array.from(['A', 'B'], (f) => slots.slot(f));
  const pf = new RoutePrefilter(witnesses.map((witness) => ({ witness, slots: table })));
  const view = new EventView(slots);
  view.reset({ fields, meta: { source: 't', product: undefined, service: undefined, host: '' } });
  const n = pf.candidates(view, 1);
  return [...pf.list.subarray(0, n)];
}

void describe('RoutePrefilter', () => {
  void test('exact, prefix, suffix, substring and keyword facts; rules without a witness always run', () => {
    const w: (Witness | null)[] = [
      [{ f: 0, k: 'eq', s: 'cmd.exe' }],
      [{ f: 0, k: 'sw', s: 'c:\\windows' }],
      [{ f: 0, k: 'ew', s: '\\whoami.exe' }],
      [{ f: 1, k: 'ct', s: 'sekurlsa' }],
      null,
      [{ f: ANY_FIELD, k: 'ct', s: 'mimikatz' }],
      [],
    ];
    assert.deepEqual(candidatesFor(w, { A: 'CMD.EXE' }), [0, 4]);
    assert.deepEqual(candidatesFor(w, { A: 'C:\\Windows\\System32\\WHOAMI.exe' }), [1, 2, 4]);
    assert.deepEqual(candidatesFor(w, { B: 'x sekurlsa::logonpasswords', C: 'Mimikatz' }), [3, 4, 5]);
    assert.deepEqual(candidatesFor(w, { B: ['a', 'SEKURLSA'] }), [3, 4], 'list values');
  });

  void test('many substring needles (Aho-Corasick), overlapping and nested, ASCII folding and non-ASCII needles', () => {
    const needles = ['he', 'she', 'his', 'hers', 'usher', 'ushers', 'ß', 'straße', 'k', 'a', 'xyz'];
    const w: Witness[] = needles.map((s) => [{ f: ANY_FIELD, k: 'ct', s }]);
    assert.deepEqual(candidatesFor(w, { A: 'USHERS' }), [0, 1, 3, 4, 5]);
    assert.deepEqual(candidatesFor(w, { A: 'Straße' }), [6, 7, 9]);
    const ascii: Witness[] = ['he', 'she', 'his', 'hers', 'usher', 'ushers', 'ab', 'bc', 'k'].map((s) => [{ f: ANY_FIELD, k: 'ct', s }]);
    assert.deepEqual(candidatesFor(ascii, { A: 'uSHErs' }), [0, 1, 3, 4, 5]);
    assert.deepEqual(candidatesFor(ascii, { A: '\u212a' }), [8], 'Kelvin sign lower-cases to k');
    const fieldCt: Witness[] = ['abc', 'bcd', 'cde', 'def', 'efg', 'fgh', 'ghi', 'hij', 'zzz'].map((s) => [{ f: 0, k: 'ct', s }]);
    assert.deepEqual(candidatesFor(fieldCt, { A: 'xABCDEFGHIJx' }), [0, 1, 2, 3, 4, 5, 6, 7]);
  });
});


function sameResults(a: ReturnType<typeof loadRuleset>, b: ReturnType<typeof loadRuleset>, events: readonly SigmaEvent[]): number {
  let matches = 0;
  for (const e of events) {
    const x = a.detector.evaluate(e).map((m) => m.rule.id).sort();
    const y = b.detector.evaluate(e).map((m) => m.rule.id).sort();
    assert.deepEqual(x, y, JSON.stringify(e.fields).slice(0, 500));
    matches += x.length;
  }
  return matches;
}

void describe('prefilter soundness', () => {
  void test('crafted rules: regex literals, globs, cased values, keywords, negations, filters', () => {
    const rules = {
      'a.yml': ruleYaml(`s:\n  A|re: 'ab[0-9]+cd'\ncondition: s`, '', 'a'),
      'b.yml': ruleYaml(`s:\n  A|re|i: 'XY.Z'\ncondition: s`, '', 'b'),
      'c.yml': ruleYaml(`s:\n  A: 'p?q*r'\ncondition: s`, '', 'c'),
      'd.yml': ruleYaml(`s:\n  A|cased: 'MiXed'\ncondition: s`, '', 'd'),
      'e.yml': ruleYaml(`k:\n  - 'needle'\n  - 4625\ncondition: k`, '', 'e'),
      'f.yml': ruleYaml(`s:\n  A: x\nf:\n  B: y\ncondition: not f or s`, '', 'f'),
      'g.yml': ruleYaml(`s:\n  A|contains|all: ['one', 'two']\n  B|endswith: ['.exe', '.dll']\ncondition: s`, '', 'g'),
      'h.yml': ruleYaml(`s:\n  A: null\ncondition: s`, '', 'h'),
    };
    const on = load(rules);
    const off = load(rules, { prefilter: false });
    const pieces = ['ab12cd', 'xy_z', 'XY-Z', 'pXqzzr', 'MiXed', 'mixed', 'NEEDLE', '4625', 'x', 'y', 'one', 'two', 'a.exe', 'b.DLL', '', 'Σ'];
    const r = rng(1);
    const pick = () => pieces[Math.floor(r() * pieces.length)]!;
    const events: SigmaEvent[] = [];
    for (let i = 0; i < 3000; i++) {
      const fields: Record<string, FieldValue> = {};
      if (r() < 0.8) fields['A'] = pick() + (r() < 0.5 ? pick() : '');
      if (r() < 0.6) fields['B'] = pick();
      if (r() < 0.3) fields['C'] = pick() + pick();
      events.push({ fields, meta: { source: 'test', product: undefined, service: undefined, host: '' } });
    }
    assert.ok(sameResults(on, off, events) > 1000);
  });

  void test('SigmaHQ rules on events built from their own needles', { skip: HAVE_SIGMA ? false : '../shared/sigma is not present' }, () => {
    const mapping = loadLogsourceMapping();
    const paths = ['rules/windows', 'rules-emerging-threats', 'rules-threat-hunting/windows'].map((d) => path.join(SIGMA, d));
    const on = loadRuleset({ paths, mapping });
    const off = loadRuleset({ paths, mapping, prefilter: false });
    // Needles: quoted values of the process-creation and registry rules.
    const pool: string[] = [];
    for (const dir of ['rules/windows/process_creation', 'rules/windows/registry/registry_set']) {
      for (const f of fs.readdirSync(path.join(SIGMA, dir)).slice(0, 400)) {
        for (const m of fs.readFileSync(path.join(SIGMA, dir, f), 'utf8').matchAll(/'([^'\n]{2,60})'/g)) pool.push(m[1]!.replace(/\\\\/g, '\\').replace(/[*?]/g, ''));
      }
    }
    const r = rng(7);
    const pick = () => pool[Math.floor(r() * pool.length)]!;
    const flip = (s: string) => (r() < 0.3 ? s.toUpperCase() : s);
    const fieldNames = ['Image', 'CommandLine', 'ParentImage', 'ParentCommandLine', 'OriginalFileName', 'TargetObject', 'Details', 'User', 'IntegrityLevel', 'Description', 'Product', 'Company', 'CurrentDirectory', 'Hashes', 'EventType'];
    const kinds: [string, number][] = [
      ['Microsoft-Windows-Sysmon/Operational', 1],
      ['Microsoft-Windows-Sysmon/Operational', 13],
      ['Security', 4688],
    ];
    const events: SigmaEvent[] = [];
    for (let i = 0; i < 1500; i++) {
      const [Channel, EventID] = kinds[i % kinds.length]!;
      const fields: Record<string, FieldValue> = { Channel, EventID };
      for (const name of fieldNames) if (r() < 0.5) fields[name] = flip(r() < 0.5 ? pick() : `${pick()} ${pick()}`);
      fields['NewProcessName'] = fields['Image'] ?? pick();
      events.push({ fields, meta: { source: 'windows', product: 'windows', service: Channel === 'Security' ? 'security' : 'sysmon', host: 'h' } });
    }
    assert.ok(sameResults(on, off, events) > 50);
  });

  void test('regression corpus events', { skip: hasCorpus && HAVE_SIGMA ? false : 'corpus not present' }, () => {
    const mapping = loadLogsourceMapping();
    const paths = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((d) => path.join(SIGMA, d));
    const on = loadRuleset({ paths, mapping });
    const off = loadRuleset({ paths, mapping, prefilter: false });
    const mapper = createRecordMapper({ mapping });
    const events = loadManifest().flatMap((c) => c.shapes.flatMap((s) => mapper.map(caseRecords(c, s)).map((m) => m.event)));
    assert.ok(sameResults(on, off, events) >= 154);
  });
});
