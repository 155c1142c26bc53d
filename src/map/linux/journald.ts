/**
 * journald receiver records. By default the body is the whole journal entry as a map of strings
 * (`MESSAGE`, `SYSLOG_IDENTIFIER`, `_PID`, `_COMM`, `_EXE`, `_CMDLINE`, `_UID`, `_HOSTNAME` …).
 * The entry keeps its journald keys (minus the `__` cursor/monotonic bookkeeping) and gains the
 * syslog names (`message`, `appname`, `hostname`, `proc_id`, `facility`) so syslog rules apply.
 * Entries of `_TRANSPORT=audit` (the kernel's audit records, as journald stores them when it reads
 * the audit socket) are turned back into an auditd line for the audit assembler.
 * With `convert_to_semantic_conventions: true` (newer contrib) the body is MESSAGE and the entry is
 * spread over `journald.*`/`syslog.*` attributes and resource `process.*`: it is put back together.
 */
import type { AnyValue, LogRecordView } from '../../decode/types.ts';
import type { FieldValue } from '../types.ts';
import type { SyslogMessage } from './syslog/events.ts';

export type JournalEntry = Readonly<Record<string, AnyValue>>;

export function isJournalEntry(body: AnyValue): body is { [key: string]: AnyValue } {
  // Journal entries always carry trusted `_TRANSPORT` (and the receiver keeps `__CURSOR`); a JSON
  // application log that merely has a MESSAGE key is not one.
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  return '_TRANSPORT' in body || '__CURSOR' in body || ('MESSAGE' in body && 'SYSLOG_IDENTIFIER' in body);
}

/** Rebuilds the entry from a `convert_to_semantic_conventions` record; undefined when it is not one. */
export function semconvJournalEntry(view: LogRecordView): Record<string, AnyValue> | undefined {
  const attrs = view.attributes;
  let entry: Record<string, AnyValue> | undefined;
  for (const key in attrs) {
    if (key.startsWith('journald.')) (entry ??= {})[key.slice(9)] = attrs[key]!;
  }
  if (entry === undefined) return undefined;
  entry.MESSAGE = view.body;
  const res = view.resource.attributes;
  const map: readonly (readonly [string, AnyValue | undefined])[] = [
    ['SYSLOG_FACILITY', attrs['syslog.facility.code']], ['SYSLOG_PID', attrs['syslog.pid']], ['MESSAGE_ID', attrs['syslog.msg.id']],
    ['_PID', res['process.pid']], ['_COMM', res['process.command']], ['_EXE', res['process.executable.path']],
    ['_CMDLINE', res['process.command_line']], ['_HOSTNAME', res['host.name']],
  ];
  for (const [name, value] of map) if (value !== undefined && !(name in entry)) entry[name] = value;
  return entry;
}

/** The journal entry's own fields (string values; byte-array MESSAGE decoded as UTF-8). */
export function journalFields(entry: JournalEntry): Record<string, FieldValue> {
  const fields: Record<string, FieldValue> = {};
  for (const key in entry) {
    if (key.startsWith('__')) continue;
    fields[key] = text(entry[key]!);
  }
  return fields;
}

export function journalSyslogMessage(fields: Readonly<Record<string, FieldValue>>): SyslogMessage {
  const facility = Number(fields.SYSLOG_FACILITY);
  return {
    hostname: str(fields._HOSTNAME),
    appname: str(fields.SYSLOG_IDENTIFIER) || str(fields._COMM),
    procId: str(fields.SYSLOG_PID) || str(fields._PID),
    msgId: '',
    message: str(fields.MESSAGE),
    facility: fields.SYSLOG_FACILITY === undefined || Number.isNaN(facility) ? undefined : facility,
    priority: undefined,
    structuredData: undefined,
  };
}

/** `_TRANSPORT=audit` entry → the auditd line it came from (without the ENRICHED part), else undefined. */
export function journalAuditLine(fields: Readonly<Record<string, FieldValue>>): string | undefined {
  if (fields._TRANSPORT !== 'audit') return undefined;
  const message = str(fields.MESSAGE);
  const typeName = str(fields._AUDIT_TYPE_NAME);
  const serial = str(fields._AUDIT_ID);
  const micros = str(fields._SOURCE_REALTIME_TIMESTAMP);
  if (typeName === '' || serial === '' || !message.startsWith(typeName)) return undefined;
  const seconds = micros.length > 6 ? `${micros.slice(0, -6)}.${micros.slice(-6, -3)}` : '0.000';
  // _HOSTNAME becomes auditd's node= so the event keeps its host and joins only with its own host's records.
  const host = str(fields._HOSTNAME);
  const node = host === '' || host.includes(' ') ? '' : `node=${host} `;
  return `${node}type=${typeName} msg=audit(${seconds}:${serial}): ${message.slice(typeName.length).trimStart()}`;
}

function str(value: FieldValue | undefined): string {
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

function text(value: AnyValue): FieldValue {
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return Buffer.from(value).toString('utf8');
  return value;
}
