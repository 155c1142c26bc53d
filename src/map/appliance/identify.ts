/**
 * Which product a text-log event comes from. The Linux mapper calls every syslog line and journald
 * entry `linux` and the generic mapper names no product; some of those events are a network
 * appliance's log (a router's syslog in a central rsyslog file, a firewall sending to the collector's
 * syslog receiver). A mapping file's product rules (attribute values → product) are tried first, then
 * the appliance formats of formats.ts. Only syslog, journald and generic events are looked at.
 *
 * An event given another product keeps its fields and source (FortiOS key=value pairs become fields
 * too, as the FortiGate rules select on them); its meta.service is dropped (the Linux service names a
 * Linux program) and its host is the sending device (the syslog hostname, else FortiOS `devname`)
 * rather than the resource's host.name, which for a central syslog server is the server.
 */
import type { AnyValue, LogRecordView } from '../../decode/types.ts';
import type { FieldValue, MappedEvent, ProductRule, SigmaEvent } from '../types.ts';
import { addKeyValueFields, applianceOf, type ApplianceInput } from './formats.ts';

const TEXT_SOURCES: ReadonlySet<string> = new Set(['syslog', 'journald', 'generic']);

export type ProductIdentifier = (mapped: MappedEvent) => MappedEvent;

interface Condition {
  readonly key: string;
  /** `@x` → x (read from event.meta), else null. */
  readonly meta: string | null;
  readonly values: ReadonlySet<string>;
}

interface CompiledProductRule {
  readonly product: string;
  readonly conditions: readonly Condition[];
}

export function createProductIdentifier(rules: readonly ProductRule[] = []): ProductIdentifier {
  const compiled: CompiledProductRule[] = rules.map((r) => ({
    product: r.product.toLowerCase(),
    conditions: Object.entries(r.when).map(([key, values]) => ({
      key,
      meta: key.startsWith('@') ? key.slice(1) : null,
      values: new Set(values.map((v) => String(v).toLowerCase())),
    })),
  }));
  return (mapped) => {
    const { event, record } = mapped;
    if (!TEXT_SOURCES.has(event.meta.source)) return mapped;
    let product: string | undefined;
    for (const rule of compiled) {
      if (rule.conditions.every((c) => conditionHolds(c, event, record))) {
        product = rule.product;
        break;
      }
    }
    product ??= applianceOf(applianceInput(event, record));
    if (product === undefined || product === event.meta.product) return mapped;
    return { event: withProduct(event, record, product), record };
  };
}

function conditionHolds(c: Condition, event: SigmaEvent, record: LogRecordView): boolean {
  const v: AnyValue | FieldValue | undefined = c.meta !== null
    ? (event.meta as unknown as Record<string, string | undefined>)[c.meta]
    : record.attributes[c.key] ?? record.resource.attributes[c.key] ?? event.fields[c.key];
  if (Array.isArray(v)) return v.some((x: AnyValue | FieldValue) => scalarIn(x, c.values));
  return scalarIn(v, c.values);
}

function scalarIn(v: AnyValue | FieldValue | undefined, values: ReadonlySet<string>): boolean {
  return (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && values.has(String(v).toLowerCase());
}

function applianceInput(event: SigmaEvent, record: LogRecordView): ApplianceInput {
  const f = event.fields;
  const message = text(f['message']);
  const body = record.body;
  const sd = f['structured_data'];
  return {
    text: typeof body === 'string' && body !== '' ? body : message,
    message,
    appname: text(f['appname']),
    // The syslog receiver gives structured data as a map keyed by SD-ID.
    structuredData: typeof sd === 'string' ? sd : sd !== null && typeof sd === 'object' && !Array.isArray(sd) ? Object.keys(sd).map((k) => `[${k}]`).join('') : '',
  };
}

function withProduct(event: SigmaEvent, record: LogRecordView, product: string): SigmaEvent {
  // The mapper built this field bag for this event alone.
  const fields = event.fields as Record<string, FieldValue>;
  if (product === 'fortigate' || product === 'fortios') {
    const body = record.body;
    addKeyValueFields(typeof body === 'string' && body !== '' ? body : text(fields['message']), fields);
  }
  const device = text(fields['hostname']) || text(fields['devname']);
  return { fields, meta: { source: event.meta.source, product, service: undefined, host: device || event.meta.host } };
}

function text(v: FieldValue | undefined): string {
  return typeof v === 'string' ? v : '';
}
