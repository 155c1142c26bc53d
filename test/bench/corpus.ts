/**
 * The benchmark corpus: every SigmaHQ regression event (SigNoz shape, as a SigNoz estate's collector sends
 * them) mixed into benign Windows events derived from real corpus events (same body layout, System part
 * and resource; event_data replaced by ordinary values, see benign.ts), packed into OTLP protobuf
 * requests of a fixed number of records, grouped by host as a collector batch is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { otlpJsonToProtobuf } from '../helpers/otlp-proto.ts';
import { rng, type Rng } from '../helpers/rng.ts';
import { BENIGN_MIX, benignEventData, pick } from './benign.ts';

export const REPO_ROOT = join(import.meta.dirname, '../..');
export const SIGMA_DIR = join(REPO_ROOT, '../shared/sigma');
export const RULE_TREES = ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-placeholder'].map((t) => join(SIGMA_DIR, t));

type Json = Record<string, unknown>;
interface KV {
  key: string;
  value: Json;
}
export interface OtlpRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  body: { kvlistValue: { values: KV[] } };
  [k: string]: unknown;
}

export interface BenchCorpus {
  /** Protobuf ExportLogsServiceRequest bytes, `perRequest` records each. */
  readonly requests: readonly Uint8Array[];
  readonly records: number;
  readonly malicious: number;
  /** The regression events alone, one request (for the all-malicious figure). */
  readonly maliciousRequest: Uint8Array;
}

interface Templates {
  sysmon: OtlpRecord;
  security: OtlpRecord;
}

/** Every record of the regression corpus in SigNoz shape. */
export function regressionRecords(): OtlpRecord[] {
  const dir = join(SIGMA_DIR, 'regression');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { cases: { otlp: Record<string, string>; shapes: string[] }[] };
  const out: OtlpRecord[] = [];
  for (const c of manifest.cases) {
    const file = c.otlp['signoz'];
    if (!file || !c.shapes.includes('signoz')) continue;
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const doc = JSON.parse(line) as { resourceLogs: { scopeLogs: { logRecords: OtlpRecord[] }[] }[] };
      for (const rl of doc.resourceLogs) for (const sl of rl.scopeLogs) out.push(...sl.logRecords);
    }
  }
  return out;
}

const kv = (values: KV[], key: string): KV | undefined => values.find((x) => x.key === key);
const sub = (values: KV[], key: string): KV[] => (kv(values, key)?.value as { kvlistValue: { values: KV[] } }).kvlistValue.values;

function channelOf(r: OtlpRecord): string {
  const v = kv(r.body.kvlistValue.values, 'channel')?.value['stringValue'];
  return typeof v === 'string' ? v : '';
}
function eventIdOf(r: OtlpRecord): string {
  const v = kv(sub(r.body.kvlistValue.values, 'event_id'), 'id')?.value['intValue'];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}

function findTemplates(recs: readonly OtlpRecord[]): Templates {
  const sysmon = recs.find((r) => channelOf(r) === 'Microsoft-Windows-Sysmon/Operational' && eventIdOf(r) === '1');
  const security = recs.find((r) => channelOf(r) === 'Security');
  if (!sysmon || !security) throw new Error('regression corpus lacks a Sysmon 1 or a Security event to derive benign events from');
  return { sysmon, security };
}

const CHANNEL = { sysmon: 'Microsoft-Windows-Sysmon/Operational', security: 'Security', powershell: 'Microsoft-Windows-PowerShell/Operational' } as const;
const PROVIDER = { sysmon: 'Microsoft-Windows-Sysmon', security: 'Microsoft-Windows-Security-Auditing', powershell: 'Microsoft-Windows-PowerShell' } as const;

/** A real corpus event with its System part adjusted and its event_data replaced by ordinary values. */
function benignRecord(t: Templates, r: Rng, kind: (typeof BENIGN_MIX)[number], host: string, seq: number, timeNs: bigint): OtlpRecord {
  const base = kind.channel === 'sysmon' ? t.sysmon : t.security;
  const rec = structuredClone(base);
  rec.timeUnixNano = String(timeNs);
  rec.observedTimeUnixNano = String(timeNs + 1_000_000n);
  const body = rec.body.kvlistValue.values;
  kv(sub(body, 'event_id'), 'id')!.value = { intValue: String(kind.eventId) };
  kv(sub(body, 'provider'), 'name')!.value = { stringValue: PROVIDER[kind.channel] };
  kv(body, 'channel')!.value = { stringValue: CHANNEL[kind.channel] };
  kv(body, 'computer')!.value = { stringValue: `${host}.corp.example.com` };
  kv(body, 'record_id')!.value = { intValue: String(seq) };
  const data = benignEventData(r, kind.channel, kind.eventId, host);
  const values = Object.entries(data).map(([k, v]) => ({ kvlistValue: { values: [{ key: k, value: { stringValue: v } }] } }));
  kv(body, 'event_data')!.value = { kvlistValue: { values: [{ key: 'data', value: { arrayValue: { values } } }] } };
  return rec;
}

function request(records: readonly { host: string; rec: OtlpRecord }[]): Uint8Array {
  const byHost = new Map<string, OtlpRecord[]>();
  for (const { host, rec } of records) {
    const list = byHost.get(host);
    if (list) list.push(rec);
    else byHost.set(host, [rec]);
  }
  return otlpJsonToProtobuf({
    resourceLogs: [...byHost].map(([host, recs]) => ({
      resource: { attributes: [{ key: 'host.name', value: { stringValue: host } }, { key: 'os.type', value: { stringValue: 'windows' } }] },
      scopeLogs: [{ scope: {}, logRecords: recs }],
    })),
  });
}

/**
 * `requests` requests of `perRequest` records: benign events in BENIGN_MIX proportions with the
 * regression events spread evenly through them (each appears about equally often).
 */
export function buildCorpus(opts: { requests: number; perRequest: number; seed?: number }): BenchCorpus {
  const malicious = regressionRecords();
  const t = findTemplates(malicious);
  const r = rng(opts.seed ?? 42);
  const hosts = Array.from({ length: 40 }, (_, i) => `ws-${String(i + 1).padStart(4, '0')}`);
  const total = opts.requests * opts.perRequest;
  const weights = BENIGN_MIX.reduce((n, k) => n + k.weight, 0);
  const chooseKind = (): (typeof BENIGN_MIX)[number] => {
    let x = r() * weights;
    for (const k of BENIGN_MIX) if ((x -= k.weight) < 0) return k;
    return BENIGN_MIX[0]!;
  };
  const start = 1_795_000_000_000_000_000n;
  const all: { host: string; rec: OtlpRecord }[] = [];
  // About one event in a hundred is an attack recording: a busy but not quiet estate.
  const every = Math.max(2, Math.floor(total / Math.max(malicious.length, total / 100)));
  let m = 0;
  for (let i = 0; i < total; i++) {
    const host = pick(r, hosts);
    if (i % every === every - 1) {
      // Live traffic: the recording's record time becomes "now" in the stream (its body keeps the
      // original System time). Recordings from many days would make every detection insert touch one
      // partition per day, which a live collector stream does not.
      const rec = structuredClone(malicious[m++ % malicious.length]!);
      rec.timeUnixNano = String(start + BigInt(i) * 1_000_000n);
      rec.observedTimeUnixNano = String(start + BigInt(i) * 1_000_000n + 1_000_000n);
      all.push({ host: 'victim', rec });
    } else all.push({ host, rec: benignRecord(t, r, chooseKind(), host, i, start + BigInt(i) * 1_000_000n) });
  }
  const requests: Uint8Array[] = [];
  for (let i = 0; i < opts.requests; i++) requests.push(request(all.slice(i * opts.perRequest, (i + 1) * opts.perRequest)));
  return {
    requests,
    records: total,
    malicious: all.filter((x) => x.host === 'victim').length,
    maliciousRequest: request(malicious.map((rec) => ({ host: 'victim', rec }))),
  };
}
