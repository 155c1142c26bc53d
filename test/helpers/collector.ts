/**
 * The real OpenTelemetry Collector in tests: the pinned distribution that scripts/build-collector.sh builds
 * (test/collector/manifest.yaml) runs as a child process with a config the test writes. `.ci/run` builds it
 * first; here the script only looks the cached binary up (a missing one is built, which takes minutes).
 * OTELCOL_SIGMA_TEST_BIN overrides the binary.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { startGrpcServer } from '../../src/receive/grpc-server.ts';
import { forEachExportRecord } from '../../src/decode/export-request.ts';
import type { LogRecordView } from '../../src/decode/types.ts';
import type { RunningServer } from '../../src/receive/types.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { REPO_ROOT } from './corpus.ts';

const run = promisify(execFile);

let cached: string | undefined;
export function collectorBinary(): string {
  cached ??= process.env['OTELCOL_SIGMA_TEST_BIN']
    ?? execFileSync('bash', [path.join(REPO_ROOT, 'scripts/build-collector.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  return cached;
}

/** `otelcol validate`: exit code and what it printed. */
export async function validateCollectorConfig(file: string): Promise<{ code: number; output: string }> {
  try {
    const r = await run(collectorBinary(), ['validate', '--config', file]);
    return { code: 0, output: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

export interface Collector {
  readonly child: ChildProcess;
  /** Every line the collector logged (its console logs are on stderr). */
  readonly lines: string[];
  /** Lines so far that match `re`. */
  count(re: RegExp): number;
  /** Resolves once a logged line matches `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the collector on `configYaml` (written to `dir`) and waits until it reports being ready. */
export async function startCollector(dir: string, configYaml: string, opts: { env?: NodeJS.ProcessEnv; name?: string } = {}): Promise<Collector> {
  const file = path.join(dir, `${opts.name ?? 'otelcol'}.yaml`);
  // The collector's own metrics listen on localhost:8888 by default: off, so that collectors of tests
  // running side by side do not collide on the port.
  const cfg = parse(configYaml) as { service: { telemetry?: { metrics?: unknown } } };
  cfg.service.telemetry = { ...cfg.service.telemetry, metrics: cfg.service.telemetry?.metrics ?? { level: 'none' } };
  fs.writeFileSync(file, stringify(cfg));
  const child = spawn(collectorBinary(), ['--config', file], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onLine = (line: string): void => {
    lines.push(line);
    for (const w of [...waiters]) if (w.re.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
  };
  readline.createInterface({ input: child.stderr }).on('line', onLine);
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (re: RegExp, timeoutMs = 60_000): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`collector logged no line matching ${re} within ${timeoutMs} ms; last lines:\n${lines.slice(-8).join('\n')}`)), timeoutMs);
      waiters.push({ re, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      void exited.then((code) => { clearTimeout(timer); reject(new Error(`collector exited with ${code} before logging ${re}:\n${lines.slice(-8).join('\n')}`)); });
    });
  };
  await waitFor(/Everything is ready/);
  return {
    child, lines, waitFor,
    count: (re) => lines.filter((l) => re.test(l)).length,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** A loopback TCP port free right now (for a listener that must come back on the same address). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A second OTLP/gRPC destination (otel-sigma's own receiver, accepting everything) that keeps what it got. */
export interface OtlpSink {
  readonly address: string;
  readonly records: LogRecordView[];
  close(): Promise<void>;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  const records: LogRecordView[] = [];
  const srv: RunningServer = await startGrpcServer({
    listen: '127.0.0.1:0', maxRequestBytes: 64 << 20, logger: silentLogger,
    handler: (req) => {
      forEachExportRecord(req, 256 << 20, (r) => records.push(r));
      return Promise.resolve({ rejectedLogRecords: 0, errorMessage: '' });
    },
  });
  return { address: srv.address, records, close: () => srv.close(1000) };
}

/** Polls `check` every 200 ms until it returns true; throws with `what` after timeoutMs. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A collector that receives OTLP/gRPC on `endpoint` and spreads it over `replicas` (gRPC addresses) with the
 * load_balancing exporter, routed by the resource attribute host.name: every host's records reach one replica.
 */
export function loadBalancingConfig(endpoint: string, replicas: readonly string[], batchSize: number): string {
  return `
receivers:
  otlp:
    protocols: { grpc: { endpoint: ${endpoint} } }
processors:
  batch: { send_batch_size: ${batchSize}, timeout: 200ms }
exporters:
  load_balancing:
    routing_key: attributes
    routing_attributes: [host.name]
    protocol:
      otlp:
        tls: { insecure: true }
        retry_on_failure: { enabled: true, initial_interval: 200ms, max_interval: 2s }
    resolver:
      static: { hostnames: [${replicas.join(', ')}] }
service:
  pipelines:
    logs: { receivers: [otlp], processors: [batch], exporters: [load_balancing] }
`;
}
