/**
 * Sysmon for Linux writes each event to syslog as one line of XML:
 * `<Event><System><Provider Name="Linux-Sysmon" …/><EventID>1</EventID>…<Computer>host</Computer>…
 * </System><EventData><Data Name="Image">/usr/bin/ls</Data>…</EventData></Event>`.
 * This reads exactly that shape: EventID, Channel, Computer and the EventData `Data` elements, with
 * the five predefined entities and numeric character references decoded. No DTDs, no external
 * entities, no recursion; linear in the input (indexOf scans only move forward).
 */
export interface SysmonEvent {
  readonly eventId: number;
  readonly channel: string;
  readonly computer: string;
  readonly data: Record<string, string>;
}

export function isSysmonXml(message: string): boolean {
  return message.startsWith('<Event') && message.includes('</System>');
}

export function parseSysmonXml(xml: string): SysmonEvent | undefined {
  const eventIdText = elementText(xml, 'EventID');
  if (eventIdText === undefined) return undefined;
  const eventId = Number(eventIdText.trim());
  if (!Number.isInteger(eventId)) return undefined;
  const data: Record<string, string> = {};
  const dataStart = xml.indexOf('<EventData');
  let pos = dataStart < 0 ? xml.length : dataStart;
  for (;;) {
    const open = xml.indexOf('<Data', pos);
    if (open < 0) break;
    const tagEnd = xml.indexOf('>', open);
    if (tagEnd < 0) break;
    const tag = xml.slice(open, tagEnd);
    pos = tagEnd + 1;
    const name = attribute(tag, 'Name');
    if (tag.endsWith('/')) {
      if (name !== undefined) data[name] = '';
      continue;
    }
    const close = xml.indexOf('</Data>', pos);
    if (close < 0) break;
    if (name !== undefined) data[name] = decodeEntities(xml.slice(pos, close));
    pos = close + 7;
  }
  return { eventId, channel: elementText(xml, 'Channel') ?? '', computer: elementText(xml, 'Computer') ?? '', data };
}

function elementText(xml: string, name: string): string | undefined {
  const open = xml.indexOf(`<${name}>`);
  if (open < 0) return undefined;
  const start = open + name.length + 2;
  const close = xml.indexOf(`</${name}>`, start);
  return close < 0 ? undefined : decodeEntities(xml.slice(start, close));
}

function attribute(tag: string, name: string): string | undefined {
  const at = tag.indexOf(` ${name}=`);
  if (at < 0) return undefined;
  const q = tag.charAt(at + name.length + 2);
  if (q !== '"' && q !== "'") return undefined;
  const start = at + name.length + 3;
  const end = tag.indexOf(q, start);
  return end < 0 ? undefined : decodeEntities(tag.slice(start, end));
}

const NAMED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return codePoint(parseInt(ref.slice(2), 16), whole);
    if (ref.startsWith('#')) return codePoint(parseInt(ref.slice(1), 10), whole);
    return NAMED[ref] ?? whole;
  });
}

function codePoint(n: number, whole: string): string {
  return n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : whole;
}
