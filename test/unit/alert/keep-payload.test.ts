import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { alertFingerprint, toAlertDto, toKeepSeverity, validateUrlTemplate, withOccurrences } from '../../../src/alert/keep-payload.ts';
import { DetectionFields } from '../../../src/alert/detection-fields.ts';
import { attackLink, code } from '../../../src/alert/keep-description.ts';
import { SIGMA_LEVELS } from '../../../src/detect/types.ts';
import { isPipelineError } from '../../../src/errors.ts';
import { validateAlertDto } from '../../helpers/keep-server.ts';
import { DETECTED_MS, EVENT_MS, makeDetection } from './detection-fixture.ts';

const RULE = 'fb843269-508c-4b76-8b8d-88679db22ce7';

void describe('toAlertDto', () => {
  void test('fills every triage field from a detection', () => {
    const a = toAlertDto(makeDetection(), { environment: 'prod', urlTemplate: 'https://signoz.example/logs?host={host}&rule={rule_id}&from={from_ms}&to={to_ms}' });
    assert.equal(a.name, 'Suspicious Execution of Powershell with Base64');
    assert.equal(a.status, 'firing');
    assert.equal(a.severity, 'warning');
    assert.equal(a.lastReceived, new Date(DETECTED_MS).toISOString());
    assert.equal(a.firingStartTime, '2026-08-20T10:15:30.123Z');
    assert.equal(a.fingerprint, `sigma:${RULE}:WS01.corp.local`);
    assert.equal(a.id, a.fingerprint);
    assert.deepEqual(a.source, ['otel-sigma']);
    assert.equal(a.service, 'WS01.corp.local');
    assert.equal(a.environment, 'prod');
    assert.equal(a.description_format, 'markdown');
    assert.equal(a.occurrences, 1);
    assert.equal(
      a.url,
      `https://signoz.example/logs?host=WS01.corp.local&rule=${RULE}&from=${EVENT_MS - 15 * 60_000}&to=${EVENT_MS + 5 * 60_000}`,
    );
    assert.deepEqual(a.labels, {
      rule_id: RULE,
      level: 'medium',
      count: '1',
      detection_source: 'stream',
      tags: 'attack.execution,attack.t1059.001',
      host: 'WS01.corp.local',
      user: 'CORP\\alice',
      process_image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      logsource: 'windows/process_creation',
    });
    assert.deepEqual(validateAlertDto(a), []);
  });

  void test('message is short and leads with the command line', () => {
    const a = toAlertDto(makeDetection());
    assert.match(a.message, /^Suspicious Execution of Powershell with Base64 on WS01\.corp\.local: CommandLine=powershell\.exe -nop -w hidden -enc /);
    const long = toAlertDto(makeDetection({ matched: { CommandLine: 'x'.repeat(5000) } }));
    assert.equal(long.message.length, 240);
    assert.ok(long.message.endsWith('…'));
  });

  void test('description is markdown with rule text, matched fields, ATT&CK links, references, false positives', () => {
    const { description } = toAlertDto(makeDetection({ ruleTags: ['attack.execution', 'attack.t1059.001', 'attack.t1027', 'attack.g0016', 'attack.s0002', 'cve.2021-44228'] }));
    assert.match(description, /Commandline to launch powershell with a base64 payload/);
    assert.match(description, /\| `CommandLine` \| `powershell\.exe -nop -w hidden -enc SQBF/);
    assert.match(description, /\[T1059\.001\]\(https:\/\/attack\.mitre\.org\/techniques\/T1059\/001\/\)/);
    assert.match(description, /\[T1027\]\(https:\/\/attack\.mitre\.org\/techniques\/T1027\/\)/);
    assert.match(description, /\[Execution \(TA0002\)\]\(https:\/\/attack\.mitre\.org\/tactics\/TA0002\/\)/);
    assert.match(description, /\(https:\/\/attack\.mitre\.org\/groups\/G0016\/\)/);
    assert.match(description, /\(https:\/\/attack\.mitre\.org\/software\/S0002\/\)/);
    assert.match(description, /\*\*Other tags\*\* `cve\.2021-44228`/);
    assert.match(description, /- <https:\/\/unit42\.paloaltonetworks\.com\/unit42-pulling-back-the-curtains-on-encodedcommand-powershell-attacks\/>/);
    assert.match(description, /\*\*Known false positives\*\*\n\n- Unknown/);
    assert.match(description, /Rule author: frack113/);
  });

  void test('hostile matched values stay inside their code span and table cell', () => {
    const evil = 'a``b | [x](javascript:alert(1))\n# head';
    const { description } = toAlertDto(makeDetection({ matched: { CommandLine: evil } }));
    const row = description.split('\n').find((l) => l.startsWith('| `CommandLine`'));
    assert.ok(row, description);
    assert.equal(row, '| `CommandLine` | ```a``b \\| [x](javascript:alert(1)) # head``` |');
    assert.equal(code('`x`'), '`` `x` ``');
    assert.equal(code(''), '*(empty)*');
  });

  void test('references that are not http(s) URLs are left out', () => {
    const { description } = toAlertDto(makeDetection({ ruleReferences: ['internal research', 'javascript:alert(1)'] }));
    assert.doesNotMatch(description, /References/);
  });

  void test('no url without a template; no service/host label without a host', () => {
    const a = toAlertDto(makeDetection({ host: '', event: { resourceAttributes: {} } }));
    assert.equal('url' in a, false);
    assert.equal('service' in a, false);
    assert.equal('environment' in a, false);
    assert.equal(a.labels['host'], undefined);
    assert.equal(a.fingerprint, `sigma:${RULE}:`);
    assert.match(a.message, / on unknown host: /);
    assert.deepEqual(validateAlertDto(a), []);
  });

  void test('url placeholders are URL-encoded', () => {
    const a = toAlertDto(makeDetection({ host: 'a b&c' }), { urlTemplate: 'http://x.example/{host}/q?r={rule_id}' });
    assert.equal(a.url, `http://x.example/a%20b%26c/q?r=${RULE}`);
  });

  void test('event time falls back to detection time when the nanosecond string is unusable', () => {
    for (const eventTimeNs of ['', '0', 'abc', '-5']) {
      assert.equal(toAlertDto(makeDetection({ eventTimeNs })).firingStartTime, new Date(DETECTED_MS).toISOString(), eventTimeNs);
    }
  });

  void test('user and image come from the mapped event when the rule did not match on them', () => {
    const a = toAlertDto(makeDetection({ matched: { ParentImage: 'C:\\Windows\\explorer.exe' } }));
    assert.equal(a.labels['user'], 'CORP\\alice');
    assert.equal(a.labels['process_image'], 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    const none = toAlertDto(makeDetection({ matched: {}, event: { sigmaEvent: 'not json' } }));
    assert.equal(none.labels['user'], undefined);
  });
});

void describe('severity', () => {
  void test('Sigma levels map onto Keep severities', () => {
    assert.deepEqual(
      SIGMA_LEVELS.map((l) => [l, toKeepSeverity(l)]),
      [
        ['informational', 'info'],
        ['low', 'low'],
        ['medium', 'warning'],
        ['high', 'high'],
        ['critical', 'critical'],
      ],
    );
    for (const ruleLevel of SIGMA_LEVELS) assert.equal(toAlertDto(makeDetection({ ruleLevel })).severity, toKeepSeverity(ruleLevel));
  });
});

void describe('fingerprint', () => {
  void test('group-by fields are configurable', () => {
    const a = toAlertDto(makeDetection(), { groupBy: ['rule_id', 'host', 'user', 'CommandLine'] });
    assert.equal(a.fingerprint, `sigma:${RULE}:WS01.corp.local:CORP\\alice:${makeDetection().matched['CommandLine']}`);
    assert.equal(toAlertDto(makeDetection(), { groupBy: ['rule_id'] }).fingerprint, `sigma:${RULE}`);
  });

  void test('over-long fingerprints are hashed, not truncated, so groups stay apart', () => {
    const one = alertFingerprint(new DetectionFields(makeDetection({ host: 'h'.repeat(300) + '1' })));
    const two = alertFingerprint(new DetectionFields(makeDetection({ host: 'h'.repeat(300) + '2' })));
    assert.match(one, /^sigma:sha256:[0-9a-f]{64}$/);
    assert.notEqual(one, two);
  });
});

void describe('withOccurrences', () => {
  void test('updates count, lastReceived and the description, keeps identity', () => {
    const a = toAlertDto(makeDetection());
    const b = withOccurrences(a, 7, DETECTED_MS + 60_000);
    assert.equal(b.id, a.id);
    assert.equal(b.fingerprint, a.fingerprint);
    assert.equal(b.firingStartTime, a.firingStartTime);
    assert.equal(b.lastReceived, new Date(DETECTED_MS + 60_000).toISOString());
    assert.equal(b.labels['count'], '7');
    assert.equal(b.occurrences, 7);
    assert.match(b.description, /\*\*Detections\*\* 7/);
    assert.equal(a.labels['count'], '1');
  });
});

void describe('validateUrlTemplate', () => {
  void test('accepts absolute http(s) templates with known placeholders', () => {
    validateUrlTemplate('https://signoz.example/logs?q={host}&from={from_ms}&to={to_ms}&r={rule_id}');
    validateUrlTemplate('http://{host}:3301/');
  });
  void test('rejects typos, relative and non-http URLs with ERR_CONFIG', () => {
    for (const t of ['https://x.example/{hots}', '/logs?h={host}', 'ftp://x.example/{host}', 'signoz.example/logs']) {
      assert.throws(() => validateUrlTemplate(t), (e: unknown) => isPipelineError(e) && e.code === 'ERR_CONFIG', t);
    }
  });
});

void describe('attackLink', () => {
  void test('handles dash and underscore tactic spellings and ignores non-ATT&CK tags', () => {
    assert.equal(attackLink('attack.defense-evasion')?.url, 'https://attack.mitre.org/tactics/TA0005/');
    assert.equal(attackLink('attack.defense_evasion')?.url, 'https://attack.mitre.org/tactics/TA0005/');
    assert.equal(attackLink('attack.command-and-control')?.url, 'https://attack.mitre.org/tactics/TA0011/');
    assert.equal(attackLink('detection.emerging-threats'), undefined);
    assert.equal(attackLink('attack.unknownthing'), undefined);
  });
});

void describe('contract property', () => {
  void test('any detection yields an AlertDto Keep accepts', () => {
    const str = fc.string({ maxLength: 400 });
    fc.assert(
      fc.property(
        fc.record({
          ruleTitle: str,
          ruleId: fc.string({ minLength: 1, maxLength: 60 }),
          host: str,
          ruleLevel: fc.constantFrom(...SIGMA_LEVELS),
          eventTimeNs: fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }).map(String), str),
          ruleTags: fc.array(str, { maxLength: 5 }),
          matched: fc.dictionary(fc.string({ maxLength: 30 }), str, { maxKeys: 5 }),
        }),
        fc.constantFrom(undefined, 'https://s.example/{host}?r={rule_id}&f={from_ms}&t={to_ms}'),
        (o, urlTemplate) => {
          const a = toAlertDto(makeDetection(o), { environment: 'e', urlTemplate });
          assert.deepEqual(validateAlertDto(a), []);
          assert.ok(a.fingerprint.length <= 255);
        },
      ),
      { numRuns: 300 },
    );
  });
});
