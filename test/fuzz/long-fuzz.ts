/**
 * Long fuzz (`npm run fuzz`): FUZZ_REQUESTS (default 100,000) mutated requests go through the real decoder
 * and mapper in process AND, over loopback, through the real gRPC and HTTP receivers (started here, with
 * token auth, and a handler that decodes and maps in process). Checks: the property of check.ts for every
 * request; every wire answer is a valid status that agrees with the in-process verdict; no request hangs;
 * the servers keep answering /healthz and a valid export throughout, also after raw-socket garbage.
 * Findings are written to FUZZ_OUT (default a temp dir) and make the exit code 1.
 *   FUZZ_REQUESTS=n  FUZZ_SEED=s  FUZZ_CONCURRENCY=c  node test/fuzz/long-fuzz.ts
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { decodeExport } from '../../src/decode/export-request.ts';
import { createRecordMapper } from '../../src/map/map-records.ts';
import { startGrpcServer, LOGS_EXPORT_PATH } from '../../src/receive/grpc-server.ts';
import { startHttpServer } from '../../src/receive/http-server.ts';
import type { ExportHandler } from '../../src/receive/types.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { otlpJsonToProtobuf } from '../helpers/otlp-proto.ts';
import { FuzzFailure, runCase } from './check.ts';
import { corpusSeeds } from './corpus-seeds.ts';
import { fuzzCase, type FuzzCase } from './otlp-arbitraries.ts';
import { loadLogsourceMapping } from '../../src/map/logsource-mapping.ts';

const TOTAL = Number(process.env['FUZZ_REQUESTS'] ?? 100_000);
const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);
const CONCURRENCY = Number(process.env['FUZZ_CONCURRENCY'] ?? 32);
const OUT = process.env['FUZZ_OUT'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-fuzz-'));
const MAX_BYTES = 4 * 1024 * 1024;
const PER_CALL_MS = 5_000;
const WIRE_TIMEOUT_MS = 15_000;
const TOKEN = 'fuzz-token-0123456789';

interface Finding { where: string; label: string; message: string; file: string }
const findings: Finding[] = [];
const stats = { direct: new Map<string, number>(), grpc: new Map<string, number>(), http: new Map<string, number>(), chaos: 0, probes: 0 };
const bump = (m: Map<string, number>, k: string): void => { m.set(k, (m.get(k) ?? 0) + 1); };

function record(where: string, c: FuzzCase | undefined, message: string): void {
  const file = path.join(OUT, `finding-${findings.length}.bin`);
  if (c !== undefined) fs.writeFileSync(file, c.body);
  findings.push({ where, label: c?.label ?? '-', message, file: c !== undefined ? file : '' });
  if (findings.length <= 20) console.error(`FINDING [${where}] ${c?.label ?? ''}: ${message}`);
}

// ---------- the real receivers, with a handler that decodes and maps in process ----------

const serverMapper = createRecordMapper({ mapping: loadLogsourceMapping() });
const handler: ExportHandler = (req) => {
  const d = decodeExport(req, MAX_BYTES); // throws the PipelineError the receivers turn into a status
  serverMapper.map(d.records);
  return Promise.resolve({ rejectedLogRecords: 0, errorMessage: '' });
};
const health = { live: () => true, ready: () => ({ ready: true, reasons: [] }) };
const auth = { tokens: [TOKEN] };
const gsrv = await startGrpcServer({ listen: '127.0.0.1:0', maxRequestBytes: MAX_BYTES, handler, logger: silentLogger, auth });
const hsrv = await startHttpServer({ listen: '127.0.0.1:0', maxRequestBytes: MAX_BYTES, handler, health, logger: silentLogger, auth, timeouts: { headersMs: 5_000, requestMs: 10_000 } });
const [hhost, hport] = [hsrv.address.slice(0, hsrv.address.lastIndexOf(':')), Number(hsrv.address.slice(hsrv.address.lastIndexOf(':') + 1))];
const [ghost, gport] = [gsrv.address.slice(0, gsrv.address.lastIndexOf(':')), Number(gsrv.address.slice(gsrv.address.lastIndexOf(':') + 1))];

const grpcClient = new grpc.Client(gsrv.address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
// gRPC-level compression: the receiver must cap what a small compressed message inflates to.
const gzipClient = new grpc.Client(gsrv.address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip });
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function grpcCall(body: Uint8Array, token: string, client = grpcClient): Promise<grpc.status> {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    client.makeUnaryRequest<Uint8Array, Buffer>(LOGS_EXPORT_PATH, (b) => Buffer.from(b), (b) => b, body, md,
      { deadline: Date.now() + WIRE_TIMEOUT_MS }, (err) => resolve(err ? err.code : grpc.status.OK));
  });
}

function httpCall(body: Uint8Array, headers: Record<string, string>, reqPath = '/v1/logs', method = 'POST'): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: hhost, port: hport, method, path: reqPath, agent, headers: { ...headers, 'content-length': String(body.length) }, timeout: WIRE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(-1));
    });
    req.on('timeout', () => { req.destroy(); resolve(-2); });
    req.on('error', () => resolve(-1)); // the server may drop a connection it refused (e.g. 413 before the body is read)
    req.end(body);
  });
}

const EXPECT_GRPC: Record<string, grpc.status> = { ok: grpc.status.OK, ERR_DECODE: grpc.status.INVALID_ARGUMENT, ERR_DECOMPRESS: grpc.status.INVALID_ARGUMENT, ERR_TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED };
const EXPECT_HTTP: Record<string, number> = { ok: 200, ERR_DECODE: 400, ERR_DECOMPRESS: 400, ERR_TOO_LARGE: 413 };

// ---------- one request: in process, then over the wire ----------

const directMapper = createRecordMapper({ mapping: loadLogsourceMapping() });
const verdict = (c: FuzzCase): string => {
  try {
    return runCase(c, MAX_BYTES, directMapper, PER_CALL_MS).code ?? 'ok';
  } catch (err) {
    record('direct', c, err instanceof FuzzFailure ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err));
    return 'finding';
  }
};

async function one(c: FuzzCase, i: number): Promise<void> {
  const v = verdict(c);
  bump(stats.direct, v);
  if (v === 'finding') return;
  const badToken = i % 25 === 7; // alternates between the transports
  if (i % 2 === 0) {
    // gRPC carries protobuf only and does its own (de)compression: the server sees exactly these bytes.
    const expected = badToken ? grpc.status.UNAUTHENTICATED : EXPECT_GRPC[c.format === 'protobuf' && c.encoding === 'identity' ? v : verdict({ ...c, format: 'protobuf', encoding: 'identity' })];
    const got = await grpcCall(c.body, badToken ? 'wrong' : TOKEN);
    bump(stats.grpc, grpc.status[got] ?? String(got));
    if (got !== expected) record('grpc', c, `status ${grpc.status[got] ?? got}, expected ${expected === undefined ? '?' : grpc.status[expected]} (in-process verdict ${v})`);
  } else {
    const headers: Record<string, string> = { 'content-type': c.format === 'json' ? 'application/json' : 'application/x-protobuf' };
    if (c.encoding !== 'identity') headers['content-encoding'] = c.encoding;
    if (!badToken) headers['x-api-key'] = TOKEN;
    const got = await httpCall(c.body, headers);
    bump(stats.http, String(got));
    const expected = badToken ? 401 : EXPECT_HTTP[v];
    // A refusal sent before the body was read may reach the client as a reset instead of the status.
    const acceptable = got === expected || (got === -1 && (expected === 413 || expected === 401));
    if (!acceptable) record('http', c, `status ${got}, expected ${expected} (in-process verdict ${v})`);
  }
}

// ---------- chaos and liveness probes ----------

function rawSocketGarbage(port: number, host: string, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host }, () => s.end(bytes));
    s.setTimeout(3_000, () => s.destroy());
    s.on('data', () => undefined);
    s.on('error', () => resolve());
    s.on('close', () => resolve());
  });
}

const ZEROS = new Uint8Array(24 * 1024 * 1024);
async function chaos(rnd: () => number): Promise<void> {
  stats.chaos++;
  const junk = Uint8Array.from({ length: Math.floor(rnd() * 4096) }, () => Math.floor(rnd() * 256));
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  await Promise.all([
    rawSocketGarbage(hport, hhost, junk),
    rawSocketGarbage(gport, ghost, Buffer.concat([preface, junk])),
    rawSocketGarbage(hport, hhost, Buffer.from(`POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\nContent-Type: application/json\r\nX-API-Key: ${TOKEN}\r\n\r\n{"resourceLogs":[`)),
    grpcCall(ZEROS, TOKEN, gzipClient).then((g) => { if (g !== grpc.status.RESOURCE_EXHAUSTED) record('grpc-bomb', undefined, `24 MiB gzip-compressed message answered ${grpc.status[g]}`); }),
    httpCall(junk, { 'content-type': 'text/html', 'x-api-key': TOKEN }).then((s) => { if (s !== 415) record('http-415', undefined, `bad content type answered ${s}`); }),
    httpCall(junk, { 'content-type': 'application/x-protobuf', 'content-encoding': 'br', 'x-api-key': TOKEN }).then((s) => { if (s !== 415) record('http-415', undefined, `bad encoding answered ${s}`); }),
  ]);
}

const VALID = otlpJsonToProtobuf({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'probe' } }] }] }] });
async function probe(): Promise<void> {
  stats.probes++;
  const [g, h, z] = await Promise.all([grpcCall(VALID, TOKEN), httpCall(VALID, { 'content-type': 'application/x-protobuf', authorization: `Bearer ${TOKEN}` }), httpCall(new Uint8Array(), {}, '/healthz', 'GET')]);
  if (g !== grpc.status.OK || h !== 200 || z !== 200) record('probe', undefined, `liveness probe: grpc ${grpc.status[g]}, http ${h}, healthz ${z}`);
}

// ---------- run ----------

const seeds = corpusSeeds(200);
const arb = fuzzCase(seeds);
console.log(`long fuzz: ${TOTAL} requests, seed ${SEED}, concurrency ${CONCURRENCY}, ${seeds.length} corpus seeds; grpc ${gsrv.address}, http ${hsrv.address}; findings → ${OUT}`);
const t0 = performance.now();
let rndState = SEED >>> 0 || 1;
const rnd = (): number => ((rndState = (Math.imul(rndState, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const CHUNK = 500;
let done = 0;
let bytes = 0;
for (let chunk = 0; done < TOTAL; chunk++) {
  const cases = fc.sample(arb, { numRuns: Math.min(CHUNK, TOTAL - done), seed: SEED + chunk });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      bytes += c.body.length;
      await one(c, done + i);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  done += cases.length;
  if (chunk % 10 === 0) {
    await chaos(rnd);
    await probe();
  }
  if (chunk % 20 === 0) {
    const s = (performance.now() - t0) / 1000;
    console.log(`  ${done}/${TOTAL} in ${s.toFixed(0)} s (${(done / s).toFixed(0)}/s), ${findings.length} findings, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
  }
}
await probe();
const secs = (performance.now() - t0) / 1000;
await Promise.all([gsrv.close(2_000), hsrv.close(2_000)]);
grpcClient.close();
gzipClient.close();
agent.destroy();

const summary = {
  requests: done, seconds: Math.round(secs), perSecond: Math.round(done / secs), megabytes: Math.round(bytes / 2 ** 20), seed: SEED,
  direct: Object.fromEntries(stats.direct), grpc: Object.fromEntries(stats.grpc), http: Object.fromEntries(stats.http),
  chaosRounds: stats.chaos, probes: stats.probes, findings: findings.length, out: OUT,
};
fs.writeFileSync(path.join(OUT, 'summary.json'), JSON.stringify({ ...summary, findingList: findings }, null, 2));
console.log(JSON.stringify(summary, null, 2));
process.exitCode = findings.length > 0 ? 1 : 0;
