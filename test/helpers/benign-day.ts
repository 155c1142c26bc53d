/**
 * The benign-day fixture (test/fixtures/linux/benign-day/: a scripted day of an ordinary Debian 12 host) as
 * OTLP/JSON requests, the way the collector delivers it to otel-sigma, for two agent set-ups:
 * - `journald`: the shipped collector-config/linux-agent.yaml: the journald receiver (body = the journal entry
 *   as a map, time = __REALTIME_TIMESTAMP; the fixture already holds only the transports and priorities the
 *   agent reads) and file_log on audit.log;
 * - `files`: the documented file_log variant for hosts without journald: auth.log, syslog and audit.log.
 * file_log records carry the raw line as body and `log.file.name`, no event time (the agent has no parser),
 * and are observed at the line's own time; every record has resource `host.name` (resource_detection).
 *
 * Run as a script to write the requests for `otel-sigma eval`:
 *   node test/helpers/benign-day.ts OUT_DIR   →  OUT_DIR/benign-day-journald.json, OUT_DIR/benign-day-files.json
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { anyValue, type OtlpAnyValue } from './auth-events.ts';

export const BENIGN_DAY_DIR = path.resolve(import.meta.dirname, '../fixtures/linux/benign-day');
export const BENIGN_DAY_HOST = 'vm';
export type AgentSetup = 'journald' | 'files';
export const AGENT_SETUPS: readonly AgentSetup[] = ['journald', 'files'];

interface Rec {
  readonly ns: bigint;
  readonly record: {
    timeUnixNano: string;
    observedTimeUnixNano: string;
    severityNumber: number;
    body: OtlpAnyValue;
    attributes: { key: string; value: OtlpAnyValue }[];
  };
}

const text = (name: string): string => {
  const buf = fs.readFileSync(path.join(BENIGN_DAY_DIR, name));
  return (name.endsWith('.gz') ? zlib.gunzipSync(buf) : buf).toString('utf8');
};
const lines = (name: string): string[] => text(name).split('\n').filter((l) => l !== '');

/** A tailed file's line: raw body, the file's name, observed at `ns`. */
function fileRecord(line: string, file: string, ns: bigint): Rec {
  return {
    ns,
    record: { timeUnixNano: '0', observedTimeUnixNano: String(ns), severityNumber: 0, body: { stringValue: line }, attributes: [{ key: 'log.file.name', value: { stringValue: file } }] },
  };
}

function auditRecords(): Rec[] {
  return lines('audit.log.gz').map((l) => {
    const m = /msg=audit\((\d+)\.(\d{3}):/.exec(l);
    return fileRecord(l, 'audit.log', m ? BigInt(m[1]!) * 1_000_000_000n + BigInt(m[2]!) * 1_000_000n : 0n);
  });
}

/** Debian 12's RFC 3339 file format: `2026-12-06T06:57:50.228751+00:00 vm rsyslogd: …`. */
function syslogFileRecords(file: string): Rec[] {
  return lines(file).map((l) => fileRecord(l, file, BigInt(Date.parse(l.slice(0, l.indexOf(' '))) * 1_000_000)));
}

function journaldRecords(): Rec[] {
  return lines('journal.json.gz').map((l) => {
    const entry = JSON.parse(l) as Record<string, unknown>;
    const ns = BigInt(String(entry['__REALTIME_TIMESTAMP'])) * 1000n;
    delete entry['__REALTIME_TIMESTAMP'];
    return { ns, record: { timeUnixNano: String(ns), observedTimeUnixNano: String(ns), severityNumber: 0, body: anyValue(entry), attributes: [] } };
  });
}

/** Every record the set-up's agent sends for the day, in time order. */
export function benignDayRecords(setup: AgentSetup): Rec[] {
  const recs = setup === 'journald' ? [...journaldRecords(), ...auditRecords()] : [...syslogFileRecords('auth.log'), ...syslogFileRecords('syslog'), ...auditRecords()];
  return recs.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
}

/** The day as NDJSON ExportLogsServiceRequests of at most `batch` records (the agent's batch processor: 1000). */
export function benignDayRequests(setup: AgentSetup, batch = 1000): string {
  const recs = benignDayRecords(setup);
  const out: string[] = [];
  for (let i = 0; i < recs.length; i += batch) {
    out.push(JSON.stringify({
      resourceLogs: [{
        resource: { attributes: [{ key: 'host.name', value: { stringValue: BENIGN_DAY_HOST } }] },
        scopeLogs: [{ scope: {}, logRecords: recs.slice(i, i + batch).map((r) => r.record) }],
      }],
    }));
  }
  return `${out.join('\n')}\n`;
}

/** Writes `benign-day-<setup>.json` for each set-up into `dir`; returns the paths. */
export function writeBenignDayRequests(dir: string): string[] {
  return AGENT_SETUPS.map((setup) => {
    const file = path.join(dir, `benign-day-${setup}.json`);
    fs.writeFileSync(file, benignDayRequests(setup));
    return file;
  });
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: node test/helpers/benign-day.ts OUT_DIR\n');
    process.exitCode = 2;
  } else {
    fs.mkdirSync(dir, { recursive: true });
    for (const f of writeBenignDayRequests(dir)) process.stdout.write(`${f}\n`);
  }
}
