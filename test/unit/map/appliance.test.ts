/**
 * Appliance identification (src/map/appliance/): documented appliance log formats give the event the
 * appliance's product, mapping-file product rules name products from attributes, and no line of a Linux
 * host (the Linux corpus and the recorded benign day) is taken for an appliance.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { AnyValue, LogRecordView } from '../../../src/decode/types.ts';
import { addKeyValueFields, applianceOf } from '../../../src/map/appliance/formats.ts';
import { createProductIdentifier } from '../../../src/map/appliance/identify.ts';
import { createRecordMapper } from '../../../src/map/map-records.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';
import { benignDayRecords } from '../../helpers/benign-day.ts';
import { decodeJsonDocument } from '../../../src/decode/otlp-json.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function view(body: AnyValue, attributes: Record<string, AnyValue> = {}, resource: Record<string, AnyValue> = {}): LogRecordView {
  return {
    timeUnixNano: '0', observedTimeUnixNano: '0', severityNumber: 0, severityText: '', body, attributes,
    traceId: '', spanId: '', flags: 0, eventName: '', resource: { attributes: resource }, scope: { name: '', version: '' },
  };
}

/** Lines as vendors document them (message formats from the vendors' syslog/message guides). */
const APPLIANCE_LINES: readonly [string, string][] = [
  ['cisco', 'Oct 11 22:14:15 10.0.0.1 123: *Oct 11 22:14:15.123: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)'],
  ['cisco', '<189>Oct 11 22:14:15 router1 %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)'],
  ['cisco', '<189>45: router1: Oct 11 22:14:15.123: %PARSER-5-CFGLOG_LOGGEDCMD: User:admin  logged command:no logging host 10.0.0.9'],
  ['cisco', "<166>Oct 11 2024 22:14:15: %ASA-5-111008: User 'admin' executed the 'delete flash:/old.bin' command."],
  ['cisco', '<190>Oct 11 2024 22:14:15 fw1 : %FTD-6-302013: Built inbound TCP connection 1 for outside:198.51.100.1/443 (198.51.100.1/443) to inside:10.0.0.2/5555 (10.0.0.2/5555)'],
  ['cisco', '2024 Oct 11 22:14:15 nx1 %VSHD-5-VSHD_SYSLOG_CONFIG_I: Configured from vty by admin on 10.0.0.5@pts/0'],
  ['cisco', "RP/0/RSP0/CPU0:Oct 11 22:14:15.123 UTC: config[65741]: %MGBL-CONFIG-6-DB_COMMIT : Configuration committed by user 'admin'."],
  ['cisco', 'Oct 11 22:14:15\t10.0.0.1\tadmin\ttty2\t10.0.0.5\tstop\ttask_id=43\ttimezone=UTC\tservice=shell\tstart_time=1728684855\tpriv-lvl=15\tcmd=delete flash:old.bin <cr>'],
  ['fortigate', '<189>date=2024-10-11 time=22:14:15 devname="FGT60E-1" devid="FGT60ETK19000001" logid="0100044547" type="event" subtype="system" level="information" vd="root" logdesc="Object attribute configured" user="admin" action="Add" cfgpath="system.admin" cfgobj="backup"'],
  ['fortigate', 'date=2024-10-11 time=22:14:15 devname=FG100F devid=FG100FTK20000002 logid=0000000013 type=traffic subtype=forward srcip=10.0.0.2 dstip=198.51.100.1 action=close'],
  ['paloalto', '<14>Oct 11 22:14:15 PA-VM 1,2024/10/11 22:14:15,007051000012345,TRAFFIC,end,2561,2024/10/11 22:14:15,10.0.0.1,198.51.100.1'],
  ['paloalto', '1,2024/10/11 22:14:15,007051000012345,GLOBALPROTECT,0,2561,2024/10/11 22:14:15,vsys1,gateway-auth,login,SAML,,alice'],
  ['juniper', '<14>1 2024-10-11T22:14:15.000Z srx1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.26 source-address="10.0.0.1"] session created'],
  ['juniper', 'Oct 11 22:14:15 r1 /kernel: tcp_auth_ok: Packet from 10.10.10.2:179 missing MD5 digest'],
  ['juniper', "Oct 11 22:14:15 r1 mgd[4242]: UI_COMMIT: User 'admin' requested 'commit' operation (comment: none)"],
  ['huawei', 'Oct 11 2024 22:14:15 HUAWEI %%01SHELL/5/CMDRECORD(s)[21]:Recorded command information. (Task=VT0, Ip=10.0.0.5, User=admin, Command="display current-configuration")'],
  ['paloalto', 'CEF:0|Palo Alto Networks|PAN-OS|10.2.0|end|TRAFFIC|1|rt=Oct 11 2024 22:14:15 deviceExternalId=007051000012345'],
];

describe('appliance formats', () => {
  for (const [product, line] of APPLIANCE_LINES) {
    test(`${product}: ${line.slice(0, 70)}`, () => {
      // As the collector delivers it: a raw line (file_log, or a syslog receiver's body); the mapper decides.
      const [mapped] = createRecordMapper({ mapping: loadLogsourceMapping() }).map([view(line)]);
      assert.equal(mapped?.event.meta.product, product);
      assert.equal(mapped.event.meta.service, undefined);
    });
  }

  test('a Cisco mnemonic parsed as the syslog tag (RFC 3164 parser) and a Juniper daemon tag in the message', () => {
    assert.equal(applianceOf({ text: 'Configured from console by admin', appname: '%SYS-5-CONFIG_I' }), 'cisco');
    assert.equal(applianceOf({ text: 'x', message: "UI_COMMIT: User 'admin' requested 'commit' operation", appname: 'mgd' }), 'juniper');
    assert.equal(applianceOf({ text: 'x', message: 'started', appname: 'mgd' }), undefined);
    assert.equal(applianceOf({ text: 'x', structuredData: '[junos@2636.1.1.1.2.26 source-address="10.0.0.1"]' }), 'juniper');
  });

  test('no line of a Linux host is an appliance line: the Linux corpus and the recorded benign day', () => {
    const corpus = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/linux/cases.json'), 'utf8')) as { cases: Record<string, unknown>[] };
    const records: LogRecordView[] = [];
    for (const c of corpus.cases) {
      for (const key of ['traditional', 'rfc3339', 'rfc5424', 'rfc3164']) if (typeof c[key] === 'string') records.push(view(c[key], { 'log.file.name': 'syslog' }));
      for (const l of (c['lines'] as string[] | undefined) ?? []) records.push(view(l, { 'log.file.name': 'audit.log' }));
      for (const e of (c['entries'] as Record<string, AnyValue>[] | undefined) ?? []) records.push(view(e));
    }
    for (const setup of ['journald', 'files'] as const) {
      const doc = { resourceLogs: [{ resource: { attributes: [{ key: 'host.name', value: { stringValue: 'vm' } }] }, scopeLogs: [{ logRecords: benignDayRecords(setup).map((r) => r.record) }] }] };
      records.push(...decodeJsonDocument(doc).records);
    }
    assert.ok(records.length > 12_000, `${records.length} records`);
    const mapper = createRecordMapper({ mapping: loadLogsourceMapping() });
    const events = [...mapper.map(records), ...mapper.flush()];
    const products = new Set(events.map((e) => e.event.meta.product));
    assert.deepEqual([...products].sort(), ['linux'], 'every Linux record stays linux (no generic or appliance event)');
  });

  test('FortiOS key=value pairs become fields, quoted values unquoted, existing fields kept, bounded', () => {
    const fields: Record<string, unknown> = { devname: 'kept' };
    addKeyValueFields('<189>date=2024-10-11 time=22:14:15 devname="FGT60E" msg="Add system.admin x" cfgpath=system.admin action="Add" broken="unterminated', fields);
    assert.deepEqual(fields, { devname: 'kept', date: '2024-10-11', time: '22:14:15', msg: 'Add system.admin x', cfgpath: 'system.admin', action: 'Add', broken: 'unterminated' });
    const many: Record<string, unknown> = {};
    addKeyValueFields(Array.from({ length: 1000 }, (_, i) => `k${i}=v`).join(' '), many);
    assert.equal(Object.keys(many).length, 256);
  });

  test('the FortiGate event is the device: host from devname, fields from the pairs', () => {
    const [m] = createRecordMapper({ mapping: loadLogsourceMapping() }).map([view(APPLIANCE_LINES.find(([p]) => p === 'fortigate')![1], {}, { 'host.name': 'syslog-relay' })]);
    assert.equal(m?.event.meta.host, 'FGT60E-1');
    assert.equal(m.event.fields['cfgpath'], 'system.admin');
    assert.equal(m.event.fields['action'], 'Add');
  });

  test('a Cisco line in a central rsyslog file: source syslog, host = the device, not the relay', () => {
    const [m] = createRecordMapper({ mapping: loadLogsourceMapping() }).map([view(APPLIANCE_LINES[0]![1], { 'log.file.name': 'syslog' }, { 'host.name': 'syslog-relay' })]);
    assert.deepEqual(m?.event.meta, { source: 'syslog', product: 'cisco', service: undefined, host: '10.0.0.1' });
  });
});

describe('product rules (mapping file `products:`)', () => {
  const line = 'admin ran: delete flash:old.bin'; // no documented format: only the attribute says Cisco
  test('resource attribute, log attribute, event field and @meta conditions; first rule wins; case-insensitive', () => {
    const identify = createProductIdentifier([
      { product: 'cisco', when: { 'device.vendor': ['Cisco'] } },
      { product: 'paloalto', when: { 'observer.vendor': ['Palo Alto Networks'], '@source': ['generic'] } },
      { product: 'juniper', when: { hostname: ['edge-r1', 'edge-r2'] } },
      { product: 'checkpoint', when: { 'device.vendor': ['Cisco', 'Check Point'] } },
    ]);
    const mapper = createRecordMapper({ mapping: loadLogsourceMapping() });
    const one = (r: LogRecordView): string | undefined => identify(mapper.map([r])[0]!).event.meta.product;
    assert.equal(one(view(line, {}, { 'device.vendor': 'CISCO' })), 'cisco');
    assert.equal(one(view(line, { 'device.vendor': 'cisco' })), 'cisco');
    assert.equal(one(view(line, { 'observer.vendor': 'Palo Alto Networks' })), 'paloalto');
    assert.equal(one(view('<14>Oct 11 22:14:15 edge-r1 rpd[42]: peer down', { 'observer.vendor': 'Palo Alto Networks' })), 'juniper', '@source generic does not hold for a syslog event; the hostname rule does');
    assert.equal(one(view(line, {}, { 'device.vendor': 'Check Point' })), 'checkpoint');
    assert.equal(one(view(line)), undefined);
  });

  test('a rule naming linux keeps a format-looking line of a Linux host linux', () => {
    const identify = createProductIdentifier([{ product: 'linux', when: { 'host.name': ['web-1'] } }]);
    const raw = createRecordMapper({ mapping: loadLogsourceMapping() }).map([view('Oct 11 22:14:15 web-1 app[42]: relayed %SYS-5-CONFIG_I: Configured from console', {}, { 'host.name': 'web-1' })])[0]!;
    assert.equal(raw.event.meta.product, 'cisco', 'the format alone says cisco');
    // The record mapper applied the formats already; a rule set that names linux first wins over them.
    const mapper = createRecordMapper({ mapping: { ...loadLogsourceMapping(), products: [{ product: 'linux', when: { 'host.name': ['web-1'] } }] } });
    const m = mapper.map([view('Oct 11 22:14:15 web-1 app[42]: relayed %SYS-5-CONFIG_I: Configured from console', {}, { 'host.name': 'web-1' })])[0]!;
    assert.equal(m.event.meta.product, 'linux');
    assert.equal(m.event.meta.service, 'syslog');
    assert.equal(identify(m), m);
  });

  test('mapping files: validated strictly (errors name the file and rule), user rules before shipped ones', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-products-'));
    try {
      const shipped = path.join(dir, 'shipped');
      fs.mkdirSync(shipped);
      fs.writeFileSync(path.join(shipped, 'a.yaml'), "products:\n  - { product: juniper, when: { 'device.vendor': [Juniper] } }\n");
      const user = path.join(dir, 'user.yaml');
      fs.writeFileSync(user, "products:\n  - { product: cisco, when: { 'device.vendor': [Cisco] } }\n");
      assert.deepEqual(loadLogsourceMapping({ shippedDir: shipped, overrideFiles: [user] }).products?.map((p) => p.product), ['cisco', 'juniper']);
      assert.equal(loadLogsourceMapping({ shippedDir: shipped }).products?.length, 1);
      const bad = (yaml: string): string => {
        fs.writeFileSync(user, yaml);
        try {
          loadLogsourceMapping({ shippedDir: shipped, overrideFiles: [user] });
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'ERR_CONFIG');
          return (err as Error).message;
        }
        return assert.fail('expected an error');
      };
      assert.match(bad("products:\n  - { product: cisco, vendor: Cisco, when: { a: [b] } }\n"), new RegExp(`${user.replaceAll('.', '\\.')} at products\\[0\\]: .*vendor`));
      assert.match(bad('products:\n  - { product: cisco, when: {} }\n'), /products\[0\]\.when: needs at least one condition/);
      assert.match(bad("products:\n  - { when: { a: [b] } }\n"), /products\[0\]\.product/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('auditd events are never renamed: only syslog, journald and generic events are looked at', () => {
    const mapper = createRecordMapper({ mapping: { ...loadLogsourceMapping(), products: [{ product: 'cisco', when: { 'host.name': ['vm'] } }] } });
    const audit = 'type=USER_CMD msg=audit(1796540284.013:10376): pid=1 uid=0 auid=1001 ses=2 msg=\'cwd="/" cmd="id" exe="/usr/bin/sudo" terminal=pts/0 res=success\'';
    const events = [...mapper.map([view(audit, { 'log.file.name': 'audit.log' }, { 'host.name': 'vm' })]), ...mapper.flush()];
    assert.equal(events[0]?.event.meta.product, 'linux');
    assert.equal(events[0].event.meta.source, 'auditd');
  });
});
