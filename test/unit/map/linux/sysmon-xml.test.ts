import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { decodeEntities, isSysmonXml, parseSysmonXml } from '../../../../src/map/linux/sysmon-xml.ts';

const EVENT =
  '<Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2026-11-22T02:30:01.467399000Z"/><EventRecordID>75097</EventRecordID><Correlation/><Execution ProcessID="1109" ThreadID="1109"/><Channel>Linux-Sysmon/Operational</Channel><Computer>vm</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="Image">/usr/bin/base64</Data><Data Name="CommandLine">sh -c &quot;a &gt; b &amp;&amp; c&quot; &#x41;&#66;</Data><Data Name="Empty"/><Data Name="User">root</Data></EventData></Event>';

describe('Sysmon for Linux XML', () => {
  test('EventID, Channel, Computer and Data with entities', () => {
    assert.ok(isSysmonXml(EVENT));
    const e = parseSysmonXml(EVENT)!;
    assert.equal(e.eventId, 1);
    assert.equal(e.channel, 'Linux-Sysmon/Operational');
    assert.equal(e.computer, 'vm');
    assert.deepEqual(e.data, { RuleName: '-', Image: '/usr/bin/base64', CommandLine: 'sh -c "a > b && c" AB', Empty: '', User: 'root' });
  });

  test('broken or foreign XML', () => {
    assert.equal(parseSysmonXml('<Event><System></System></Event>'), undefined);
    assert.equal(parseSysmonXml('<Event><System><EventID>x</EventID></System></Event>'), undefined);
    const truncated = parseSysmonXml(EVENT.slice(0, EVENT.indexOf('<Data Name="User">') + 20))!;
    assert.equal(truncated.data.Image, '/usr/bin/base64');
    assert.equal(truncated.data.User, undefined);
    assert.equal(isSysmonXml('<Event> no system'), false);
  });

  test('entities: only the predefined ones and valid code points', () => {
    assert.equal(decodeEntities('&lt;&gt;&amp;&quot;&apos;'), '<>&"\'');
    assert.equal(decodeEntities('&nbsp; &#x110000; &#0065;'), '&nbsp; &#x110000; A');
  });

  test('hostile: many Data elements, 1 MB values', () => {
    const many = `<Event><System><EventID>3</EventID></System><EventData>${'<Data Name="a">x</Data>'.repeat(50_000)}<Data Name="big">${'&amp;'.repeat(200_000)}</Data></EventData></Event>`;
    const start = performance.now();
    const e = parseSysmonXml(many)!;
    assert.equal(e.data.big!.length, 200_000);
    assert.ok(performance.now() - start < 1000);
  });
});
