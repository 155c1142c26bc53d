/**
 * A syslog message (from a parsed raw line, the syslog parser/receiver attributes or a journald
 * entry) → Sigma event. Field names follow the collector's syslog parser (`hostname`, `appname`,
 * `proc_id`, `msg_id`, `message`, `facility`, `priority`, `structured_data`) so a rule or a query
 * sees the same names whichever receiver delivered the line; SigmaHQ's syslog-family rules are
 * keyword searches over these values, plus sudo's `USER` and sshd's `user` / `src_ip` (see service.ts). A message that is a
 * Sysmon for Linux XML event becomes a Sysmon event instead.
 */
import type { FieldValue, MappedEvent, SigmaEvent } from '../../types.ts';
import type { LogRecordView } from '../../../decode/types.ts';
import { isSysmonXml, parseSysmonXml } from '../sysmon-xml.ts';
import { serviceOf, sshdFields, sudoFields } from './service.ts';

export interface SyslogMessage {
  readonly hostname: string;
  readonly appname: string;
  readonly procId: string;
  readonly msgId: string;
  readonly message: string;
  readonly facility: number | undefined;
  readonly priority: number | undefined;
  readonly structuredData: FieldValue | undefined;
}

/** `extra` holds source-specific fields (journald's own keys) added before the syslog names. */
export function syslogEvent(msg: SyslogMessage, fileName: string, resourceHost: string, view: LogRecordView, extra?: Record<string, FieldValue>): MappedEvent {
  if (isSysmonXml(msg.message)) {
    const sysmon = sysmonEvent(msg.message, resourceHost || msg.hostname);
    if (sysmon !== undefined) return { event: sysmon, record: view };
  }
  const fields: Record<string, FieldValue> = extra ?? {};
  fields.hostname = msg.hostname;
  fields.appname = msg.appname;
  if (msg.procId !== '') fields.proc_id = msg.procId;
  if (msg.msgId !== '') fields.msg_id = msg.msgId;
  // Leading blanks differ between templates (RFC5424 output of rsyslog keeps the legacy space, sudo
  // pads its user name): trimmed so every shape yields the same message.
  fields.message = msg.message.trimStart();
  if (msg.facility !== undefined) fields.facility = msg.facility;
  if (msg.priority !== undefined) fields.priority = msg.priority;
  if (msg.structuredData !== undefined && msg.structuredData !== '') fields.structured_data = msg.structuredData;
  const service = serviceOf(msg.appname, msg.facility, fileName);
  if (service === 'sudo' || service === 'sshd') {
    const parsed: Record<string, string> = {};
    if (service === 'sudo') sudoFields(msg.message, parsed);
    else sshdFields(fields.message, parsed);
    for (const key in parsed) if (!(key in fields)) fields[key] = parsed[key]!;
  }
  return {
    event: { fields, meta: { source: extra === undefined ? 'syslog' : 'journald', product: 'linux', service, host: resourceHost || msg.hostname } },
    record: view,
  };
}

function sysmonEvent(xml: string, fallbackHost: string): SigmaEvent | undefined {
  const parsed = parseSysmonXml(xml);
  if (parsed === undefined) return undefined;
  const fields: Record<string, FieldValue> = { EventID: parsed.eventId, Channel: parsed.channel, Computer: parsed.computer };
  for (const key in parsed.data) fields[key] = parsed.data[key]!;
  return { fields, meta: { source: 'sysmon-linux', product: 'linux', service: 'sysmon', host: fallbackHost || parsed.computer } };
}
