/** Profile mode (`rules check --profile`): per-rule test counts, matches and time; off by default. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { event, load, ruleYaml } from './helpers.ts';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const files = {
  'a.yml': ruleYaml('sel:\n  CommandLine|contains: mimikatz\ncondition: sel', '', A),
  'b.yml': ruleYaml("sel:\n  CommandLine|re: '(whoami|hostname)'\ncondition: sel", '', B),
};
const events = [
  event({ CommandLine: 'mimikatz.exe sekurlsa::logonpasswords' }),
  event({ CommandLine: 'cmd /c whoami' }),
  event({ CommandLine: 'notepad.exe' }),
  event({ CommandLine: 'MIMIKATZ' }),
];

void describe('SigmaDetector.ruleCosts', () => {
  void test('counts each rule test that ran and its matches, with time, most expensive first', () => {
    const rs = load(files, { profile: true });
    const hits = events.map((e) => rs.detector.evaluate(e).map((m) => m.rule.id));
    assert.deepEqual(hits, [[A], [B], [], [A]]);
    const costs = rs.detector.ruleCosts();
    assert.equal(costs.length, 2);
    const a = costs.find((c) => c.rule.id === A)!;
    const b = costs.find((c) => c.rule.id === B)!;
    // The candidate index runs A's test only where its needle occurs; B's regex runs at most once per event.
    assert.equal(a.matches, 2);
    assert.equal(a.evaluations, 2);
    assert.equal(b.matches, 1);
    assert.ok(b.evaluations >= 1 && b.evaluations <= events.length);
    assert.ok(costs.every((c) => c.ms >= 0));
    assert.ok(costs[0]!.ms >= costs[1]!.ms);
  });

  void test('without profile: same matches, nothing counted', () => {
    const rs = load(files);
    assert.deepEqual(events.map((e) => rs.detector.evaluate(e).length), [1, 1, 0, 1]);
    assert.ok(rs.detector.ruleCosts().every((c) => c.evaluations === 0 && c.matches === 0 && c.ms === 0));
  });
});
