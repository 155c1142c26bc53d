/**
 * Traffic for the attack run: the healthy client (a collector's exporter: gzip gRPC, 100-record batches,
 * a 10 s timeout, a steady rate) whose every acknowledged detection must end up in the table, and the
 * Windows process-creation records the hostile patterns are made of, all derived from the SigmaHQ
 * regression corpus.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import { loadManifest, requestLines, type CorpusCase } from '../helpers/corpus.ts';
import { LOGS_EXPORT_PATH } from '../helpers/otlp-clients.ts';
import { otlpJsonToProtobuf } from '../helpers/otlp-proto.ts';
import { percentile } from '../bench/grpc-load.ts';

type Json = Record<string, unknown>;
export interface Rec {
  timeUnixNano: string;
  observedTimeUnixNano?: string;
  body: { kvlistValue: { values: { key: string; value: Json }[] } };
  [k: string]: unknown;
}

const RECORDS_PER_REQUEST = 100;

/** The corpus case the healthy client's detections are checked on: a Sysmon process creation firing one rule. */
export function healthyCase(): { c: CorpusCase; hit: Rec } {
  const c = loadManifest().find((k) => k.rule_file.includes('process_creation') && k.match_count === 1 && requestLines(k, 'signoz').length === 1);
  if (c === undefined) throw new Error('the regression corpus has no single-match process_creation case');
  const doc = JSON.parse(requestLines(c, 'signoz')[0]!) as { resourceLogs: { scopeLogs: { logRecords: Rec[] }[] }[] };
  return { c, hit: doc.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]! };
}

/** The event_data fields of a Sysmon record, as the collector's windows_event_log receiver delivers them. */
function dataItems(r: Rec): { kvlistValue: { values: { key: string; value: Json }[] } }[] {
  const ed = r.body.kvlistValue.values.find((kv) => kv.key === 'event_data')?.value as { kvlistValue?: { values: { key: string; value: { arrayValue?: { values: unknown[] } } }[] } } | undefined;
  return (ed?.kvlistValue?.values.find((d) => d.key === 'data')?.value.arrayValue?.values ?? []) as { kvlistValue: { values: { key: string; value: Json }[] } }[];
}

/** A copy of `hit` whose event_data fields are set from `fields` (others removed). */
export function withEventData(hit: Rec, fields: Record<string, Json>, timeNs: bigint): Rec {
  const rec = structuredClone(hit);
  rec.timeUnixNano = String(timeNs);
  rec.observedTimeUnixNano = String(timeNs);
  const items = dataItems(rec);
  items.length = 0;
  for (const [key, value] of Object.entries(fields)) items.push({ kvlistValue: { values: [{ key, value }] } });
  return rec;
}

/** Benign copy of the hit: every event_data value replaced by an ordinary one (the rule must not fire). */
export function benignOf(hit: Rec): Rec {
  const rec = structuredClone(hit);
  for (const item of dataItems(rec)) {
    for (const f of item.kvlistValue.values) f.value = { stringValue: f.key.endsWith('Image') ? 'C:\\Windows\\System32\\notepad.exe' : 'notepad' };
  }
  return rec;
}

export const requestOf = (host: string, records: readonly Rec[]): Uint8Array => otlpJsonToProtobuf({
  resourceLogs: [{ resource: { attributes: [{ key: 'host.name', value: { stringValue: host } }] }, scopeLogs: [{ scope: {}, logRecords: records }] }],
});

/** Healthy batches: one record firing the checked rule (its time identifies the request), 99 benign ones. */
export class HealthyRequests {
  readonly base = BigInt(Date.now()) * 1_000_000n;
  readonly #hit: Rec;
  readonly #benign: Rec;
  #next = 0;
  constructor(hit: Rec) {
    this.#hit = hit;
    this.#benign = benignOf(hit);
  }
  /** Event time of request i's firing record. */
  timeOf(i: number): bigint {
    return this.base + BigInt(i) * 1_000n;
  }
  next(): { i: number; body: Uint8Array } {
    const i = this.#next++;
    const t = this.timeOf(i);
    const recs: Rec[] = [{ ...this.#hit, timeUnixNano: String(t), observedTimeUnixNano: String(t) }];
    for (let k = 1; k < RECORDS_PER_REQUEST; k++) recs.push({ ...this.#benign, timeUnixNano: String(t + BigInt(k)), observedTimeUnixNano: String(t + BigInt(k)) });
    return { i, body: requestOf('healthy-host', recs) };
  }
}

export class GrpcExporter {
  readonly #client: grpc.Client;
  readonly timeoutMs: number;
  constructor(address: string, timeoutMs = 10_000) {
    this.timeoutMs = timeoutMs;
    this.#client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
      'grpc.max_send_message_length': -1,
    });
  }
  export(body: Uint8Array, timeoutMs = this.timeoutMs): Promise<grpc.StatusObject> {
    return new Promise((resolve) => {
      const call = this.#client.makeUnaryRequest<Uint8Array, Buffer>(LOGS_EXPORT_PATH, (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength), (b) => b, body, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, () => undefined);
      call.on('status', resolve);
    });
  }
  close(): void {
    this.#client.close();
  }
}

export interface HealthyResult {
  readonly sent: number;
  readonly acked: number[];
  readonly latencies: number[];
  readonly errors: Map<string, number>;
}

/** Sends `perSecond` healthy requests a second (open loop: a stalled server does not slow the sender) until stopped. */
export function runHealthy(address: string, requests: HealthyRequests, perSecond: number): { stop(): Promise<HealthyResult> } {
  const exporter = new GrpcExporter(address);
  const acked: number[] = [];
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  const pending = new Set<Promise<void>>();
  let sent = 0;
  const send = (): void => {
    const { i, body } = requests.next();
    sent++;
    const t0 = performance.now();
    const p = exporter.export(body).then((st) => {
      if (st.code === grpc.status.OK) {
        acked.push(i);
        latencies.push(performance.now() - t0);
      } else {
        const k = statusReason(st);
        errors.set(k, (errors.get(k) ?? 0) + 1);
      }
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const timer = setInterval(send, 1000 / perSecond);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...pending]);
      exporter.close();
      return { sent, acked, latencies, errors };
    },
  };
}

/** A status with what refused it, short: RESOURCE_EXHAUSTED has several causes (memory, the detection queue, upload budgets). */
export function statusReason(st: grpc.StatusObject): string {
  const name = grpc.status[st.code] ?? String(st.code);
  if (st.code === grpc.status.OK) return name;
  const why = /memory limit/.test(st.details) ? 'memory limit' : /queue full/.test(st.details) ? 'queue full' : /budget/.test(st.details) ? 'upload budget' : st.details.slice(0, 60);
  return `${name} (${why})`;
}

export const p99 = (xs: readonly number[]): number => percentile(xs, 99);

/** ExportLogsServiceRequest of `n` minimal records (a body "x" and a time), encoded without building n objects. */
export function tinyRecordsRequest(n: number, timeNs: bigint): Uint8Array {
  // LogRecord { time_unix_nano (fixed64) = timeNs, body = AnyValue { string_value = "x" } }, framed as ScopeLogs.log_records.
  const rec = Buffer.from([(2 << 3) | 2, 14, (1 << 3) | 1, 0, 0, 0, 0, 0, 0, 0, 0, (5 << 3) | 2, 3, (1 << 3) | 2, 1, 0x78]);
  rec.writeBigUInt64LE(timeNs, 3);
  const scope = Buffer.alloc(rec.length * n);
  for (let k = 0; k < n; k++) rec.copy(scope, k * rec.length);
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork().uint32((2 << 3) | 2).bytes(scope).ldelim();
  return w.finish();
}
