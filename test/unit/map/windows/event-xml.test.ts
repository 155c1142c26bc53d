import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEventXml } from '../../../../src/map/windows/event-xml.ts';
import { newFieldBag } from '../../../../src/map/windows/fields.ts';
import { decodeEntities } from '../../../../src/map/windows/xml-entities.ts';
import fc from 'fast-check';

const FIXTURES = join(import.meta.dirname, '../../../fixtures/windows');
const NS = "xmlns='http://schemas.microsoft.com/win/2004/08/events/event'";

function read(xml: string): { ok: boolean; fields: Record<string, unknown> } {
  const fields = newFieldBag();
  const ok = readEventXml(xml, fields);
  return { ok, fields: { ...fields } };
}

function event(system: string, rest = ''): string {
  return `<Event ${NS}><System>${system}<Channel>Application</Channel></System>${rest}</Event>`;
}

describe('readEventXml: Event schema', () => {
  test('System elements and attributes get the evtx names; numbers become numbers', () => {
    const { ok, fields } = read(
      event(
        "<Provider Name='MsiInstaller' EventSourceName='MsiInstaller'/><EventID Qualifiers='16384'>1033</EventID><Version>0</Version>" +
          "<Level>4</Level><Task>0</Task><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2026-01-02T03:04:05.1Z'/>" +
          "<EventRecordID>77</EventRecordID><Correlation ActivityID='{A}' RelatedActivityID='{B}'/><Execution ProcessID='4' ThreadID='8'/>" +
          "<Computer>host1</Computer><Security UserID='S-1-5-18'/>",
      ),
    );
    assert.equal(ok, true);
    assert.deepEqual(fields, {
      Provider_Name: 'MsiInstaller',
      Provider_EventSourceName: 'MsiInstaller',
      EventID_Qualifiers: 16384,
      EventID: 1033,
      Version: 0,
      Level: '4',
      Task: '0',
      Keywords: '0x80000000000000',
      TimeCreated_SystemTime: '2026-01-02T03:04:05.1Z',
      EventRecordID: 77,
      Correlation_ActivityID: '{A}',
      Correlation_RelatedActivityID: '{B}',
      Execution_ProcessID: 4,
      Execution_ThreadID: 8,
      Computer: 'host1',
      Security_UserID: 'S-1-5-18',
      Channel: 'Application',
    });
  });

  test('named Data keep their name without spaces, unnamed Data become param1…, Binary is kept', () => {
    const { fields } = read(
      event(
        '<EventID>1000</EventID>',
        "<EventData><Data Name='Threat Name'>EICAR</Data><Data>first</Data><Data Name=\"Path\">C:\\x</Data><Data>second</Data><Data/><Binary>0A0B</Binary></EventData>",
      ),
    );
    assert.equal(fields['ThreatName'], 'EICAR');
    assert.equal(fields['Path'], 'C:\\x');
    assert.equal(fields['param1'], 'first');
    assert.equal(fields['param2'], 'second');
    assert.equal(fields['param3'], '');
    assert.equal(fields['Binary'], '0A0B');
  });

  test('entities, character references and CDATA are decoded; unknown entities are kept', () => {
    const { fields } = read(
      event(
        '<EventID>1</EventID>',
        "<EventData><Data Name='a'>&lt;b&gt; &amp; &quot;q&quot; &apos;s&apos; &#65;&#x42;&#X43; &bogus; &#xD800; & alone</Data>" +
          "<Data Name='c'><![CDATA[<raw> & ]]>tail</Data></EventData>",
      ),
    );
    assert.equal(fields['a'], `<b> & "q" 's' ABC &bogus; &#xD800; & alone`);
    assert.equal(fields['c'], '<raw> & tail');
  });

  test('attribute values may hold > and the other quote; entities in attributes are decoded', () => {
    const { fields } = read(event(`<Provider Name="a>b 'c' &amp; d"/><EventID>1</EventID>`));
    assert.equal(fields['Provider_Name'], "a>b 'c' & d");
  });

  test('UserData is unwrapped one level (WMI 5858 style) and namespaced wrappers are fine', () => {
    const { fields } = read(
      event(
        '<EventID>5858</EventID>',
        "<UserData><Operation_ClientFailure xmlns='http://manifests.microsoft.com/win/2006/windows/WMI'><Id>{0}</Id><ClientMachine>PC</ClientMachine>" +
          '<Operation>Start IWbemServices::ExecMethod - cleareventlog</Operation><ResultCode>0x80041003</ResultCode></Operation_ClientFailure></UserData>',
      ),
    );
    assert.equal(fields['ClientMachine'], 'PC');
    assert.equal(fields['Operation'], 'Start IWbemServices::ExecMethod - cleareventlog');
    assert.equal(fields['ResultCode'], '0x80041003');
    assert.equal(fields['Operation_ClientFailure'], undefined);
  });

  test('a UserData item named like a routing key does not replace the System value', () => {
    const { fields } = read(readFileSync(join(FIXTURES, 'system-104-log-cleared.xml'), 'utf8'));
    assert.equal(fields['Channel'], 'System');
    assert.equal(fields['UserData_Channel'], 'Security');
    assert.equal(fields['SubjectUserName'], 'alice');
    assert.equal(fields['BackupPath'], '');
  });

  test('RenderingInfo gives Message; the System Level stays numeric', () => {
    const { fields } = read(
      event('<EventID>7036</EventID><Level>4</Level>', "<RenderingInfo Culture='en-US'><Message>The service entered the running state.</Message><Level>Information</Level></RenderingInfo>"),
    );
    assert.equal(fields['Message'], 'The service entered the running state.');
    assert.equal(fields['Level'], '4');
  });

  test('XML declaration, comments, processing instructions, DOCTYPE and prefixes are handled', () => {
    const { ok, fields } = read(
      `\ufeff<?xml version="1.0" encoding="utf-8"?><!DOCTYPE Event [<!ENTITY x "boom">]><!-- c --><e:Event xmlns:e='urn:x'><e:System><e:EventID>4</e:EventID><?pi x?><e:Channel>Setup</e:Channel></e:System><e:EventData><e:Data Name='x'>&x;</e:Data></e:EventData></e:Event>`,
    );
    assert.equal(ok, true);
    assert.equal(fields['EventID'], 4);
    assert.equal(fields['Channel'], 'Setup');
    assert.equal(fields['x'], '&x;'); // DTD entities are never expanded
  });

  test('not an Event document → false', () => {
    assert.equal(read('<Events><Event/></Events>').ok, false);
    assert.equal(read('<html><body>x</body></html>').ok, false);
    assert.equal(read('plain text').ok, false);
    assert.equal(read(`<Event ${NS}><EventData><Data Name='a'>b</Data></EventData></Event>`).ok, false);
  });
});

describe('readEventXml: hostile input never throws or hangs', () => {
  const timed = (xml: string): { ok: boolean; fields: Record<string, unknown>; ms: number } => {
    const t0 = performance.now();
    const r = read(xml);
    return { ...r, ms: performance.now() - t0 };
  };

  test('unterminated tags and values give best-effort fields', () => {
    const cut = event('<EventID>11</EventID>', "<EventData><Data Name='TargetFilename'>C:\\temp\\a.exe</Data><Data Name='Image'>C:\\x.exe");
    const r = timed(cut.slice(0, cut.length - `</Event>`.length));
    assert.equal(r.ok, true);
    assert.equal(r.fields['TargetFilename'], 'C:\\temp\\a.exe');
    assert.equal(r.fields['Image'], 'C:\\x.exe');
    for (const bad of ['<Event', '<Event ', "<Event a='", '<Event><System><EventID>1</Event', '<', '</', '<!--', '<![CDATA[', '<?', '<<<>>>', '<Event><System><Channel>x<']) {
      assert.doesNotThrow(() => read(bad), bad);
    }
  });

  test('deep nesting (200k levels) is linear and does not overflow the stack', () => {
    const depth = 200_000;
    const xml = event('<EventID>1</EventID>', `<EventData>${'<a>'.repeat(depth)}x${'</a>'.repeat(depth)}<Data Name='after'>y</Data></EventData>`);
    const r = timed(xml);
    assert.equal(r.ok, true);
    assert.equal(r.fields['after'], 'y');
    assert.ok(r.ms < 1000, `took ${r.ms} ms`);
  });

  test('a 10 MB attribute value, closed and unclosed, is read in linear time', () => {
    const big = 'A'.repeat(10 * 1024 * 1024);
    const closed = timed(event(`<Provider Name='${big}'/><EventID>1</EventID>`));
    assert.equal(closed.ok, true);
    assert.equal((closed.fields['Provider_Name'] as string).length, big.length);
    const open = timed(`<Event><System><EventID>1</EventID><Channel>c</Channel><Provider Name='${big}`);
    assert.equal(open.ok, true);
    assert.equal(open.fields['Provider_Name'], undefined);
    assert.ok(closed.ms + open.ms < 2000, `took ${closed.ms} + ${open.ms} ms`);
  });

  test('many stray ampersands and many elements stay linear and bounded', () => {
    const amps = timed(event('<EventID>1</EventID>', `<EventData><Data Name='a'>${'&'.repeat(2_000_000)}</Data></EventData>`));
    assert.equal((amps.fields['a'] as string).length, 2_000_000);
    const many = timed(event('<EventID>1</EventID>', `<EventData>${"<Data Name='x'>v</Data><Data>u</Data>".repeat(50_000)}</EventData>`));
    assert.ok(Object.keys(many.fields).length <= 4096 + 10, `${Object.keys(many.fields).length} fields`);
    assert.ok(amps.ms + many.ms < 2000, `took ${amps.ms} + ${many.ms} ms`);
  });

  test('arbitrary strings built from XML tokens never throw (fast-check)', () => {
    const token = fc.constantFrom('<', '>', '/', '=', "'", '"', '&', ';', '<!--', '-->', '<![CDATA[', ']]>', '<?', '?>', '<Event>', '</Event>', '<System>', '</System>', '<EventID>', '</EventID>', '<Channel>', '<EventData>', '<Data Name=', '</Data>', '<UserData>', '<x>', '</x>', ' ', 'a', '&#x41;', '&amp;', '&#99999999;');
    fc.assert(
      fc.property(fc.array(fc.oneof(token, fc.string()), { maxLength: 60 }), (parts) => {
        const fields = newFieldBag();
        const ok = readEventXml(parts.join(''), fields);
        assert.equal(typeof ok, 'boolean');
      }),
      { numRuns: 3000 },
    );
  });

  test('random mutations of a real event never throw', () => {
    const base = readFileSync(join(FIXTURES, 'defender-1116.xml'), 'utf8');
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = `<>/='"&;![]?- abc#x`;
    for (let i = 0; i < 3000; i++) {
      const chars = base.split('');
      for (let k = 0; k < 8; k++) {
        const op = rnd(3);
        const at = rnd(chars.length);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, alphabet[rnd(alphabet.length)]!);
        else chars[at] = alphabet[rnd(alphabet.length)]!;
      }
      assert.doesNotThrow(() => read(chars.join('')));
    }
  });
});

describe('decodeEntities', () => {
  test('returns the same string when there is nothing to decode', () => {
    const s = 'C:\\Windows\\System32\\cmd.exe /c whoami';
    assert.equal(decodeEntities(s), s);
  });
  test('out-of-range and malformed numeric references are kept', () => {
    assert.equal(decodeEntities('&#1114112;&#x;&#12a;&#x1F600;'), '&#1114112;&#x;&#12a;\u{1F600}');
  });
});
