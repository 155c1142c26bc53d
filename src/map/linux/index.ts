/**
 * Linux log records → Sigma events: auditd lines (filelog on audit.log, audisp-syslog, journald's audit
 * transport), syslog lines (filelog raw, filelog + syslog/regex parser, syslog receiver), journald
 * entries, and Sysmon for Linux XML inside any of them. Records it does not recognise are returned
 * as `unhandled` for the generic mapper. See README.md for collector configurations and fields.
 */
import type { AnyValue, LogRecordView } from '../../decode/types.ts';
import type { MappedEvent } from '../types.ts';
import { AuditAssembler, type AssemblerOptions, type AuditEvent } from './auditd/assembler.ts';
import { auditEvents } from './auditd/events.ts';
import { parseAuditLine } from './auditd/parse-line.ts';
import { isJournalEntry, journalAuditLine, journalFields, journalSyslogMessage, semconvJournalEntry, type JournalEntry } from './journald.ts';
import { syslogEvent, type SyslogMessage } from './syslog/events.ts';
import { parseSyslogLine } from './syslog/parse-line.ts';

export interface LinuxMapper {
  /** Maps a batch; auditd events complete in this batch (or expired) are included in `events`. */
  mapBatch(records: readonly LogRecordView[]): { events: MappedEvent[]; unhandled: LogRecordView[] };
  /** Emits auditd events open longer than `maxAgeMs` without new input (call on a timer). */
  expire(): MappedEvent[];
  /** Emits every open auditd event (shutdown). */
  flush(): MappedEvent[];
  /** Audit records waiting for the rest of their event. */
  readonly pendingRecords: number;
}

export type LinuxMapperOptions = AssemblerOptions;

/** Programs that forward audit records through syslog with the auditd line as the message. */
const AUDIT_FORWARDERS = new Set(['audisp-syslog', 'audispd', 'audit', 'auditd', 'audisp']);

export function createLinuxMapper(options: LinuxMapperOptions = {}): LinuxMapper {
  const assembler = new AuditAssembler(options);
  const closed: AuditEvent[] = [];

  const drain = (events: MappedEvent[]): void => {
    for (const event of closed) auditEvents(event, auditHost, events);
    closed.length = 0;
  };

  const pushAudit = (line: string, view: LogRecordView): boolean => {
    const record = parseAuditLine(line);
    if (record === undefined) return false;
    assembler.push(streamOf(view, record.node), record, view, closed);
    return true;
  };

  const mapOne = (view: LogRecordView, events: MappedEvent[]): boolean => {
    const body = view.body;
    const attrs = view.attributes;
    const resourceHost = stringAttr(view.resource.attributes['host.name']);
    const fileName = stringAttr(attrs['log.file.name']) || baseName(stringAttr(attrs['log.file.path']));

    const entry: JournalEntry | undefined = isJournalEntry(body) ? body : semconvJournalEntry(view);
    if (entry !== undefined) {
      const fields = journalFields(entry);
      const auditLine = journalAuditLine(fields);
      if (auditLine !== undefined) return pushAudit(auditLine, view);
      events.push(syslogEvent(journalSyslogMessage(fields), fileName, resourceHost, view, fields));
      return true;
    }

    const parsedAttrs = syslogFromAttributes(attrs);
    const line = typeof body === 'string' ? body : '';
    if (parsedAttrs === undefined && (line.startsWith('type=') || line.startsWith('node='))) return pushAudit(line, view);

    const msg = parsedAttrs ?? syslogFromLine(line);
    if (msg === undefined) return false;
    if (msg.message.startsWith('type=') && AUDIT_FORWARDERS.has(msg.appname) && pushAudit(msg.message, view)) return true;
    events.push(syslogEvent(msg, fileName, resourceHost, view));
    return true;
  };

  return {
    mapBatch(records) {
      const events: MappedEvent[] = [];
      const unhandled: LogRecordView[] = [];
      assembler.expire(closed);
      for (const view of records) {
        if (!mapOne(view, events)) unhandled.push(view);
      }
      drain(events);
      return { events, unhandled };
    },
    expire() {
      const events: MappedEvent[] = [];
      assembler.expire(closed);
      drain(events);
      return events;
    },
    flush() {
      const events: MappedEvent[] = [];
      assembler.flush(closed);
      drain(events);
      return events;
    },
    get pendingRecords() {
      return assembler.pendingRecords;
    },
  };
}

function auditHost(view: LogRecordView, node: string): string {
  return stringAttr(view.resource.attributes['host.name']) || node;
}

/** Records of one event come from one host and one file; serials are only unique within those. */
function streamOf(view: LogRecordView, node: string): string {
  const attrs = view.attributes;
  return `${stringAttr(view.resource.attributes['host.name'])}\u0000${stringAttr(attrs['log.file.path']) || stringAttr(attrs['log.file.name'])}\u0000${node}`;
}

/** The syslog parser/receiver (and the suggested regex_parser) put the header in attributes. */
function syslogFromAttributes(attrs: Readonly<Record<string, AnyValue>>): SyslogMessage | undefined {
  const message = attrs.message;
  if (typeof message !== 'string' || (attrs.appname === undefined && attrs.hostname === undefined)) return undefined;
  const sd = attrs.structured_data;
  return {
    hostname: stringAttr(attrs.hostname),
    appname: stringAttr(attrs.appname),
    procId: stringAttr(attrs.proc_id),
    msgId: stringAttr(attrs.msg_id),
    message,
    facility: numberAttr(attrs.facility),
    priority: numberAttr(attrs.priority),
    structuredData: sd === undefined || sd === null ? undefined : sd,
  };
}

function syslogFromLine(line: string): SyslogMessage | undefined {
  if (line === '') return undefined;
  const parsed = parseSyslogLine(line);
  if (parsed === undefined) return undefined;
  return {
    hostname: parsed.hostname,
    appname: parsed.appname,
    procId: parsed.procId,
    msgId: parsed.msgId,
    message: parsed.message,
    facility: parsed.facility,
    priority: parsed.priority,
    structuredData: parsed.structuredData === '' ? undefined : parsed.structuredData,
  };
}

function stringAttr(value: AnyValue | undefined): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return '';
}

function numberAttr(value: AnyValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value !== '' && !Number.isNaN(Number(value))) return Number(value);
  return undefined;
}

function baseName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}
