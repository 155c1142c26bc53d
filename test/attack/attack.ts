/**
 * `npm run attack` (not in the CI suite): issue 17's hostile patterns, each for a bounded time against a
 * real `serve` with the whole SigmaHQ ruleset on defaults (2 workers, memory_limit_mib 2048, 64 MiB
 * requests), while a healthy client sends a collector's traffic (4 gzip gRPC batches of 100 records a
 * second, 10 s timeout). Per pattern: whether the process is alive and answering /healthz, its peak RSS,
 * the healthy client's p99 and errors, and the healthy detections acknowledged but not stored (read from
 * the table once the service has drained and stopped; must be 0). Exits 1 when a check fails.
 *
 *   npm run attack [-- --seconds 20] [-- --only 5,6]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openClickHouse } from '../../src/store/client.ts';
import { formatEpochNs } from '../../src/store/detection-row.ts';
import { RULE_TREES, SIGMA_DIR } from '../bench/corpus.ts';
import { rssMb } from '../bench/grpc-load.ts';
import { httpGet } from '../helpers/otlp-clients.ts';
import { startServe, type ServiceProcess } from '../helpers/service-process.ts';
import { PATTERNS, type Pattern } from './patterns.ts';
import { HealthyRequests, healthyCase, p99, runHealthy, type HealthyResult } from './traffic.ts';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, only: { type: 'string' } } });
const SECONDS = Number(args.seconds);
const only = args.only?.split(',');
const say = (s: string): void => void process.stdout.write(`${s}\n`);

if (!fs.existsSync(path.join(SIGMA_DIR, 'regression', 'manifest.json'))) {
  process.stderr.write(`attack: ${SIGMA_DIR} is absent; the run needs the SigmaHQ rules and regression corpus\n`);
  process.exit(2);
}

interface Row {
  readonly p: Pattern;
  readonly alive: boolean;
  readonly peakRssMb: number;
  readonly healthy: HealthyResult;
  readonly note: string;
}

async function alive(svc: ServiceProcess): Promise<boolean> {
  if (svc.child.exitCode !== null) return false;
  const r = await fetch(`http://${svc.http}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
  return r?.status === 200;
}

async function drained(http: string, timeoutMs: number): Promise<boolean> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    const text = (await httpGet(http, '/metrics')).body.toString();
    if (/^otel_sigma_wal_records\{log="detections"\} 0$/m.test(text)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-attack-'));
const dataDir = path.join(tmp, 'data');
const serveArgs = [...RULE_TREES.flatMap((t) => ['--rules', t]), '--data-dir', dataDir];
const { c, hit } = healthyCase();
const healthyRequests = new HealthyRequests(hit);
const rows: Row[] = [];
let svc = await startServe(serveArgs, { timeoutMs: 240_000 });
const limit = Number(svc.logs.find((l) => l['effectiveMib'] !== undefined)?.['effectiveMib'] ?? 2048);
say(`serve: ${RULE_TREES.length} SigmaHQ rule trees, defaults; memory_limit_mib in effect ${limit}; idle RSS ${rssMb(svc.child.pid!).toFixed(0)} MiB; ${SECONDS} s per pattern`);

try {
  for (const p of PATTERNS) {
    if (only !== undefined && !only.includes(p.item)) continue;
    if (!(await alive(svc))) {
      say('serve is not answering: restarting it on the same data directory');
      if (svc.child.exitCode === null) svc.child.kill('SIGKILL');
      await svc.stop();
      svc = await startServe(serveArgs, { timeoutMs: 240_000 });
    }
    const pid = svc.child.pid!;
    let peak = rssMb(pid);
    const sampler = setInterval(() => { peak = Math.max(peak, rssMb(pid) || 0); }, 250);
    const healthy = runHealthy(svc.grpc, healthyRequests, 4);
    const until = Date.now() + SECONDS * 1000;
    let note: string;
    try {
      note = await p.run({ grpc: svc.grpc, http: svc.http, tmp, hit, healthy: healthyRequests }, until);
    } catch (err) {
      note = `pattern failed: ${(err as Error).message}`;
    }
    const h = await healthy.stop();
    clearInterval(sampler);
    const up = await alive(svc);
    rows.push({ p, alive: up, peakRssMb: peak, healthy: h, note });
    say(`item ${p.item}: ${p.name}\n  alive ${up ? 'yes' : 'NO'}, peak RSS ${peak.toFixed(0)} MiB, healthy ${h.acked.length}/${h.sent} acknowledged, p99 ${p99(h.latencies).toFixed(0)} ms, errors ${JSON.stringify(Object.fromEntries(h.errors))}\n  ${note}`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
  say(`waiting for the detection log to drain into ClickHouse…`);
  say((await drained(svc.http, 300_000)) ? 'drained' : 'NOT drained within 300 s');
} finally {
  await svc.stop();
}

// serve is gone: its embedded ClickHouse directory is free to read.
const ch = openClickHouse({ dataDir });
let failed = false;
try {
  const rs = await ch.client.query({ query: 'SELECT DISTINCT toString(event_time) AS t FROM otel_sigma.detections WHERE rule_id = {id:String}', query_params: { id: c.rule_id }, format: 'JSONEachRow' });
  const stored = new Set((await rs.json<{ t: string }>()).map((r) => r.t));
  const parts = await ch.client.query({ query: "SELECT table, count() AS n FROM system.parts WHERE database = 'otel_sigma' AND active GROUP BY table ORDER BY table", format: 'JSONEachRow' });
  say(`\nactive parts: ${JSON.stringify(await parts.json())}`);
  say(`\n| item | alive | peak RSS MiB | healthy acked/sent | healthy p99 ms | healthy errors | acked detections lost |`);
  say('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const lost = r.healthy.acked.filter((i) => !stored.has(formatEpochNs(String(healthyRequests.timeOf(i))))).length;
    const rssOk = r.peakRssMb < limit;
    const p = p99(r.healthy.latencies);
    if (!r.alive || lost > 0 || !rssOk || !(p < 2_000)) failed = true;
    say(`| ${r.p.item} | ${r.alive ? 'yes' : 'NO'} | ${r.peakRssMb.toFixed(0)}${rssOk ? '' : ' (over the limit)'} | ${r.healthy.acked.length}/${r.healthy.sent} | ${p.toFixed(0)} | ${JSON.stringify(Object.fromEntries(r.healthy.errors))} | ${lost} |`);
  }
} finally {
  await ch.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
