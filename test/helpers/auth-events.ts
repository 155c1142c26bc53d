/**
 * Realistic log records for the correlation tests, as OTLP/JSON log records in the shapes the collector
 * delivers: sshd lines as a `file_log` receiver reads them from auth.log (raw body, log.file.name), Windows
 * Security events as `windows_event_log` sends them (`event_data_format: map`), and proxy access records as
 * structured generic bodies. Times are epoch nanoseconds; each record carries its own.
 */

export type OtlpAnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { boolValue: boolean }
  | { kvlistValue: { values: { key: string; value: OtlpAnyValue }[] } }
  | { arrayValue: { values: OtlpAnyValue[] } };

export interface OtlpRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  body: OtlpAnyValue;
  attributes: { key: string; value: OtlpAnyValue }[];
}

export interface HostRecord {
  readonly host: string;
  readonly record: OtlpRecord;
  /** Event time, ns. */
  readonly ns: bigint;
}

export function anyValue(v: unknown): OtlpAnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number' && Number.isInteger(v)) return { intValue: String(v) };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  if (typeof v === 'object' && v !== null) return { kvlistValue: { values: Object.entries(v).map(([key, value]) => ({ key, value: anyValue(value) })) } };
  return { stringValue: String(v) };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An sshd line as rsyslog writes it to auth.log (traditional format), tailed by file_log. */
export function sshdRecord(host: string, ns: bigint, message: string, pid = 4242): HostRecord {
  const d = new Date(Number(ns / 1_000_000n));
  const stamp = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
  return {
    host,
    ns,
    record: {
      timeUnixNano: String(ns),
      observedTimeUnixNano: String(ns + 1_000_000n),
      severityNumber: 0,
      body: { stringValue: `${stamp} ${host} sshd[${pid}]: ${message}` },
      attributes: [{ key: 'log.file.name', value: { stringValue: 'auth.log' } }],
    },
  };
}

/** A Windows Security event as windows_event_log sends it with `event_data_format: map`. */
export function securityRecord(host: string, ns: bigint, eventId: number, data: Record<string, string>): HostRecord {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  return {
    host,
    ns,
    record: {
      timeUnixNano: String(ns),
      observedTimeUnixNano: String(ns + 1_000_000n),
      severityNumber: 9,
      body: anyValue({
        event_id: { qualifiers: 0, id: eventId },
        provider: { name: 'Microsoft-Windows-Security-Auditing', guid: '{54849625-5478-4994-A5BA-3E3B0328C30D}', event_source: '' },
        system_time: iso,
        computer: host,
        channel: 'Security',
        record_id: Number(ns % 1_000_000n),
        level: '0',
        message: '',
        task: '12544',
        opcode: '0',
        keywords: [eventId === 4625 ? 'Audit Failure' : 'Audit Success'],
        event_data: data,
      }),
      attributes: [],
    },
  };
}

/** A 4625 (failed logon) from `ip` as `user`, network logon. */
export function failedLogon(host: string, ns: bigint, ip: string, user: string): HostRecord {
  return securityRecord(host, ns, 4625, {
    SubjectUserSid: 'S-1-0-0', SubjectUserName: '-', SubjectDomainName: '-', SubjectLogonId: '0x0',
    TargetUserSid: 'S-1-0-0', TargetUserName: user, TargetDomainName: 'CORP', Status: '0xc000006d', FailureReason: '%%2313',
    SubStatus: '0xc000006a', LogonType: '3', LogonProcessName: 'NtLmSsp ', AuthenticationPackageName: 'NTLM',
    WorkstationName: 'KALI', ProcessId: '0x0', ProcessName: '-', IpAddress: ip, IpPort: '0',
  });
}

/** A 4624 (successful logon) from `ip` as `user`, network logon. */
export function successfulLogon(host: string, ns: bigint, ip: string, user: string): HostRecord {
  return securityRecord(host, ns, 4624, {
    SubjectUserSid: 'S-1-0-0', SubjectUserName: '-', SubjectDomainName: '-', SubjectLogonId: '0x0',
    TargetUserSid: 'S-1-5-21-1004336348-1177238915-682003330-1105', TargetUserName: user, TargetDomainName: 'CORP',
    TargetLogonId: '0x3e7a2f1', LogonType: '3', LogonProcessName: 'NtLmSsp ', AuthenticationPackageName: 'NTLM',
    WorkstationName: 'KALI', ProcessId: '0x0', ProcessName: '-', IpAddress: ip, IpPort: '0',
  });
}

/** A proxy access record (structured body, as a JSON-parsing file_log pipeline delivers it). */
export function proxyRecord(host: string, ns: bigint, clientIp: string, method: string, bytes: number, url: string): HostRecord {
  return {
    host,
    ns,
    record: {
      timeUnixNano: String(ns),
      observedTimeUnixNano: String(ns + 1_000_000n),
      severityNumber: 9,
      body: anyValue({ 'c-ip': clientIp, 'cs-method': method, 'cs-bytes': bytes, 'sc-status': 200, 'c-uri': url, 'cs-host': new URL(url).host }),
      attributes: [],
    },
  };
}

/** One ExportLogsServiceRequest (OTLP/JSON) holding `records`, one resource per host. */
export function exportRequest(records: readonly HostRecord[]): unknown {
  const byHost = new Map<string, OtlpRecord[]>();
  for (const r of records) {
    const list = byHost.get(r.host) ?? [];
    list.push(r.record);
    byHost.set(r.host, list);
  }
  return {
    resourceLogs: [...byHost].map(([host, logRecords]) => ({
      resource: { attributes: [{ key: 'host.name', value: { stringValue: host } }] },
      scopeLogs: [{ scope: {}, logRecords }],
    })),
  };
}

export const SECOND_NS = 1_000_000_000n;
export const MINUTE_NS = 60n * SECOND_NS;
