/**
 * The ATT&CK outputs of the coverage report: the Navigator layer (format 4.5: versions, domain, techniques
 * with score 2 = receives data, 1 = loaded only, gradient and legend) and the SVG heatmap (well-formed XML,
 * tactics as columns in matrix order, sub-techniques folded into their technique, text escaped).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { coverageSvg, tacticColumns } from '../../../../src/detect/rule-coverage/heatmap.ts';
import { COLOR_LOADED_ONLY, COLOR_RECEIVES_DATA, navigatorLayer } from '../../../../src/detect/rule-coverage/navigator.ts';
import type { CoverageReport, TechniqueCoverage } from '../../../../src/detect/rule-coverage/report.ts';

const tech = (id: string, tactics: string[], rules: number, receiving: number): TechniqueCoverage =>
  ({ id, tactics, rules, rules_receiving: receiving, state: receiving > 0 ? 'receives_data' : 'loaded_only' });

const REPORT: CoverageReport = {
  generated_at: '2026-12-02T00:00:00.000Z',
  counters: { since: '2026-12-01T00:00:00.000Z', updated_at: '2026-12-02T00:00:00.000Z' },
  rules: 9, rules_receiving: 4, rules_cannot_fire: 0,
  families: [], logsources: [],
  cannot_fire: { not_collected: { rules: 0, logsources: [] }, unmapped: { rules: 0, logsources: [] } },
  fallback_events: 0,
  techniques: [
    tech('T1003', ['credential-access'], 1, 0),
    tech('T1003.001', ['credential-access'], 3, 3),
    tech('T1003.002', ['credential-access'], 1, 0),
    tech('T1059.001', ['execution'], 2, 0),
    tech('T1078', ['initial-access', 'persistence'], 1, 1),
    tech('T1530', ['no-tactic'], 1, 0),
  ],
  technique_groups: [
    { id: 'T1003', rules: 4, rules_receiving: 3 }, // a rule tagged T1003 and T1003.001 counts once
    { id: 'T1059', rules: 2, rules_receiving: 0 },
    { id: 'T1078', rules: 1, rules_receiving: 1 },
    { id: 'T1530', rules: 1, rules_receiving: 0 },
  ],
};

/**
 * A small XML well-formedness check: every tag closes in order, attributes are quoted, text and
 * attribute values hold no raw `<` and no `&` outside an entity. Returns the element names in order.
 */
function checkXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi;
  const plainText = (s: string, where: string): void => {
    const stripped = s.replace(entity, '');
    assert.ok(!/[<&]/.test(stripped), `raw < or & in ${where}: ${s.slice(0, 80)}`);
  };
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) {
      plainText(xml.slice(i), 'trailing text');
      break;
    }
    plainText(xml.slice(i, lt), 'text');
    const gt = xml.indexOf('>', lt);
    assert.ok(gt > lt, `unterminated tag at ${lt}`);
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('?') || tag.startsWith('!--')) continue;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      assert.equal(stack.pop(), name, `closing </${name}> does not match`);
      continue;
    }
    const m = /^([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)$/.exec(tag);
    assert.ok(m !== null, `malformed tag <${tag.slice(0, 80)}>`);
    for (const a of m[2]!.matchAll(/="([^"]*)"/g)) plainText(a[1]!, `attribute of <${m[1]}>`);
    names.push(m[1]!);
    if (m[3] !== '/') stack.push(m[1]!);
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  return names;
}

describe('Navigator layer', () => {
  const layer = navigatorLayer(REPORT);

  test('layer format 4.5 for enterprise ATT&CK', () => {
    assert.equal(layer.versions.layer, '4.5');
    assert.equal(layer.domain, 'enterprise-attack');
    assert.ok(layer.name.length > 0);
    assert.match(layer.versions.navigator, /^\d+\.\d+\.\d+$/);
    // Serialises to plain JSON the Navigator can open (no undefined, no functions).
    assert.deepEqual(JSON.parse(JSON.stringify(layer)), layer);
  });

  test('score 2 for techniques whose rules receive data, 1 for loaded only; colors and legend agree', () => {
    assert.deepEqual(layer.techniques.map((t) => [t.techniqueID, t.score, t.color]), [
      ['T1003', 1, COLOR_LOADED_ONLY],
      ['T1003.001', 2, COLOR_RECEIVES_DATA],
      ['T1003.002', 1, COLOR_LOADED_ONLY],
      ['T1059.001', 1, COLOR_LOADED_ONLY],
      ['T1078', 2, COLOR_RECEIVES_DATA],
      ['T1530', 1, COLOR_LOADED_ONLY],
    ]);
    for (const t of layer.techniques) assert.match(t.techniqueID, /^T\d{4}(\.\d{3})?$/);
    assert.match(layer.techniques[1]!.comment, /3 rules loaded, 3 of them on logsources that receive data/);
    assert.equal(layer.gradient.minValue, 0);
    assert.equal(layer.gradient.maxValue, 2);
    assert.ok(layer.gradient.colors.length >= 2);
    assert.deepEqual(layer.legendItems.map((l) => l.color), [COLOR_RECEIVES_DATA, COLOR_LOADED_ONLY]);
  });
});

describe('SVG heatmap', () => {
  test('well-formed, one column per tactic in matrix order, one cell per technique', () => {
    const svg = coverageSvg(REPORT);
    const names = checkXml(svg);
    assert.equal(names[0], 'svg');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
    const cols = tacticColumns(REPORT.techniques, REPORT.technique_groups);
    assert.deepEqual(cols.map((c) => c.tactic), ['initial-access', 'execution', 'persistence', 'credential-access', 'no-tactic']);
    // T1003 and its sub-techniques are one cell: receiving (a sub-technique is), 4 rules (each once), +2.
    assert.deepEqual(cols[3]!.cells.map((c) => [c.id, c.receiving, c.rules, c.subs.length]), [['T1003', true, 4, 2]]);
    assert.deepEqual(cols[1]!.cells.map((c) => [c.id, c.receiving, c.rules]), [['T1059', false, 2]]);
    assert.match(svg, />Credential Access</);
    assert.match(svg, />T1003<tspan[^>]*> \+2<\/tspan>/);
    const green = svg.split(`fill="${COLOR_RECEIVES_DATA}"`).length - 1;
    const amber = svg.split(`fill="${COLOR_LOADED_ONLY}"`).length - 1;
    assert.equal(green, 1 + 3, 'legend + T1003 + T1078 twice (initial access, persistence)');
    assert.equal(amber, 1 + 2, 'legend + T1059 + T1530');
  });

  test('text is escaped; an empty report still renders', () => {
    const svg = coverageSvg({ ...REPORT, techniques: [], technique_groups: [] }, 'R&D <coverage> "x"');
    checkXml(svg);
    assert.match(svg, /R&amp;D &lt;coverage&gt; &quot;x&quot;/);
    assert.match(svg, /No loaded rule carries an ATT&amp;CK technique tag/);
  });

  test('the checker itself refuses what is not well-formed', () => {
    assert.throws(() => checkXml('<svg><g></svg>'));
    assert.throws(() => checkXml('<svg><text>a & b</text></svg>'));
    assert.throws(() => checkXml('<svg><text x=1>a</text></svg>'));
    assert.throws(() => checkXml('<svg>'));
  });
});
