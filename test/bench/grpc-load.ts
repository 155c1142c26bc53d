/**
 * gRPC load as an OpenTelemetry Collector's exporter sends it: one long-lived channel, gzip message
 * compression, unary Export calls of pre-encoded requests, N calls in flight. Closed loop (as fast as
 * acknowledged) for throughput; open loop (fixed request rate) for latency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import readline from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { httpGet, LOGS_EXPORT_PATH } from '../helpers/otlp-clients.ts';

export interface LoadResult {
  /** Records acknowledged (OK) per second. */
  readonly rps: number;
  readonly ok: number;
  readonly failed: number;
  /** First few non-OK statuses. */
  readonly errors: string[];
  /** Per-request latencies, ms (OK only). */
  readonly latencies: number[];
}

export class ExportClient {
  readonly #client: grpc.Client;
  constructor(address: string) {
    this.#client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
      'grpc.max_send_message_length': -1,
    });
  }

  export(body: Uint8Array): Promise<grpc.StatusObject> {
    return new Promise((resolve) => {
      const call = this.#client.makeUnaryRequest<Uint8Array, Buffer>(
        LOGS_EXPORT_PATH,
        (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        (b) => b,
        body,
        new grpc.Metadata(),
        { deadline: Date.now() + 30_000 },
        () => undefined,
      );
      call.on('status', resolve);
    });
  }

  close(): void {
    this.#client.close();
  }
}

/** Counts answers: OK ones with their latency, the others with their first few statuses. */
function tally(): { record(st: grpc.StatusObject, startedMs: number): void; result(perRequest: number, seconds: number): LoadResult } {
  const latencies: number[] = [];
  const errors: string[] = [];
  let ok = 0;
  let failed = 0;
  return {
    record(st, startedMs) {
      if (st.code === grpc.status.OK) {
        ok++;
        latencies.push(performance.now() - startedMs);
      } else {
        failed++;
        if (errors.length < 5) errors.push(`${st.code} ${st.details}`);
      }
    },
    result: (perRequest, seconds) => ({ rps: (ok * perRequest) / seconds, ok, failed, errors, latencies }),
  };
}

/** Fixed requests sent round-robin, or a function giving the k-th request to send. */
export type RequestSource = readonly Uint8Array[] | ((k: number) => Uint8Array);
const nth = (src: RequestSource, k: number): Uint8Array => (typeof src === 'function' ? src(k) : src[k % src.length]!);

/** Closed loop: `concurrency` callers, each sending the next request as soon as its previous one is answered. */
export async function closedLoop(address: string, requests: RequestSource, perRequest: number, concurrency: number, durationMs: number): Promise<LoadResult> {
  const client = new ExportClient(address);
  const t = tally();
  let next = 0;
  const t0 = performance.now();
  const end = t0 + durationMs;
  const caller = async (): Promise<void> => {
    while (performance.now() < end) {
      const body = nth(requests, next++);
      const s = performance.now();
      t.record(await client.export(body), s);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const dt = (performance.now() - t0) / 1000;
  client.close();
  return t.result(perRequest, dt);
}

/** Open loop: a request every 1000/`requestsPerSecond` ms regardless of answers, for `durationMs`. */
export async function openLoop(address: string, requests: RequestSource, perRequest: number, requestsPerSecond: number, durationMs: number): Promise<LoadResult> {
  const client = new ExportClient(address);
  const t = tally();
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const interval = 1000 / requestsPerSecond;
  for (let i = 0; ; i++) {
    const due = t0 + i * interval;
    if (due > t0 + durationMs) break;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const s = performance.now();
    pending.push(client.export(nth(requests, i)).then((st) => t.record(st, s)));
  }
  await Promise.all(pending);
  const dt = (performance.now() - t0) / 1000;
  client.close();
  return t.result(perRequest, dt);
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** CPU time (ms, user + system) each thread of a process has used, keyed by `name#tid`. */
export function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  const tick = 1000 / 100; // USER_HZ
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${name}#${tid}`, (Number(f[11]) + Number(f[12])) * tick);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * Where a process's CPU went between two threadCpuMs readings, per 1,000 records, by thread role:
 * Node's main thread, the detection workers, V8's helper threads (concurrent GC, compilers), libuv's
 * pool (zlib, fs), and the rest (the embedded ClickHouse's threads).
 */
export function cpuPer1000(before: Map<string, number>, after: Map<string, number>, records: number): Record<string, number> {
  const role = (name: string): string =>
    name === 'node' || name === 'MainThread' ? 'main' : name === 'WorkerThread' ? 'workers' : name.startsWith('V8') || name.startsWith('v8:') ? 'v8 helpers' : name.startsWith('libuv') ? 'libuv' : 'clickhouse';
  const out: Record<string, number> = {};
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d <= 0) continue;
    const r = role(k.slice(0, k.lastIndexOf('#')));
    out[r] = (out[r] ?? 0) + (d / records) * 1000;
  }
  return out;
}

/** A memory figure of a process from /proc (VmRSS: resident now; VmHWM: its peak so far), MiB; NaN when unavailable. */
function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export const peakRssMb = (pid: number): number => statusMb(pid, 'VmHWM');
export const rssMb = (pid: number): number => statusMb(pid, 'VmRSS');

type Metrics = (name: string, labels?: string) => number;

/** One read of serve's /metrics: `sum` adds a metric's samples whose labels contain `labels`; `buckets` a histogram's. */
export async function scrape(http: string): Promise<{ sum: Metrics; buckets: (name: string) => [number, number][] }> {
  const text = (await httpGet(http, '/metrics')).body.toString();
  const sum: Metrics = (name, labels = '') =>
    [...text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))].filter((m) => (m[1] ?? '').includes(labels)).reduce((n, m) => n + Number(m[2]), 0);
  const buckets = (name: string): [number, number][] =>
    [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm'))].map((m) => [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  return { sum, buckets };
}

/** The sink server (sink-server.ts) as a child process. */
export async function startSink(): Promise<{ address: string; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [new URL('./sink-server.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
  const address = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`sink exited with ${code}`)));
    readline.createInterface({ input: child.stdout }).once('line', (l) => resolve((JSON.parse(l) as { address: string }).address));
  });
  return {
    address,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
