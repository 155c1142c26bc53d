/**
 * Decoded records → Sigma events. Each record goes to the first mapper that claims it: Windows (any
 * windowseventlog shape), then the Linux mapper (auditd, syslog, journald, Sysmon for Linux; stateful,
 * so it sees the batch's remaining records together), then the generic flattener for the rest.
 * Syslog, journald and generic events then get their product from the mapping's product rules or an
 * appliance log format (appliance/identify.ts): a router's syslog line is a `cisco` event, not `linux`.
 * Events of one batch come out grouped by mapper, not in record order.
 */
import type { LogRecordView } from '../decode/types.ts';
import { createProductIdentifier } from './appliance/identify.ts';
import { mapGenericRecord } from './generic/generic-event.ts';
import type { LogsourceMapping, MappedEvent, RecordMapper } from './types.ts';
import { mapWindowsRecord, type ServiceOfChannel } from './windows/windows-event.ts';
import { createLinuxMapper } from './linux/index.ts';

export interface RecordMapperOptions {
  /**
   * The logsource mapping in use (logsource-mapping.ts loads it); Windows events get `meta.service` from it.
   * Passed in, not loaded here: a detection worker maps records but loads no mapping files.
   */
  readonly mapping: LogsourceMapping;
}

/** RecordMapper plus the Linux mapper's timers: auditd events whose last record never came. */
export interface StatefulRecordMapper extends RecordMapper {
  /**
   * The first step of `map` for one record: its Windows event, or null when the record is for the
   * batch step (`mapRest`). Lets a worker evaluate Windows records one by one as they are decoded.
   */
  mapOne(record: LogRecordView): MappedEvent | null;
  /** The second step of `map`: the records mapOne left, through the Linux then the generic mapper. */
  mapRest(records: readonly LogRecordView[]): MappedEvent[];
  /** Events held longer than their max age without new input (call on a timer). */
  expire(): MappedEvent[];
  /** Every held event (shutdown). */
  flush(): MappedEvent[];
}

export function createRecordMapper(opts: RecordMapperOptions): StatefulRecordMapper {
  const mapping = opts.mapping;
  const serviceOf = windowsServiceTable(mapping);
  const linux = createLinuxMapper();
  // Syslog, journald and generic events from network appliances get the appliance's product.
  const identify = createProductIdentifier(mapping.products);
  const mapOne = (record: LogRecordView): MappedEvent | null => {
    let event;
    try {
      event = mapWindowsRecord(record, serviceOf);
    } catch {
      // A reader bug must not drop the batch: the record is still evaluated, as a generic event.
      event = null;
    }
    return event === null ? null : { event, record };
  };
  const mapRest = (rest: readonly LogRecordView[]): MappedEvent[] => {
    if (rest.length === 0) return [];
    const linuxOut = linux.mapBatch(rest);
    const events = linuxOut.events;
    for (let i = 0; i < events.length; i++) events[i] = identify(events[i]!);
    for (const record of linuxOut.unhandled) events.push(identify({ event: mapGenericRecord(record), record }));
    return events;
  };
  return {
    expire: () => linux.expire(),
    flush: () => linux.flush(),
    mapOne,
    mapRest,
    map(records: readonly LogRecordView[]): MappedEvent[] {
      const events: MappedEvent[] = [];
      const rest: LogRecordView[] = [];
      for (const record of records) {
        const e = mapOne(record);
        if (e !== null) events.push(e);
        else rest.push(record);
      }
      for (const e of mapRest(rest)) events.push(e);
      return events;
    },
  };
}

/**
 * Channel → service from the mapping's Windows service entries (`product: windows, service: x` with
 * `Channel` conditions), so `meta.service` names the event's log the way rules do.
 */
export function windowsServiceTable(mapping: LogsourceMapping): ServiceOfChannel {
  const table = new Map<string, string>();
  for (const e of mapping.entries) {
    if (e.product !== 'windows' || e.service === undefined || e.category !== undefined) continue;
    for (const v of e.variants) {
      for (const ch of v.when['Channel'] ?? []) {
        const key = String(ch).toLowerCase();
        if (!table.has(key)) table.set(key, e.service);
      }
    }
  }
  return (channelLower) => table.get(channelLower);
}
