/**
 * Network-appliance rules (issue 16 item 5) with the SigmaHQ ruleset: a Debian host's own syslog never reaches
 * them (recorded userdel, crontab and cron lines raised Cisco "file deletion" before), appliance lines in
 * their vendors' documented formats still do, in every shape the collector delivers them, and a mapping
 * file's `products:` rule names the product of lines no format gives away (in-process and through `eval`).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AnyValue, LogRecordView } from '../../src/decode/types.ts';
import { loadRuleset, type Ruleset } from '../../src/detect/ruleset.ts';
import { loadLogsourceMapping } from '../../src/map/logsource-mapping.ts';
import { createRecordMapper } from '../../src/map/map-records.ts';
import type { LogsourceMapping } from '../../src/map/types.ts';
import { anyValue } from '../helpers/auth-events.ts';
import { ACTIVE_RULE_DIRS, hasCorpus, REPO_ROOT } from '../helpers/corpus.ts';

const APPLIANCES = new Set(['cisco', 'fortigate', 'fortios', 'huawei', 'juniper', 'paloalto']);
const CISCO_FILE_DELETION = '71d65515-c436-43c0-841b-236b1f32c21e';
const CISCO_DISCOVERY = '9705a6a1-6db6-4a16-a987-15b7151e299b';
const CISCO_CVE_2023_20198 = '2ece8816-b7a0-4d9b-b0e8-ae7ad18bc02b';
const FORTIGATE_NEW_ADMIN = 'cd0a4943-0edd-42cf-b50c-06f77a10d4c1';
const JUNIPER_BGP_MD5 = 'a7c0ae48-8df8-42bf-91bd-2ea57e2f9d43';
const HUAWEI_BGP_AUTH = 'a557ffe6-ac54-43d2-ae69-158027082350';
const PANOS_CVE_2024_3400 = 'f130a5f1-73ba-42f0-bf1e-b66a8361cb8f';
const skip = hasCorpus ? false : 'needs ../shared/sigma';

function view(body: AnyValue, attributes: Record<string, AnyValue> = {}, resource: Record<string, AnyValue> = {}): LogRecordView {
  return {
    timeUnixNano: '0', observedTimeUnixNano: '0', severityNumber: 0, severityText: '', body, attributes,
    traceId: '', spanId: '', flags: 0, eventName: '', resource: { attributes: resource }, scope: { name: '', version: '' },
  };
}

/** `2026-12-06T06:59:01.520627+00:00 vm CRON[8405]: msg` as file_log (raw), file_log + regex parser, and the syslog receiver (RFC 3164 attributes, authpriv or cron facility). */
function syslogShapes(line: string, file: string, facility: number): [string, LogRecordView][] {
  const m = /^(\S+) (\S+) ([^[:]+)(?:\[(\d+)\])?: (.*)$/.exec(line);
  assert.ok(m, line);
  const [, , host, app, pid, message] = m;
  const parsed: Record<string, AnyValue> = { hostname: host!, appname: app!, message: message!, ...(pid !== undefined && { proc_id: pid }) };
  return [
    ['file_log raw', view(line, { 'log.file.name': file }, { 'host.name': 'vm' })],
    ['file_log + regex_parser', view(line, { 'log.file.name': file, ...parsed }, { 'host.name': 'vm' })],
    ['syslog receiver', view(`<${facility * 8 + 5}>${line}`, { ...parsed, facility, priority: facility * 8 + 5 })],
    ['journald', view({ MESSAGE: message!, SYSLOG_IDENTIFIER: app!, SYSLOG_FACILITY: String(facility), _PID: pid ?? '1', _HOSTNAME: host!, _TRANSPORT: 'syslog', PRIORITY: '5' }, {}, { 'host.name': 'vm' })],
  ];
}

let rs: Ruleset;
let mapping: LogsourceMapping;
const matches = (records: LogRecordView[], m: LogsourceMapping = mapping): { id: string; product: string }[] => {
  const mapper = createRecordMapper({ mapping: m });
  return [...mapper.map(records), ...mapper.flush()].flatMap(({ event }) => rs.detector.evaluate(event).map((x) => ({ id: x.rule.id, product: x.rule.logsource.product ?? '' })));
};

describe('appliance rules with the SigmaHQ ruleset', { skip }, () => {
  let tmp = '';
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-appliance-'));
    // A pack rule that shows routing alone: any Cisco syslog event with the CONFIG_I mnemonic.
    fs.writeFileSync(path.join(tmp, 'cisco-config-i.yml'), [
      'title: Cisco configuration changed (test)', 'id: 0d3c2c55-4c6b-4b59-9a0c-6f3a4c0b1a01', 'status: test',
      'logsource: { product: cisco, service: syslog }', 'detection:', "  keywords: ['%SYS-5-CONFIG_I:']", '  condition: keywords', 'level: low', '',
    ].join('\n'));
    mapping = loadLogsourceMapping();
    rs = loadRuleset({ paths: [...ACTIVE_RULE_DIRS, path.join(REPO_ROOT, 'rules'), path.join(tmp, 'cisco-config-i.yml')], mapping });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  // Recorded on Debian 12 (test/fixtures/linux/benign-day/): shadow's userdel, cron's crontab and a cron job.
  const DEBIAN_LINES: [string, string, number][] = [
    ["2026-12-06T07:00:22.136927+00:00 vm userdel[8465]: delete user 'carol'", 'auth.log', 10],
    ["2026-12-06T07:00:22.137014+00:00 vm userdel[8465]: delete 'carol' from group 'sudo'", 'auth.log', 10],
    ['2026-12-06T07:00:22.386356+00:00 vm crontab[8480]: (alice) DELETE (alice)', 'syslog', 9],
    ['2026-12-06T06:59:01.520627+00:00 vm CRON[8405]: (alice) CMD (/usr/bin/find $HOME/tmp -type f -mtime +7 -delete)', 'syslog', 9],
    ['2026-12-06T06:57:53.606068+00:00 vm sshd[7476]: pam_systemd(sshd:session): Failed to connect to system bus: No such file or directory', 'auth.log', 10],
  ];
  for (const [line, file, facility] of DEBIAN_LINES) {
    test(`a Debian host's line raises no appliance rule in any shape: ${line.slice(33, 110)}`, () => {
      for (const [shape, record] of syslogShapes(line, file, facility)) {
        const hits = matches([record]).filter((x) => APPLIANCES.has(x.product));
        assert.deepEqual(hits, [], `${shape}: ${JSON.stringify(hits)}`);
      }
    });
  }

  const APPLIANCE_CASES: [string, string, string][] = [
    // Cisco ASA message 111008 ("User 'user' executed the 'command' command"), a flash file deleted.
    [CISCO_FILE_DELETION, 'cisco ASA 111008', "<165>Oct 11 2024 22:14:15 asa1 : %ASA-5-111008: User 'admin' executed the 'delete flash:/old.bin' command."],
    // TACACS+ (tac_plus) command accounting of an IOS exec command, as the accounting file holds it.
    [CISCO_FILE_DELETION, 'cisco TACACS+ accounting', 'Oct 11 22:14:15\t10.0.0.1\tadmin\ttty2\t10.0.0.5\tstop\ttask_id=43\ttimezone=UTC\tservice=shell\tstart_time=1728684855\tpriv-lvl=15\tcmd=delete flash:old.bin <cr>'],
    // IOS XE CVE-2023-20198 implant account, as Cisco Talos published the log line.
    [CISCO_CVE_2023_20198, 'cisco IOS XE %SYS-5-CONFIG_P', '<189>Oct 11 22:14:15 10.0.0.1 123: *Oct 11 22:14:15.123: %SYS-5-CONFIG_P: Configured programmatically by process SEP_webui_wsma_http from console as cisco_tac_admin on line'],
    ['0d3c2c55-4c6b-4b59-9a0c-6f3a4c0b1a01', 'cisco IOS %SYS-5-CONFIG_I (central rsyslog file)', 'Oct 11 22:14:15 10.0.0.1 123: *Oct 11 22:14:15.123: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)'],
    // FortiOS event log 0100044547 "Object attribute configured": an administrator added.
    [FORTIGATE_NEW_ADMIN, 'FortiGate admin added', '<189>date=2024-10-11 time=22:14:15 devname="FGT60E-1" devid="FGT60ETK19000001" eventtime=1728684855000000000 tz="+0000" logid="0100044547" type="event" subtype="system" level="information" vd="root" logdesc="Object attribute configured" user="admin" ui="ssh(10.0.0.5)" action="Add" cfgtid=1234 cfgpath="system.admin" cfgobj="backup" cfgattr="accprofile[super_admin]" msg="Add system.admin backup"'],
    [JUNIPER_BGP_MD5, 'Junos kernel', 'Oct 11 22:14:15 r1 /kernel: tcp_auth_ok: Packet from 10.10.10.2:179 missing MD5 digest'],
    [HUAWEI_BGP_AUTH, 'Huawei VRP', 'Oct 11 2024 22:14:15 CE6850 %%01BGP/3/BGP_AUTH_FAILED(l)[4]:BGP authentication failed. (PeerAddress=10.1.1.2:179, VpnInstance=_public_)'],
  ];
  for (const [ruleId, name, line] of APPLIANCE_CASES) {
    test(`${name} reaches its rule (raw line, and via a central relay's file)`, () => {
      assert.ok(matches([view(line)]).some((x) => x.id === ruleId), `raw: ${line}`);
      assert.ok(matches([view(line, { 'log.file.name': 'syslog' }, { 'host.name': 'syslog-relay' })]).some((x) => x.id === ruleId), 'file_log on a relay');
    });
  }

  test('a Cisco line through the syslog receiver (RFC 3164 attributes, the mnemonic parsed as the tag)', () => {
    const line = "<189>Oct 11 22:14:15 asa1 %ASA-5-111008: User 'admin' executed the 'delete flash:/old.bin' command.";
    const hits = matches([view(line, { hostname: 'asa1', appname: '%ASA-5-111008', message: "User 'admin' executed the 'delete flash:/old.bin' command.", facility: 23, priority: 189 })]);
    assert.ok(hits.some((x) => x.id === CISCO_FILE_DELETION), JSON.stringify(hits));
    assert.ok(!hits.some((x) => x.product === 'linux'), 'Linux rules do not see the appliance line');
  });

  // Palo Alto's GlobalProtect mp-log lines (CVE-2024-3400, as Volexity published them) carry no PAN-OS syslog
  // header: only the user's mapping can say they are Palo Alto's.
  const GP_LINE = '2024-04-10 00:00:00.000 +0000 Error:  extractSessionID(gpsvc.go:123): failed to unmarshal session(../../../../opt/panlogs/tmp/device_telemetry/minute/x) map , EOF';
  const CISCO_PLAIN = 'admin@core-sw1 ran: delete flash:old.bin';
  const MAPPING_YAML = [
    '# Lines from the Palo Alto and Cisco pipelines: the collector sets device.vendor on their resources.',
    'products:',
    "  - product: paloalto",
    "    when: { 'device.vendor': ['Palo Alto Networks'] }",
    "  - product: cisco",
    "    when: { 'observer.vendor': [Cisco] }",
    '',
  ].join('\n');

  test('a mapping file maps a resource attribute to an appliance product; without it nothing fires', () => {
    const file = path.join(tmp, 'vendors.yaml');
    fs.writeFileSync(file, MAPPING_YAML);
    const user = loadLogsourceMapping({ overrideFiles: [file] });
    assert.deepEqual(user.products, [{ product: 'paloalto', when: { 'device.vendor': ['Palo Alto Networks'] } }, { product: 'cisco', when: { 'observer.vendor': ['Cisco'] } }]);
    const gp = view(GP_LINE, { 'log.file.name': 'mp-log' }, { 'device.vendor': 'Palo Alto Networks', 'host.name': 'pa-1' });
    const cisco = view(CISCO_PLAIN, {}, { 'observer.vendor': 'Cisco' });
    assert.ok(matches([gp], user).some((x) => x.id === PANOS_CVE_2024_3400));
    assert.ok(matches([cisco], user).some((x) => x.id === CISCO_FILE_DELETION));
    assert.deepEqual(matches([gp, cisco]).filter((x) => APPLIANCES.has(x.product)), []);
  });

  test('eval --mapping-file: the same through the CLI', () => {
    const file = path.join(tmp, 'vendors.yaml');
    fs.writeFileSync(file, MAPPING_YAML);
    const req = path.join(tmp, 'req.json');
    const rec = (body: string, res: Record<string, string>) => ({
      resource: { attributes: Object.entries(res).map(([key, v]) => ({ key, value: anyValue(v) })) },
      scopeLogs: [{ logRecords: [{ timeUnixNano: '1712707200000000000', body: anyValue(body) }] }],
    });
    fs.writeFileSync(req, JSON.stringify({ resourceLogs: [rec(GP_LINE, { 'device.vendor': 'Palo Alto Networks' }), rec(CISCO_PLAIN, { 'observer.vendor': 'Cisco' })] }));
    const rules = ['rules/network/cisco/aaa', 'rules-emerging-threats/2024/Exploits/CVE-2024-3400'].flatMap((d) => ['--rules', path.join(ACTIVE_RULE_DIRS[0]!, '..', d)]);
    const run = (extra: string[]) => {
      const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/otel-sigma.js'), 'eval', ...rules, ...extra, req], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { rule_id: string }).rule_id).sort();
    };
    assert.deepEqual(run(['--mapping-file', file]), [CISCO_FILE_DELETION, PANOS_CVE_2024_3400].sort());
    assert.deepEqual(run([]), []);
  });

  test('Cisco keyword rules ("dir", "delete") stay off a Linux host: recorded pam_systemd and userdel lines', () => {
    const hits = DEBIAN_LINES.flatMap(([line, file, facility]) => syslogShapes(line, file, facility).map(([, r]) => r));
    const ids = new Set(matches(hits).map((x) => x.id));
    assert.ok(!ids.has(CISCO_DISCOVERY) && !ids.has(CISCO_FILE_DELETION));
  });
});
