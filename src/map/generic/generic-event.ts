/**
 * Any record no source-specific mapper claimed → a generic Sigma event: body maps, log attributes and
 * resource attributes flattened into dotted names (in that order; the first writer of a name wins),
 * a string body as `message`. A string body holding a JSON object is flattened too: SigNoz stores map
 * bodies as JSON strings, and many shippers send JSON lines. Cloud, web and proxy rules
 * (`eventSource`, `requestParameters.userName`, `cs-method`) then match logs that carry those fields.
 */
import type { AnyValue, LogRecordView } from '../../decode/types.ts';
import type { SigmaEvent } from '../types.ts';
import { newFieldBag, type FieldBag } from '../windows/fields.ts';
import { flattenInto, MAX_FLATTEN_KEYS } from './flatten.ts';

/** JSON bodies larger than this are kept as text: parsing them would dominate the record's cost. */
export const MAX_JSON_BODY_CHARS = 1 << 20;

export function mapGenericRecord(r: LogRecordView): SigmaEvent {
  const fields = newFieldBag();
  const budget = { keys: MAX_FLATTEN_KEYS };
  putBody(fields, r.body, budget);
  flattenInto(fields, '', r.attributes, budget);
  flattenInto(fields, '', r.resource.attributes, budget);
  return { fields, meta: { source: 'generic', product: undefined, service: undefined, host: hostOf(r, fields) } };
}

function putBody(fields: FieldBag, body: AnyValue, budget: { keys: number }): void {
  if (body === null) return;
  if (typeof body === 'string') {
    const obj = parseJsonObject(body);
    if (obj !== undefined) flattenInto(fields, '', obj, budget);
    else fields['message'] = body;
  } else if (Array.isArray(body)) flattenInto(fields, 'body', body, budget);
  else if (typeof body === 'object') flattenInto(fields, '', body, budget);
  else fields['message'] = body;
}

/** The object a JSON-object string holds, else undefined. Cheap rejection first: most bodies are not JSON. */
export function parseJsonObject(s: string): { [key: string]: AnyValue } | undefined {
  if (s.length < 2 || s.length > MAX_JSON_BODY_CHARS) return undefined;
  let i = 0;
  while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9 || s.charCodeAt(i) === 10 || s.charCodeAt(i) === 13)) i++;
  if (s.charCodeAt(i) !== 123 /* { */) return undefined;
  try {
    const v = JSON.parse(s) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as { [key: string]: AnyValue }) : undefined;
  } catch {
    return undefined; // not JSON after all (or nested too deep for the parser): keep the text
  }
}

function hostOf(r: LogRecordView, fields: FieldBag): string {
  const h = r.resource.attributes['host.name'] ?? r.attributes['host.name'] ?? fields['host.name'] ?? fields['hostname'];
  return typeof h === 'string' ? h : '';
}
