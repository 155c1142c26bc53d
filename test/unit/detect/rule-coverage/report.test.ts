/**
 * The coverage report: per logsource rules and state (receiving / waiting / not_collected / unmapped), what
 * cannot fire with the shipped agent configs, ATT&CK techniques by state, the family lines; the tags → ATT&CK
 * reading; the shipped agent configs; and, over the SigmaHQ ruleset, that the Windows channels the report
 * finds uncollected are the ones windows-agent.yaml's header names.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { readShippedAgents, type ShippedAgents } from '../../../../src/detect/rule-coverage/agents.ts';
import { attackOf, tacticOf, techniqueOf } from '../../../../src/detect/rule-coverage/attack.ts';
import { buildCoverageReport, familyLines, type CoverageCounts } from '../../../../src/detect/rule-coverage/report.ts';
import { FALLBACK_KEY, summarizeRules, tacticsOfTechniques } from '../../../../src/detect/rule-coverage/rule-stats.ts';
import { loadRuleset } from '../../../../src/detect/ruleset.ts';
import type { RuleInfo } from '../../../../src/detect/types.ts';
import { loadLogsourceMapping } from '../../../../src/map/logsource-mapping.ts';
import { ACTIVE_RULE_DIRS, hasCorpus, REPO_ROOT } from '../../../helpers/corpus.ts';

const mapping = loadLogsourceMapping();
const shipped = readShippedAgents();

function rule(id: string, logsource: Partial<RuleInfo['logsource']>, tags: string[]): RuleInfo {
  return {
    id, title: `rule ${id}`, level: 'high', status: 'test', tags, description: '', references: [], falsepositives: [], author: '', file: `${id}.yml`,
    logsource: { product: '', category: '', service: '', ...logsource },
  };
}

const RULES: RuleInfo[] = [
  rule('sec-1', { product: 'windows', service: 'security' }, ['attack.credential-access', 'attack.t1110.001']),
  rule('sec-2', { product: 'windows', service: 'security' }, ['attack.persistence', 'attack.t1098']),
  rule('proc-1', { product: 'windows', category: 'process_creation' }, ['attack.execution', 'attack.t1059.001']),
  rule('ldap-1', { product: 'windows', service: 'ldap' }, ['attack.discovery', 'attack.t1087']),
  rule('sshd-1', { product: 'linux', service: 'sshd' }, ['attack.initial_access', 'attack.t1190']),
  rule('mac-1', { product: 'macos', category: 'process_creation' }, ['attack.discovery', 'attack.t1018']),
  rule('aws-1', { product: 'aws', service: 'cloudtrail' }, ['attack.t1530']),
];

const counts = (logsources: Record<string, number>): CoverageCounts => ({
  since: '2026-12-01T00:00:00.000Z',
  updated_at: '2026-12-02T00:00:00.000Z',
  logsources: Object.fromEntries(Object.entries(logsources).map(([k, events]) => [k, { events, first_seen: '2026-12-01T01:00:00.000Z', last_seen: '2026-12-01T02:00:00.000Z' }])),
});

describe('coverage report', () => {
  const report = buildCoverageReport({
    rules: summarizeRules(RULES, mapping),
    mapping,
    agents: shipped,
    counts: counts({ 'windows//security': 40, [FALLBACK_KEY]: 7, 'macos/process_creation/': 3 }),
    now: new Date('2026-12-02T00:00:00.000Z'),
  });
  const ls = (key: string) => report.logsources.find((l) => l.key === key)!;

  test('per logsource: rules, state, events; the counters of the fallback are not a logsource', () => {
    assert.deepEqual(report.logsources.map((l) => [l.key, l.rules, l.state, l.events]), [
      ['aws//cloudtrail', 1, 'waiting', 0],
      ['linux//sshd', 1, 'waiting', 0],
      ['macos/process_creation/', 1, 'unmapped', 0], // counts under an unmapped key never make it "received"
      ['windows//ldap', 1, 'not_collected', 0],
      ['windows//security', 2, 'receiving', 40],
      ['windows/process_creation/', 1, 'waiting', 0],
    ]);
    assert.equal(ls('windows//security').last_seen, '2026-12-01T02:00:00.000Z');
    assert.equal(ls('windows/process_creation/').first_seen, null);
    assert.equal(report.fallback_events, 7);
    assert.deepEqual(report.counters, { since: '2026-12-01T00:00:00.000Z', updated_at: '2026-12-02T00:00:00.000Z' });
  });

  test('what cannot fire: a channel the shipped Windows agent does not collect, a logsource without mapping', () => {
    assert.deepEqual(ls('windows//ldap').not_collected, ['Microsoft-Windows-LDAP-Client/Debug']);
    assert.deepEqual(report.cannot_fire, {
      not_collected: { rules: 1, logsources: ['windows//ldap'] },
      unmapped: { rules: 1, logsources: ['macos/process_creation/'] },
    });
    assert.equal(report.rules_cannot_fire, 2);
    assert.equal(report.rules, 7);
    assert.equal(report.rules_receiving, 2);
    // sshd arrives through journald (collected) or syslog files (not): it can fire.
    assert.deepEqual(ls('linux//sshd').needs, ['journald', 'syslog']);
    assert.equal(ls('aws//cloudtrail').family, 'generic');
  });

  test('an agent that collects a channel makes its rules waiting; without the agent file nothing is ruled out', () => {
    const withLdap: ShippedAgents = { ...shipped, windows: { file: 'w.yaml', channels: [...shipped.windows!.channels, 'microsoft-windows-ldap-client/debug'] } };
    const r1 = buildCoverageReport({ rules: summarizeRules(RULES, mapping), mapping, agents: withLdap });
    assert.equal(r1.logsources.find((l) => l.key === 'windows//ldap')!.state, 'waiting');
    const noSysmonNoSecurity: ShippedAgents = { ...shipped, windows: { file: 'w.yaml', channels: ['System'] } };
    const r2 = buildCoverageReport({ rules: summarizeRules(RULES, mapping), mapping, agents: noSysmonNoSecurity });
    assert.equal(r2.logsources.find((l) => l.key === 'windows/process_creation/')!.state, 'not_collected');
    const r3 = buildCoverageReport({ rules: summarizeRules(RULES, mapping), mapping, agents: { windows: undefined, linux: undefined } });
    assert.deepEqual(r3.cannot_fire.not_collected, { rules: 0, logsources: [] });
    assert.match(familyLines(r3)[0]!.line, /shipped agent config not found/);
    // Received events win over the agent: the user collects the channel with their own config.
    const r4 = buildCoverageReport({ rules: summarizeRules(RULES, mapping), mapping, agents: shipped, counts: counts({ 'windows//ldap': 1 }) });
    assert.equal(r4.logsources.find((l) => l.key === 'windows//ldap')!.state, 'receiving');
  });

  test('ATT&CK: techniques of receiving logsources receive data, the rest are loaded only', () => {
    assert.deepEqual(report.techniques.map((t) => [t.id, t.state, t.rules, t.rules_receiving, t.tactics]), [
      ['T1018', 'loaded_only', 1, 0, ['discovery']],
      ['T1059.001', 'loaded_only', 1, 0, ['execution']],
      ['T1087', 'loaded_only', 1, 0, ['discovery']],
      ['T1098', 'receives_data', 1, 1, ['persistence']],
      ['T1110.001', 'receives_data', 1, 1, ['credential-access']],
      ['T1190', 'loaded_only', 1, 0, ['initial-access']],
      ['T1530', 'loaded_only', 1, 0, ['no-tactic']],
    ]);
  });

  test('one start-up line per family that has rules', () => {
    const lines = familyLines(report);
    assert.deepEqual(lines.map((l) => l.family), ['windows', 'linux', 'generic']);
    assert.match(lines[0]!.line, /^windows: 4 rules over 3 channels; 1 channel not collected by the shipped agent \(Microsoft-Windows-LDAP-Client\/Debug\): 1 rule cannot fire; 2 rules receiving data\.$/);
    assert.match(lines[1]!.line, /^linux: 1 rule over 1 logsource from journald, syslog; the shipped agent collects a source of every one; 0 rules receiving data\.$/);
    assert.match(lines[2]!.line, /^generic\/cloud: 2 rules over 2 logsources \(aws\); no shipped agent.*1 rule with no logsource mapping cannot fire as written/);
  });
});

describe('ATT&CK tags', () => {
  test('techniques and tactics, in both spellings; other tags ignored', () => {
    assert.equal(techniqueOf('attack.t1059.001'), 'T1059.001');
    assert.equal(techniqueOf('attack.T1059'), 'T1059');
    assert.equal(techniqueOf('attack.g0016'), undefined);
    assert.equal(techniqueOf('cve.2021-44228'), undefined);
    assert.equal(tacticOf('attack.defense_evasion'), 'defense-evasion');
    assert.equal(tacticOf('attack.stealth'), 'stealth');
    assert.equal(tacticOf('attack.s0002'), undefined);
    assert.deepEqual(attackOf(['attack.execution', 'attack.t1059', 'attack.t1059', 'detection.threat-hunting']), { techniques: ['T1059'], tactics: ['execution'] });
  });

  test('tactics of a technique: single-technique rules decide; ambiguous rules only fill gaps; sub-techniques inherit', () => {
    assert.deepEqual(tacticsOfTechniques([
      { techniques: ['T1059'], tactics: ['execution'] },
      // two techniques, two tactics: which goes with which is unknown
      { techniques: ['T1059', 'T1547.001'], tactics: ['execution', 'persistence'] },
      { techniques: ['T1003.001'], tactics: [] },
      { techniques: ['T1003'], tactics: ['credential-access'] },
    ]), { 'T1059': ['execution'], 'T1547.001': ['execution', 'persistence'], 'T1003.001': ['credential-access'], 'T1003': ['credential-access'] });
  });
});

describe('shipped agent configs', () => {
  test('Windows: every channel of a windows_event_log receiver in the pipeline; Linux: the sources its receivers deliver', () => {
    assert.equal(shipped.windows!.channels.length, 44);
    assert.ok(shipped.windows!.channels.includes('Microsoft-Windows-Sysmon/Operational'));
    assert.deepEqual([...shipped.linux!.sources].sort(), ['auditd', 'auditd-execve', 'journald', 'sysmon-linux']);
    // The commented-out file_log/auth alternative does not count.
    assert.ok(!shipped.linux!.sources.includes('syslog'));
  });

  test('a receiver not in any pipeline does not count', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-agents-'));
    try {
      fs.writeFileSync(path.join(dir, 'windows-agent.yaml'), 'receivers:\n  windows_event_log/a: {channel: Security}\n  windows_event_log/b: {channel: System}\nservice:\n  pipelines:\n    logs: {receivers: [windows_event_log/a]}\n');
      const a = readShippedAgents(dir);
      assert.deepEqual(a.windows!.channels, ['Security']);
      assert.equal(a.linux, undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('over the SigmaHQ ruleset' + (hasCorpus ? '' : ' (skipped: ../shared/sigma not present)'), { skip: !hasCorpus }, () => {
  test('the Windows channels not collected are those windows-agent.yaml names as not collected; unmapped rules are counted', () => {
    const rs = loadRuleset({ paths: ACTIVE_RULE_DIRS, mapping });
    const report = buildCoverageReport({ rules: summarizeRules(rs.rules, mapping), mapping, agents: shipped });
    const win = report.families.find((f) => f.family === 'windows')!;
    const header = fs.readFileSync(path.join(REPO_ROOT, 'collector-config/windows-agent.yaml'), 'utf8').split('\n').filter((l) => l.startsWith('#')).join('\n');
    const named = /Not collected[^:]*:\s*([\s\S]*?):\s*their rules/.exec(header)?.[1]?.replace(/#/g, ' ').split(',').map((s) => s.trim()).sort();
    assert.deepEqual([...win.not_collected].sort(), named);
    assert.ok(win.rules_not_collected > 0);
    assert.equal(report.rules, rs.rules.length);
    assert.ok(report.cannot_fire.unmapped.rules > 0);
    assert.equal(report.cannot_fire.unmapped.rules, rs.problems.filter((p) => /has no mapping/.test(p.reason)).length);
  });
});
