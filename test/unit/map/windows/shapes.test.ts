/**
 * The three windowseventlog shapes of the same recorded events must give the same Sigma fields.
 * Uses every event of the SigmaHQ regression corpus (real Windows events) in ../shared.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogRecordView } from '../../../../src/decode/types.ts';
import { createRecordMapper } from '../../../../src/map/map-records.ts';
import type { SigmaEvent } from '../../../../src/map/types.ts';
import { loadManifest, caseRecords, hasCorpus, type CorpusCase } from '../../../helpers/corpus.ts';
import { loadLogsourceMapping } from '../../../../src/map/logsource-mapping.ts';

const mapper = createRecordMapper({ mapping: loadLogsourceMapping() });
const skip = !hasCorpus;
const SKIP_NOTE = hasCorpus ? '' : ' (skipped: ../shared/sigma/regression is absent)';

/** Windows fields only (dotted names are attributes), strings trimmed: the corpus's XML lost trailing spaces the map shape kept. */
function windowsFields(e: SigmaEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(e.fields).sort()) {
    if (k.includes('.')) continue;
    const v = e.fields[k];
    out[k] = typeof v === 'string' ? v.trim() : v;
  }
  return out;
}

function mapCase(c: CorpusCase, shape: 'signoz' | 'map' | 'raw'): SigmaEvent[] {
  return mapper.map(caseRecords(c, shape)).map((m) => m.event);
}

function record(body: LogRecordView['body'], resource: Record<string, string> = {}): LogRecordView {
  return {
    timeUnixNano: '0',
    observedTimeUnixNano: '0',
    severityNumber: 0,
    severityText: '',
    body,
    attributes: {},
    traceId: '',
    spanId: '',
    flags: 0,
    eventName: '',
    resource: { attributes: resource },
    scope: { name: '', version: '' },
  };
}

describe(`Windows shapes: same Sigma fields from signoz, map and raw${SKIP_NOTE}`, { skip }, () => {
  const cases = loadManifest();

  test(`every corpus event maps to a Windows event with identical fields in every shape (${cases.length} cases)`, () => {
    let events = 0;
    for (const c of cases) {
      const raw = mapCase(c, 'raw');
      const map = mapCase(c, 'map');
      const signoz = mapCase(c, 'signoz');
      assert.equal(raw.length, map.length, c.case_dir);
      assert.equal(raw.length, signoz.length, c.case_dir);
      raw.forEach((r, i) => {
        assert.equal(r.meta.source, 'windows', c.case_dir);
        assert.equal(r.meta.product, 'windows');
        assert.deepEqual(windowsFields(map[i]!), windowsFields(r), `${c.case_dir} event ${i}: map vs raw`);
        // v0.144 (signoz) has no UserData: compare only where the case says the shape carries the fields.
        if (c.shapes.includes('signoz')) assert.deepEqual(windowsFields(signoz[i]!), windowsFields(r), `${c.case_dir} event ${i}: signoz vs raw`);
        events++;
      });
    }
    assert.ok(events >= cases.length, `${events} events`);
  });

  test('Security 4648: System fields, EventData and meta as Sigma names them', () => {
    const c = cases.find((x) => x.case_dir.endsWith('win_security_explicit_credential_local_logon'))!;
    for (const shape of ['signoz', 'map', 'raw'] as const) {
      const [e] = mapCase(c, shape);
      assert.ok(e, shape);
      assert.equal(e.fields['EventID'], 4648);
      assert.equal(e.fields['Channel'], 'Security');
      assert.equal(e.fields['Provider_Name'], 'Microsoft-Windows-Security-Auditing');
      assert.equal(e.fields['Execution_ProcessID'], 876);
      assert.equal(e.fields['Keywords'], '0x8020000000000000');
      assert.equal(e.fields['ProcessName'], 'C:\\Users\\xodih\\OneDrive\\Desktop\\LegacyHive.exe');
      assert.equal(e.meta.service, 'security');
      assert.equal(e.meta.host, 'swachchhanda');
    }
    const [signoz] = mapCase(c, 'signoz');
    assert.equal(signoz!.fields['host.name'], 'swachchhanda'); // resource attribute kept under its own name
    assert.equal(signoz!.fields['os.type'], 'windows');
  });

  test('WMI 5858: UserData unwrapped in map and raw shapes', () => {
    const c = cases.find((x) => x.case_dir.endsWith('win_wmi_activity_nteventlogfile_cleareventlog'))!;
    for (const shape of ['map', 'raw'] as const) {
      const [e] = mapCase(c, shape);
      assert.equal(e!.fields['EventID'], 5858, shape);
      assert.match(e!.fields['Operation'] as string, /Win32_NTEventlogFile.*cleareventlog/);
      assert.equal(e!.fields['ResultCode'], '0x80041003');
      assert.equal(e!.meta.service, 'wmi');
    }
  });
});

describe('Windows shapes: fixtures', () => {
  test('Defender 1116 (raw): spaces removed from EventData names', () => {
    const xml = readFileSync(join(import.meta.dirname, '../../../fixtures/windows/defender-1116.xml'), 'utf8');
    const [m] = mapper.map([record(xml)]);
    assert.equal(m!.event.meta.source, 'windows');
    assert.equal(m!.event.meta.service, 'windefend');
    assert.equal(m!.event.meta.host, 'WS01.corp.example');
    assert.equal(m!.event.fields['ThreatName'], 'HackTool:Win64/Mimikatz!pz');
    assert.equal(m!.event.fields['SourceName'], 'Real-Time Protection');
    assert.equal(m!.event.fields['Threat Name'], undefined);
  });

  test('map shape with rendered level and audit keyword names gives the Level and Keywords the XML has; the JSON-string body (SigNoz storage) maps too', () => {
    const body = {
      event_id: { id: 7045, qualifiers: 16384 },
      provider: { name: 'Service Control Manager', guid: '{555908d1-a6d7-4695-8e1e-26931d2012f4}', event_source: 'Service Control Manager' },
      system_time: '2026-05-04T10:00:00.0000000Z',
      computer: 'DC01',
      channel: 'System',
      record_id: 9,
      level: 'Information',
      task: 'None',
      opcode: 'Info',
      keywords: ['Classic'],
      message: 'A service was installed in the system.',
      event_data: { ServiceName: 'PSEXESVC', ImagePath: '%SystemRoot%\\PSEXESVC.exe', param1: 'anon', binary: '0A', name: 'x' },
      version: 0,
    };
    const audit = { ...body, channel: 'Security', keywords: ['Audit Failure'] };
    assert.equal(mapper.map([record(audit)])[0]!.event.fields['Keywords'], '0x8010000000000000');
    const [fromMap] = mapper.map([record(body, { 'host.name': 'dc01.corp' })]);
    const [fromJson] = mapper.map([record(JSON.stringify(body))]);
    for (const m of [fromMap!, fromJson!]) {
      assert.equal(m.event.meta.source, 'windows');
      assert.equal(m.event.fields['Level'], '4');
      assert.equal(m.event.fields['EventID'], 7045);
      assert.equal(m.event.fields['EventID_Qualifiers'], 16384);
      assert.equal(m.event.fields['Provider_EventSourceName'], 'Service Control Manager');
      assert.equal(m.event.fields['Keywords'], 'Classic');
      assert.equal(m.event.fields['Message'], 'A service was installed in the system.');
      assert.equal(m.event.fields['ServiceName'], 'PSEXESVC');
      assert.equal(m.event.fields['param1'], 'anon');
      assert.equal(m.event.fields['Binary'], '0A');
      assert.equal(m.event.fields['name'], undefined);
      assert.equal(m.event.meta.service, 'system');
    }
    assert.equal(fromMap!.event.meta.host, 'dc01.corp');
    assert.equal(fromJson!.event.meta.host, 'DC01');
  });

  test('array shape: unnamed items become param1…; attributes never replace event fields; log.record.original is left out', () => {
    const body: LogRecordView['body'] = {
      event_id: { id: 1, qualifiers: 0 },
      provider: { name: 'p', guid: '', event_source: '' },
      channel: 'Application',
      computer: 'h',
      event_data: { data: [{ '': 'a' }, { Image: 'C:\\x.exe' }, { '': 'b' }] },
    };
    const r = { ...record(body), attributes: { Image: 'attr', 'log.record.original': '<Event/>', custom: { k: 1 } } };
    const [m] = mapper.map([r]);
    assert.equal(m!.event.fields['param1'], 'a');
    assert.equal(m!.event.fields['param2'], 'b');
    assert.equal(m!.event.fields['Image'], 'C:\\x.exe');
    assert.equal(m!.event.fields['custom.k'], 1);
    assert.equal(m!.event.fields['log.record.original'], undefined);
    assert.equal(m!.event.fields['Provider_Guid'], undefined);
    assert.equal(m!.event.fields['EventID_Qualifiers'], undefined);
  });

  test('XML that is not a Windows event, and malformed Event XML without System, become generic events', () => {
    const out = mapper.map([record('<?xml version="1.0"?><note>hi</note>'), record('<Event><EventData><Data>x</Data>')]);
    assert.deepEqual(
      out.map((m) => m.event.meta.source),
      ['generic', 'generic'],
    );
    assert.equal(out[0]!.event.fields['message'], '<?xml version="1.0"?><note>hi</note>');
  });
});
