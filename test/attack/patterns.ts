/**
 * The hostile patterns of issue 17, each run against a live `serve` until a deadline and returning one line
 * of what it saw (statuses, timings). Items 3 (a disk filling up) and 10d/10f (a read-only data directory, a
 * restart right after kill -9) need their own filesystem or process restarts and are covered by tests.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import { regressionRecords } from '../bench/corpus.ts';
import { httpGet, LOGS_EXPORT_PATH, sendHttpExport } from '../helpers/otlp-clients.ts';
import { GrpcExporter, p99, requestOf, statusReason, tinyRecordsRequest, withEventData, type HealthyRequests, type Rec } from './traffic.ts';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../bin/otel-sigma.js');

export interface Target {
  readonly grpc: string;
  readonly http: string;
  readonly tmp: string;
  /** The record the healthy client fires on; patterns derive theirs from it. */
  readonly hit: Rec;
  readonly healthy: HealthyRequests;
}

export interface Pattern {
  readonly item: string;
  readonly name: string;
  run(t: Target, until: number): Promise<string>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const tally = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
const show = (m: Map<string, number>): string => JSON.stringify(Object.fromEntries(m));
const grpcName = (code: number): string => grpc.status[code] ?? String(code);

/** Repeats `step` until the deadline (awaiting each), `lanes` at a time. */
async function loop(until: number, lanes: number, step: () => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (Date.now() < until) await step();
  }));
}

function processCreationValues(): Map<string, Set<string>> {
  const values = new Map<string, Set<string>>();
  for (const r of regressionRecords()) {
    const body = r.body.kvlistValue.values;
    const channel = body.find((kv) => kv.key === 'channel')?.value['stringValue'];
    if (channel !== 'Microsoft-Windows-Sysmon/Operational') continue;
    const ed = body.find((kv) => kv.key === 'event_data')?.value as { kvlistValue?: { values: { key: string; value: { arrayValue?: { values: { kvlistValue: { values: { key: string; value: { stringValue?: string } }[] } }[] } } }[] } } | undefined;
    for (const item of ed?.kvlistValue?.values.find((d) => d.key === 'data')?.value.arrayValue?.values ?? []) {
      for (const f of item.kvlistValue.values) {
        if (!['CommandLine', 'Image', 'ParentImage', 'ParentCommandLine', 'OriginalFileName', 'Product', 'Description', 'Company', 'CurrentDirectory', 'User', 'IntegrityLevel', 'Hashes'].includes(f.key)) continue;
        if (typeof f.value.stringValue !== 'string') continue;
        const set = values.get(f.key) ?? new Set();
        set.add(f.value.stringValue);
        values.set(f.key, set);
      }
    }
  }
  return values;
}

const detectionBomb: Pattern = {
  item: '1',
  name: 'detection bomb: a ~500 KB record of process-creation value arrays (OTLP/JSON), and 2.5M tiny records in one 40 MB request',
  async run(t, until) {
    // Every distinct process-creation value of the corpus per field, repeated (numbered) up to ~500 KB.
    const distinct = [...processCreationValues()];
    const perField = 500_000 / distinct.length;
    const fields: Record<string, Record<string, unknown>> = {};
    let bytes = 0;
    for (const [k, set] of distinct) {
      const vals: { stringValue: string }[] = [];
      let size = 0;
      for (let round = 0; size < perField; round++) {
        for (const v of set) {
          const s = round === 0 ? v : `${v} ${round}`;
          vals.push({ stringValue: s });
          size += s.length;
        }
      }
      bytes += size;
      fields[k] = { arrayValue: { values: vals } };
    }
    const statuses = new Map<string, number>();
    const tiny = tinyRecordsRequest(2_500_000, nowNs());
    // The big one in parallel with the array records, as two senders would.
    const big = (async () => {
      const t0 = performance.now();
      const r = await sendHttpExport(t.http, tiny).catch((e: Error) => ({ status: `error ${e.message}` }));
      return `2.5M-record request: ${r.status} in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    })();
    let n = 0;
    const times: number[] = [];
    await loop(until, 1, async () => {
      const doc = { resourceLogs: [{ resource: { attributes: [{ key: 'host.name', value: { stringValue: 'bomb' } }] }, scopeLogs: [{ scope: {}, logRecords: [withEventData(t.hit, fields, nowNs() + BigInt(n++))] }] }] };
      const t0 = performance.now();
      const r = await sendHttpExport(t.http, JSON.stringify(doc), { format: 'json' }).catch((e: Error) => ({ status: `error ${e.message}`, body: Buffer.alloc(0) }));
      times.push(performance.now() - t0);
      tally(statuses, String(r.status));
      await sleep(500);
    });
    return `array record (${Math.round(bytes / 1024)} KB of values): ${show(statuses)}, slowest ${Math.max(...times).toFixed(0)} ms; ${await big}`;
  },
};

const idleConnections: Pattern = {
  item: '2',
  name: 'idle connections: 3,000 silent TCP connections on the gRPC port, 500 HTTP/2 sessions with no call, 1,000 on the HTTP port',
  async run(t, until) {
    const socks: net.Socket[] = [];
    let closedByServer = 0;
    let refused = 0;
    const open = (addr: string): void => {
      const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
      const s = net.connect(port, host);
      s.on('error', () => { refused++; });
      s.on('close', () => { if (Date.now() < until) closedByServer++; });
      s.resume();
      socks.push(s);
    };
    for (let i = 0; i < 3000; i++) open(t.grpc);
    for (let i = 0; i < 1000; i++) open(t.http);
    const sessions = Array.from({ length: 500 }, () => {
      const s = http2.connect(`http://${t.grpc}`);
      s.on('error', () => undefined);
      return s;
    });
    await sleep(Math.max(0, until - Date.now()));
    for (const s of socks) s.destroy();
    for (const s of sessions) s.destroy();
    return `${socks.length} sockets and ${sessions.length} sessions opened; closed by the server meanwhile: ${closedByServer} (silent ones after 10 s on both ports, idle gRPC sessions after 5 min); socket errors ${refused}`;
  },
};

const randomTimestamps: Pattern = {
  item: '4',
  name: 'sender-chosen timestamps: firing records with random event days 1970–2261, 2 senders',
  async run(t, until) {
    const metric = async (name: string): Promise<number> => {
      const text = (await httpGet(t.http, '/metrics')).body.toString();
      return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*log="detections"[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    };
    const walBefore = await metric('otel_sigma_wal_bytes');
    const rowsBefore = await metric('otel_sigma_store_rows_total');
    const exporter = new GrpcExporter(t.grpc);
    const statuses = new Map<string, number>();
    let notReady = 0;
    let probes = 0;
    const prober = (async () => {
      while (Date.now() < until) {
        probes++;
        const r = await fetch(`http://${t.http}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
        if (r?.status !== 200) notReady++;
        await sleep(1_000);
      }
    })();
    let acked = 0;
    const MAX = 9_214_646_400n * 1_000_000_000n; // 2261-12-31
    await loop(until, 2, async () => {
      const recs: Rec[] = [];
      for (let k = 0; k < 200; k++) {
        const ns = BigInt(Math.floor(Math.random() * Number(MAX / 1_000_000_000n))) * 1_000_000_000n + BigInt(k);
        recs.push({ ...t.hit, timeUnixNano: String(ns), observedTimeUnixNano: String(ns) });
      }
      const st = await exporter.export(requestOf('time-traveller', recs));
      tally(statuses, statusReason(st));
      if (st.code === grpc.status.OK) acked += 200;
    });
    await prober;
    exporter.close();
    const walAfter = await metric('otel_sigma_wal_bytes');
    const rows = (await metric('otel_sigma_store_rows_total')) - rowsBefore;
    return `${acked} random-day records acknowledged ${show(statuses)}; detection rows inserted meanwhile ${rows}; detection log ${(walBefore / 2 ** 20).toFixed(1)} → ${(walAfter / 2 ** 20).toFixed(1)} MiB; /readyz not ready ${notReady} of ${probes} probes`;
  },
};

const regexCpu: Pattern = {
  item: '5',
  name: 'regex CPU: 1.3 MB requests of 32 KiB and 512 KiB command lines aimed at Invoke-Obfuscation Via Stdin, 2 senders',
  async run(t, until) {
    const line = (n: number): string => 'set x=1&&set y=2&&'.repeat(Math.ceil(n / 18)).slice(0, n);
    const exporter = new GrpcExporter(t.grpc, 60_000);
    const small = requestOf('regex', Array.from({ length: 40 }, (_, k) => withEventData(t.hit, { CommandLine: { stringValue: line(32 * 1024) }, Image: { stringValue: 'C:\\Windows\\System32\\cmd.exe' } }, nowNs() + BigInt(k))));
    const large = requestOf('regex', Array.from({ length: 2 }, (_, k) => withEventData(t.hit, { CommandLine: { stringValue: line(512 * 1024) }, Image: { stringValue: 'C:\\Windows\\System32\\cmd.exe' } }, nowNs() + BigInt(k))));
    const times: number[] = [];
    const statuses = new Map<string, number>();
    let n = 0;
    await loop(until, 2, async () => {
      const t0 = performance.now();
      const st = await exporter.export(n++ % 2 === 0 ? small : large);
      times.push(performance.now() - t0);
      tally(statuses, grpcName(st.code));
    });
    exporter.close();
    return `${times.length} requests (${(small.length / 1e6).toFixed(1)} / ${(large.length / 1e6).toFixed(1)} MB) ${show(statuses)}; p99 ${p99(times).toFixed(0)} ms, slowest ${Math.max(...times).toFixed(0)} ms`;
  },
};

const stalledUploads: Pattern = {
  item: '6',
  name: 'stalled uploads: 400 gRPC calls that announce 60 MB and stop after 1 MB, 60 HTTP uploads that stop at 10 of 60 MB',
  async run(t, until) {
    const MB = Buffer.alloc(1024 * 1024, 0x41);
    const sessions = Array.from({ length: 8 }, () => {
      // Node's client caps a session's buffered data at 10 MB by default; an attacker does not.
      const s = http2.connect(`http://${t.grpc}`, { maxSessionMemory: 1000 });
      s.on('error', () => undefined);
      return s;
    });
    const grpcOutcomes = new Map<string, number>();
    const calls = Array.from({ length: 400 }, (_, i) => new Promise<void>((resolve) => {
      const req = sessions[i % 8]!.request({ ':method': 'POST', ':path': LOGS_EXPORT_PATH, 'content-type': 'application/grpc', te: 'trailers' });
      const head = Buffer.alloc(5);
      head.writeUInt32BE(60 * 1024 * 1024, 1);
      req.write(head);
      req.write(MB);
      let st = 'open at the end';
      req.on('response', (h) => { if (h['grpc-status'] !== undefined) st = grpcName(Number(h['grpc-status'])); });
      req.on('trailers', (h) => { if (h['grpc-status'] !== undefined) st = grpcName(Number(h['grpc-status'])); });
      req.on('error', () => undefined);
      req.resume();
      req.on('close', () => {
        tally(grpcOutcomes, Date.now() < until ? st : 'open at the end');
        resolve();
      });
    }));
    const httpOutcomes = new Map<string, number>();
    const [host, port] = [t.http.slice(0, t.http.lastIndexOf(':')), Number(t.http.slice(t.http.lastIndexOf(':') + 1))];
    const reqs: http.ClientRequest[] = [];
    const uploads = Array.from({ length: 60 }, () => new Promise<void>((resolve) => {
      const req = http.request({ host, port, method: 'POST', path: '/v1/logs', headers: { 'content-type': 'application/x-protobuf', 'content-length': String(60 * 1024 * 1024) }, agent: false });
      reqs.push(req);
      let st = 'open at the end';
      req.on('response', (res) => { st = String(res.statusCode); res.resume(); });
      req.on('error', () => undefined);
      req.on('close', () => {
        tally(httpOutcomes, Date.now() < until ? st : 'open at the end');
        resolve();
      });
      let sent = 0;
      const pump = (): void => {
        while (sent < 10 && Date.now() < until) {
          sent++;
          if (!req.write(MB)) {
            req.once('drain', pump);
            return;
          }
        }
      };
      pump();
    }));
    await sleep(Math.max(0, until - Date.now()));
    for (const s of sessions) s.destroy();
    // Dropping the uploads is the client going away; the server gives their bytes back.
    for (const r of reqs) r.destroy();
    await Promise.all([...calls, ...uploads]);
    return `gRPC calls: ${show(grpcOutcomes)}; HTTP uploads: ${show(httpOutcomes)}`;
  },
};

const bigThenBurst: Pattern = {
  item: '7',
  name: 'one 5.4 MB request, then 16 healthy concurrent requests at once, every 4 s',
  async run(t, until) {
    const benign = Array.from({ length: 7_400 }, (_, k) => withEventData(t.hit, { CommandLine: { stringValue: `C:\\Windows\\System32\\svchost.exe -k netsvcs -p -s Schedule ${k}` }, Image: { stringValue: 'C:\\Windows\\System32\\svchost.exe' } }, nowNs() + BigInt(k)));
    const big = requestOf('big-sender', benign);
    const exporter = new GrpcExporter(t.grpc, 60_000);
    const burst = new GrpcExporter(t.grpc);
    const after = new Map<string, number>();
    let rounds = 0;
    let bigMs = 0;
    await loop(until, 1, async () => {
      const t0 = performance.now();
      await exporter.export(big);
      bigMs = Math.max(bigMs, performance.now() - t0);
      const sts = await Promise.all(Array.from({ length: 16 }, () => burst.export(t.healthy.next().body)));
      for (const st of sts) tally(after, statusReason(st));
      rounds++;
      await sleep(4_000);
    });
    exporter.close();
    burst.close();
    return `${rounds} rounds, big request (${(big.length / 1e6).toFixed(1)} MB) slowest ${bigMs.toFixed(0)} ms; the 16 right after it: ${show(after)} (not counted as healthy traffic)`;
  },
};

const oversizeRow: Pattern = {
  item: '8',
  name: 'oversize detection row: a record whose command line is 52 MB (and fires mimikatz rules)',
  async run(t, until) {
    const value = `mimikatz.exe "privilege::debug" "sekurlsa::logonpasswords" ${'A'.repeat(52 * 1024 * 1024)}`;
    const exporter = new GrpcExporter(t.grpc, 120_000);
    const statuses = new Map<string, number>();
    const times: number[] = [];
    await loop(until, 1, async () => {
      const body = requestOf('oversize', [withEventData(t.hit, { CommandLine: { stringValue: value }, Image: { stringValue: 'C:\\Users\\Public\\mimikatz.exe' } }, nowNs())]);
      const t0 = performance.now();
      const st = await exporter.export(body);
      times.push(performance.now() - t0);
      tally(statuses, `${grpcName(st.code)}${st.code === grpc.status.OK ? '' : ` (${st.details.slice(0, 80)})`}`);
    });
    exporter.close();
    return `${times.length} requests of ${(value.length / 2 ** 20).toFixed(0)} MiB: ${show(statuses)}, slowest ${Math.max(...times).toFixed(0)} ms (RESOURCE_EXHAUSTED naming receiver.max_value_chars above its 16 Mi characters, OK = stored cut and flagged below it; never INTERNAL)`;
  },
};

const hugeRuleFile: Pattern = {
  item: '9',
  name: 'a 100 MB rule file given to `rules check` beside the running service',
  async run(t, until) {
    const file = path.join(t.tmp, 'huge-rule.yml');
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, 'title: huge\nlogsource: { product: windows }\ndetection:\n  sel:\n    CommandLine|contains:\n');
    const chunk = Array.from({ length: 10_000 }, (_, i) => `      - 'value-${i}-${'x'.repeat(80)}'\n`).join('');
    while (fs.fstatSync(fd).size < 100 * 1024 * 1024) fs.writeSync(fd, chunk);
    fs.writeSync(fd, '  condition: sel\n');
    fs.closeSync(fd);
    const t0 = performance.now();
    const r = await run(process.execPath, [BIN, 'rules', 'check', file], { maxBuffer: 1 << 24 }).then((o) => ({ code: 0, out: o.stdout + o.stderr }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }));
    const ms = performance.now() - t0;
    fs.rmSync(file);
    await sleep(Math.max(0, until - Date.now()));
    const reason = r.out.split('\n').find((l) => /MiB|bytes|too large|limit/i.test(l)) ?? r.out.split('\n')[0] ?? '';
    return `rules check exited ${r.code} after ${ms.toFixed(0)} ms: ${reason.trim().slice(0, 160)}`;
  },
};

const smallItems: Pattern = {
  item: '10',
  name: 'malformed input: invalid UTF-8 (HTTP protobuf), a known field on the wrong wire type (gRPC), garbage gzip (gRPC and HTTP)',
  async run(t, until) {
    const lenField = (n: number, b: Uint8Array): Uint8Array => protobuf.Writer.create().uint32((n << 3) | 2).bytes(b).finish();
    const wrap = (record: Uint8Array): Uint8Array => lenField(1, lenField(2, lenField(2, record)));
    const badUtf8 = wrap(lenField(5, lenField(1, Uint8Array.from([0x61, 0xff, 0x62]))));
    const wrongWire = wrap(protobuf.Writer.create().uint32(5 << 3).uint32(7).finish());
    const garbage = Buffer.from('definitely not gzip '.repeat(20));
    const exporter = new GrpcExporter(t.grpc);
    const seen = new Map<string, number>();
    const session = http2.connect(`http://${t.grpc}`);
    session.on('error', () => undefined);
    const rawGzip = (): Promise<string> => new Promise((resolve) => {
      const req = session.request({ ':method': 'POST', ':path': LOGS_EXPORT_PATH, 'content-type': 'application/grpc', te: 'trailers', 'grpc-encoding': 'gzip' });
      const head = Buffer.alloc(5);
      head.writeUInt8(1, 0);
      head.writeUInt32BE(garbage.length, 1);
      req.end(Buffer.concat([head, garbage]));
      let st = 'none';
      req.on('response', (h) => { if (h['grpc-status'] !== undefined) st = grpcName(Number(h['grpc-status'])); });
      req.on('trailers', (h) => { if (h['grpc-status'] !== undefined) st = grpcName(Number(h['grpc-status'])); });
      req.on('error', () => undefined);
      req.resume();
      req.on('close', () => resolve(st));
    });
    await loop(until, 1, async () => {
      tally(seen, `invalid UTF-8 → HTTP ${(await sendHttpExport(t.http, badUtf8)).status}`);
      tally(seen, `wrong wire type → ${grpcName((await exporter.export(wrongWire)).code)}`);
      tally(seen, `garbage gzip gRPC → ${await rawGzip()}`);
      tally(seen, `garbage gzip HTTP → ${(await sendHttpExport(t.http, gzipSync(garbage).subarray(0, 10), { headers: { 'content-encoding': 'gzip' } })).status}`);
      await sleep(200);
    });
    session.destroy();
    exporter.close();
    return show(seen);
  },
};

const baseline: Pattern = {
  item: '0',
  name: 'no attack: the healthy client alone (warms the service up; the reference figures)',
  async run(_t, until) {
    await sleep(Math.max(0, until - Date.now()));
    return 'healthy traffic only';
  },
};

// Patterns whose memory the workers keep afterwards (a 2.5M-record request, 52 MB values) run last, so they do
// not decide the figures of the others.
export const PATTERNS: readonly Pattern[] = [baseline, idleConnections, smallItems, hugeRuleFile, bigThenBurst, regexCpu, stalledUploads, randomTimestamps, detectionBomb, oversizeRow];
