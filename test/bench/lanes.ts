/**
 * Real-shaped load for the end-to-end bench: the SigmaHQ regression recordings (real Windows attack events,
 * SigNoz shape) packed into 1,000-record requests from 50 hosts, in three clocks:
 * - `original`: each event keeps the record time it was recorded with (2020–2026: months and years apart);
 * - `skew`: each host's clock is off by its own amount, hours to years, either way;
 * - `live`: record times rewritten to the moment of sending.
 * Every send carries new record times, so no request is a replay of an earlier one and no record repeats
 * another: each is evaluated and stored as new records, as a fleet's traffic is. The original and skewed
 * times move by the pass (× 2^15 ns) plus the record's position in the pass (ns): the corpus holds the same
 * event more than once (its SigNoz and map shapes have one identity, and a pass cycles through it), and
 * with the pass alone ~45 % of a pass's detections were repeats the service stores once, so those lanes
 * stored far less than real traffic makes it store. Live times are now + the record's position.
 *
 * The times are patched in the encoded protobuf: records are encoded with a marker time, whose fixed64
 * offsets are found once, and each send writes the real times into a copy.
 */
import { ExportLogsServiceRequest, otlpJsonToProtobuf } from '../helpers/otlp-proto.ts';
import { rng } from '../helpers/rng.ts';
import { regressionRecords, type OtlpRecord } from './corpus.ts';

export type Clock = 'original' | 'skew' | 'live';

export interface StampedRequests {
  readonly perRequest: number;
  readonly count: number;
  /** The i-th request of pass `pass`, with fresh record times: no two (i mod count, pass, record) share one. */
  stamp(i: number, pass: number): Uint8Array;
}

/** Room per pass for every record of the lane's requests (at most 2^15 of them). */
const PASS_NS = 1n << 15n;

/**
 * For a lane of `count` requests of at most `perRequest` records: how far pass `pass` moves the `j`-th record
 * of request `i`, unique within the lane's requests and across passes.
 */
function passShift(count: number, perRequest: number): (i: number, j: number, pass: number) => bigint {
  if (count * perRequest > Number(PASS_NS)) throw new Error(`bench: ${count} × ${perRequest} records do not fit a pass`);
  return (i, j, pass) => BigInt(pass) * PASS_NS + BigInt((i % count) * perRequest + j);
}

const MARKER = 0x5eed5eedn << 32n;
const HOUR_NS = 3_600n * 1_000_000_000n;

interface Encoded {
  readonly bytes: Uint8Array;
  /** Offset of each record's time_unix_nano value, and the record's base time. */
  readonly offsets: number[];
  readonly times: bigint[];
}

/** `requests` requests of `perRequest` regression events, cycling through the recordings. */
export function attackRequests(clock: Clock, requests: number, perRequest = 1000, seed = 7): StampedRequests {
  const recordings = regressionRecords();
  const r = rng(seed);
  const hosts = Array.from({ length: 50 }, (_, i) => `victim-${String(i + 1).padStart(3, '0')}`);
  const sign = (): bigint => (r() < 0.5 ? -1n : 1n);
  // Per host: an hour to five years off, either way (a wrong BIOS clock, a VM restored from a snapshot).
  const skew = new Map(hosts.map((h) => [h, clock === 'skew' ? sign() * (HOUR_NS + BigInt(Math.floor(r() * 5 * 8760)) * HOUR_NS) : 0n]));
  const encoded: Encoded[] = [];
  let next = 0;
  for (let q = 0; q < requests; q++) {
    const byHost = new Map<string, { rec: OtlpRecord; time: bigint }[]>();
    for (let j = 0; j < perRequest; j++) {
      const base = recordings[next++ % recordings.length]!;
      const host = hosts[Math.floor(r() * hosts.length)]!;
      const original = BigInt(base.timeUnixNano);
      let time = original + skew.get(host)!;
      if (time < 0n) time = original; // before 1970 is not a time OTLP can carry
      if (time > 2n ** 63n) time = original;
      const list = byHost.get(host) ?? [];
      list.push({ rec: base, time });
      byHost.set(host, list);
    }
    const times: bigint[] = [];
    const doc = {
      resourceLogs: [...byHost].map(([host, recs]) => ({
        resource: { attributes: [{ key: 'host.name', value: { stringValue: host } }, { key: 'os.type', value: { stringValue: 'windows' } }] },
        scopeLogs: [{
          scope: {},
          logRecords: recs.map(({ rec, time }) => {
            times.push(time);
            return { ...rec, timeUnixNano: String(MARKER | BigInt(times.length - 1)) };
          }),
        }],
      })),
    };
    const bytes = otlpJsonToProtobuf(doc);
    encoded.push({ bytes, offsets: markerOffsets(bytes, times.length), times });
  }
  const shift = passShift(encoded.length, perRequest);
  return {
    perRequest,
    count: encoded.length,
    stamp(i, pass) {
      const e = encoded[i % encoded.length]!;
      const out = Buffer.from(e.bytes);
      const now = BigInt(Date.now()) * 1_000_000n;
      for (let j = 0; j < e.offsets.length; j++) {
        const t = clock === 'live' ? now + BigInt(j) : e.times[j]! + shift(i, j, pass);
        out.writeBigUInt64LE(t, e.offsets[j]);
      }
      return out;
    },
  };
}

/** Offsets of the fixed64 `time_unix_nano` (field 1, tag 0x09) values that hold MARKER | index. */
function markerOffsets(bytes: Uint8Array, n: number): number[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(n).fill(-1);
  for (let i = 0; i + 9 <= buf.length; i++) {
    if (buf[i] !== 0x09 || buf.readUInt32LE(i + 5) !== 0x5eed5eed) continue;
    const idx = buf.readUInt32LE(i + 1);
    if (idx < n) out[idx] = i + 1;
  }
  if (out.includes(-1)) throw new Error('bench: could not locate every record time in an encoded request');
  return out;
}

/** Fixed requests (e.g. the benign mix) made stampable: each send gets its record times moved by `pass` ns. */
export function stampable(requests: readonly Uint8Array[]): StampedRequests {
  const encoded = requests.map((bytes) => {
    const doc = ExportLogsServiceRequest.toObject(ExportLogsServiceRequest.decode(bytes), { longs: String, bytes: String, defaults: false }) as {
      resourceLogs?: { scopeLogs?: { logRecords?: { timeUnixNano?: string }[] }[] }[];
    };
    const times: bigint[] = [];
    for (const rl of doc.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) for (const rec of sl.logRecords ?? []) {
      times.push(BigInt(rec.timeUnixNano ?? '0'));
      rec.timeUnixNano = String(MARKER | BigInt(times.length - 1));
    }
    const out = ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(doc)).finish();
    return { bytes: out, offsets: markerOffsets(out, times.length), times };
  });
  const perRequest = Math.max(0, ...encoded.map((e) => e.times.length));
  const shift = passShift(encoded.length, perRequest);
  return {
    perRequest,
    count: encoded.length,
    stamp(i, pass) {
      const e = encoded[i % encoded.length]!;
      const out = Buffer.from(e.bytes);
      for (let j = 0; j < e.offsets.length; j++) out.writeBigUInt64LE(e.times[j]! + shift(i, j, pass), e.offsets[j]);
      return out;
    },
  };
}
