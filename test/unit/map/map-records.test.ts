import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyValue, LogRecordView } from '../../../src/decode/types.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';
import { createRecordMapper, windowsServiceTable } from '../../../src/map/map-records.ts';
import type { LogsourceMapping } from '../../../src/map/types.ts';

function record(body: AnyValue, attributes: Record<string, AnyValue> = {}): LogRecordView {
  return {
    timeUnixNano: '0',
    observedTimeUnixNano: '0',
    severityNumber: 0,
    severityText: '',
    body,
    attributes,
    traceId: '',
    spanId: '',
    flags: 0,
    eventName: '',
    resource: { attributes: {} },
    scope: { name: '', version: '' },
  };
}

const sysmonXml = (eid: number): string =>
  `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>${eid}</EventID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>ws1</Computer></System><EventData><Data Name='Image'>C:\\a.exe</Data></EventData></Event>`;

describe('createRecordMapper', () => {
  test('routes each record: Windows, then the Linux mapper, then generic; every record yields an event', () => {
    const mapper = createRecordMapper({ mapping: loadLogsourceMapping() });
    const records = [
      record(sysmonXml(1)),
      record('Nov 22 02:00:00 web01 sshd[12]: Failed password for root from 10.0.0.1 port 22 ssh2'),
      record({ eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', eventType: 'AwsApiCall' }),
      record('GET /index.php?x=1 HTTP/1.1'),
    ];
    const out = mapper.map(records);
    assert.equal(out.length, 4);
    const bySource = new Map(out.map((m) => [m.record, m.event.meta.source]));
    assert.equal(bySource.get(records[0]!), 'windows');
    assert.notEqual(bySource.get(records[1]!), 'generic'); // claimed by the Linux mapper
    assert.notEqual(bySource.get(records[1]!), 'windows');
    assert.equal(bySource.get(records[2]!), 'generic');
    assert.equal(bySource.get(records[3]!), 'generic');
    assert.deepEqual(mapper.map([]), []);
  });

  test('Sysmon for Linux XML is not a Windows event', () => {
    const xml =
      "<Event><System><Provider Name='Linux-Sysmon' Guid='{ff032593-a8d3-4f13-b0d6-01fc615a0f97}'/><EventID>1</EventID><Channel>Linux-Sysmon/Operational</Channel><Computer>web01</Computer></System><EventData><Data Name='Image'>/usr/bin/id</Data></EventData></Event>";
    const [m] = createRecordMapper({ mapping: loadLogsourceMapping() }).map([record(xml)]);
    assert.notEqual(m!.event.meta.source, 'windows');
    assert.notEqual(m!.event.meta.product, 'windows');
  });

  test('meta.service comes from the mapping`s Windows service entries, matched on the channel case-insensitively', () => {
    const mapper = createRecordMapper({ mapping: loadLogsourceMapping() });
    const [sysmon] = mapper.map([record(sysmonXml(1))]);
    assert.equal(sysmon!.event.meta.service, 'sysmon');
    const serviceOf = windowsServiceTable(loadLogsourceMapping());
    assert.equal(serviceOf('security'), 'security');
    assert.equal(serviceOf('microsoft-windows-powershell/operational'), 'powershell');
    assert.equal(serviceOf('powershellcore/operational'), 'powershell');
    assert.equal(serviceOf('windows powershell'), 'powershell-classic');
    assert.equal(serviceOf('microsoft-windows-ldap-client/debug'), 'ldap');
    assert.equal(serviceOf('no such channel'), undefined);
  });

  test('a custom mapping passed in is the one used for meta.service', () => {
    const mapping: LogsourceMapping = {
      entries: [{ product: 'windows', service: 'edr', variants: [{ when: { Channel: ['Microsoft-Windows-Sysmon/Operational'] } }] }],
      fallback: { when: { '@source': ['generic'] } },
    };
    const [m] = createRecordMapper({ mapping }).map([record(sysmonXml(1))]);
    assert.equal(m!.event.meta.service, 'edr');
  });

  test('odd values in a Windows body are kept as they are and do not disturb the batch', () => {
    const mapper = createRecordMapper({ mapping: loadLogsourceMapping() });
    const weird = record({ event_id: { id: 1 }, channel: 'x', provider: null, event_data: { data: [null, 1, { '': null }] } });
    const out = mapper.map([weird, record(sysmonXml(11))]);
    assert.equal(out.length, 2);
    assert.equal(out[0]!.event.meta.source, 'windows');
    assert.equal(out[0]!.event.fields['param1'], null);
  });
});
