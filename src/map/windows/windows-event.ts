/**
 * A windowseventlog record in any of the receiver's three shapes → a Windows Sigma event, or null
 * when the record is not a Windows event. Shapes: the map body (array or map `event_data`), the same
 * map as a JSON string (how SigNoz stores bodies, for hunting over stored logs), and `raw: true` XML.
 * Log and resource attributes are added under their own dotted names without replacing event fields;
 * `log.record.original` is left out because it repeats the event as XML.
 */
import type { LogRecordView } from '../../decode/types.ts';
import type { SigmaEvent } from '../types.ts';
import { flattenInto, MAX_FLATTEN_KEYS } from '../generic/flatten.ts';
import { parseJsonObject } from '../generic/generic-event.ts';
import { isWindowsBody, readEventBody } from './event-body.ts';
import { readEventXml } from './event-xml.ts';
import { newFieldBag, type FieldBag } from './fields.ts';

/** Channel (lower case) → Sigma service name; built from the logsource mapping. */
export type ServiceOfChannel = (channelLower: string) => string | undefined;

export function mapWindowsRecord(r: LogRecordView, serviceOf: ServiceOfChannel): SigmaEvent | null {
  const body = r.body;
  let fields: FieldBag | null = null;
  if (isWindowsBody(body)) {
    fields = newFieldBag();
    readEventBody(body, fields);
  } else if (typeof body === 'string') {
    if (looksLikeEventXml(body)) {
      fields = newFieldBag();
      if (!readEventXml(body, fields)) return null;
    } else if (body.charCodeAt(0) === 123 /* { */ && body.includes('"event_id"')) {
      const obj = parseJsonObject(body);
      if (obj === undefined || !isWindowsBody(obj)) return null;
      fields = newFieldBag();
      readEventBody(obj, fields);
    }
  }
  if (fields === null) return null;
  // Sysmon for Linux writes the same Event XML; it is a Linux event, for the Linux mapper.
  const provider = fields['Provider_Name'];
  if (typeof provider === 'string' && provider.startsWith('Linux-Sysmon')) return null;

  const budget = { keys: MAX_FLATTEN_KEYS };
  const attrs = r.attributes;
  for (const k in attrs) {
    if (k !== 'log.record.original') flattenInto(fields, k, attrs[k]!, budget);
  }
  flattenInto(fields, '', r.resource.attributes, budget);

  const channel = fields['Channel'];
  const computer = fields['Computer'];
  const hostName = r.resource.attributes['host.name'];
  return {
    fields,
    meta: {
      source: 'windows',
      product: 'windows',
      service: typeof channel === 'string' ? serviceOf(channel.toLowerCase()) : undefined,
      host: typeof hostName === 'string' && hostName !== '' ? hostName : typeof computer === 'string' ? computer : '',
    },
  };
}

/** `<Event` or an XML declaration after optional BOM/whitespace: cheap enough to run on every string body. */
function looksLikeEventXml(s: string): boolean {
  let i = 0;
  const n = Math.min(s.length, 64);
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 0xfeff) break;
    i++;
  }
  return s.startsWith('<Event', i) || s.startsWith('<?xml', i);
}
