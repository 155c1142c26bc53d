/**
 * The service, wired as the data flows:
 *   receive (gRPC / HTTP) → detect pool [decode → map → evaluate, in workers] → correlate (main thread, event time)
 *     → store (detection log → ClickHouse) → alert (Keep)
 * A request is acknowledged once its detections are durable in the detection log (ClickHouse inserts
 * run behind it) and its correlation inputs in the correlation log, so an acknowledged detection is
 * never lost; one without detections, once evaluated.
 */
import path from 'node:path';
import type { Config } from './config/schema.ts';
import type { SecurityOptions } from './config/tls.ts';
import { startMemoryLimiter } from './telemetry/memory-limiter.ts';
import type { RawExport } from './decode/export-request.ts';
import type { ExportOutcome } from './decode/export-response.ts';
import { DetectPool } from './detect/pool.ts';
import type { SigmaLevel } from './detect/types.ts';
import { ErrorCode, PipelineError } from './errors.ts';
import { AlertSender } from './alert/keep-sender.ts';
import { startGrpcServer } from './receive/grpc-server.ts';
import { startHttpServer } from './receive/http-server.ts';
import { waitUntilReachable, type ClickHouseHandle } from './store/client.ts';
import { createDetectionsRoute, DETECTIONS_PATH } from './receive/detections-route.ts';
import { COVERAGE_PATH, createCoverageRoute } from './receive/coverage-route.ts';
import { ServiceCoverage } from './telemetry/coverage.ts';
import { DetectionWriter } from './store/detection-writer.ts';
import { copyLegacyRows } from './store/migrate-v2.ts';
import { migrate } from './store/migrations.ts';
import type { Logger } from './telemetry/logger.ts';
import { metrics, startDefaultMetrics } from './telemetry/metrics.ts';
import { clickHouseFromConfig, workerConfigFrom } from './config/from-config.ts';
import type { RulesetSummary, WorkerConfig } from './detect/task.ts';
import type { Detection } from './detect/detection.ts';
import { startCorrelate } from './correlate/correlate.ts';

export interface Service {
  readonly grpcAddress: string;
  readonly httpAddress: string;
  /**
   * Loads the rules again and swaps in a new worker pool once it is warm; requests in flight finish on
   * the old pool. A ruleset that fails to load keeps the previous one; the promise says why.
   */
  reload(): Promise<{ ok: true; rules: number } | { ok: false; reason: string }>;
  /** Stops accepting, finishes queued work, flushes ClickHouse and Keep. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The compiled rules live only in the workers (each compiles its own copy while storage opens); the main
 * thread never compiles them, it logs what the workers report. Rejects with ERR_RULE_LOAD, before
 * anything listens, when no rule loads.
 */
export async function startService(cfg: Readonly<Config>, sec: SecurityOptions, log: Logger): Promise<Service> {
  startDefaultMetrics();

  // detect: the workers compile in the background while storage opens
  let pool = new DetectPool({ threads: cfg.workers.threads, maxQueue: cfg.workers.max_queue, worker: workerConfigFrom(cfg) });
  const compiled = pool.warmUp();
  compiled.catch(() => undefined); // awaited below; a failure must not surface as unhandled meanwhile
  const stopOnFailure: (() => Promise<void>)[] = [() => pool.close()];
  try {
    // store
    const ch: ClickHouseHandle = clickHouseFromConfig(cfg, sec);
    stopOnFailure.unshift(() => ch.close());
    // A ClickHouse server started beside us may not answer yet: wait for it (bounded) rather than exit.
    await waitUntilReachable(ch, { timeoutMs: cfg.storage.connect_timeout_s * 1000, logger: log });
    await migrate(ch.client, { database: cfg.storage.database, table: cfg.storage.table, ttlDays: cfg.storage.ttl_days, target: ch.target });
    const store = new DetectionWriter({
      client: ch.client,
      insertRows: ch.insertJsonRows,
      logger: log.child({ stage: 'store' }),
      database: cfg.storage.database,
      table: cfg.storage.table,
      batchRows: cfg.storage.batch_rows,
      insertIntervalMs: cfg.storage.insert_interval_ms,
      logDir: cfg.storage.log_dir !== '' ? cfg.storage.log_dir : path.join(cfg.storage.data_dir, 'detection-log'),
      maxLogBytes: cfg.storage.log_max_bytes,
      maxValueBytes: cfg.storage.max_value_bytes,
      storeBody: cfg.storage.store_body,
    });
    stopOnFailure.unshift(() => store.close());
    // Rows of the pre-v2 layout are copied while the service runs; a stop resumes it at the next start.
    const stopCopy = new AbortController();
    const copying = copyLegacyRows(ch.client, cfg.storage.database, cfg.storage.table, { logger: log.child({ stage: 'store' }), signal: stopCopy.signal })
      .catch((err: unknown) => log.error({ stage: 'store', err }, 'copying detections of the old layout failed; it resumes at the next start'));
    stopOnFailure.unshift(async () => { stopCopy.abort(); await copying; });

    // alert
    const alerts = new AlertSender({
      keepUrl: cfg.alerts.keep_url,
      apiKey: sec.keep.apiKey,
      ...(sec.keep.ca ? { keepCa: sec.keep.ca } : {}),
      minLevel: cfg.alerts.min_level as SigmaLevel,
      environment: cfg.alerts.environment,
      urlTemplate: cfg.alerts.url_template,
      groupBy: cfg.alerts.group_by,
      dedupWindowMs: cfg.alerts.dedup_window_s * 1000,
      maxPerWindow: cfg.alerts.max_per_minute,
      // Undelivered alerts wait on disk, so a Keep outage or a restart loses none.
      queueDir: path.join(cfg.storage.data_dir, 'alert-log'),
      queueMaxBytes: cfg.alerts.queue_max_bytes,
      ...(cfg.alerts.redis_url !== '' ? { redisUrl: cfg.alerts.redis_url, redisConnectTimeoutMs: cfg.storage.connect_timeout_s * 1000 } : {}),
      resolveAfterMs: cfg.alerts.resolve_after_s * 1000,
      maxQueue: 10_000,
      timeoutMs: 10_000,
      logger: log.child({ stage: 'alert' }),
    });
    await alerts.ready();
    stopOnFailure.unshift(() => alerts.close(5_000));

    const summary = await compiled;
    logRulesetSummary(log, summary);
    if (summary.loaded === 0) {
      throw new PipelineError(ErrorCode.RULE_LOAD, `no rules loaded (${summary.rejected} rejected) from ${cfg.rules.paths.join(', ') || 'no paths'}; nothing to detect. Check --rules.`, false);
    }
    // coverage: rules per logsource (from the workers), events counted per logsource, kept in the data directory
    const coverage = new ServiceCoverage({ dataDir: cfg.storage.data_dir, mappingFiles: cfg.rules.mapping_files, logger: log }, summary.coverage);
    stopOnFailure.unshift(() => coverage.close());
    coverage.logFamilies();
    let activeRules = summary.loaded;
    metrics.rulesLoaded.set(activeRules);
    const idleRssMib = Math.round(process.memoryUsage.rss() / 2 ** 20);
    log.info({ threads: pool.threads, maxQueue: pool.maxQueue, rules: activeRules, heapPerWorkerMib: summary.workerHeapMb, sharedMib: summary.sharedMib, rssMib: idleRssMib },
      `Detection workers ready: the ruleset takes ${summary.workerHeapMb ?? '?'} MiB in each of ${pool.threads} workers plus ${summary.sharedMib ?? 0} MiB of automata shared by all; ${idleRssMib} MiB resident at idle.`);
    const containerMib = containerMemoryMib(process.constrainedMemory());
    const configuredMib = cfg.receiver.memory_limit_mib;
    const memoryLimitMib = effectiveMemoryLimitMib(configuredMib, idleRssMib, containerMib);
    const idleFloor = idleFloorMib(idleRssMib);
    if (configuredMib !== 0 && memoryLimitMib < Math.max(configuredMib, idleFloor)) {
      log.warn({ configuredMib, containerMib, idleRssMib, effectiveMib: memoryLimitMib },
        `receiver.memory_limit_mib (${configuredMib}${configuredMib < idleFloor ? `, raised to ${idleFloor} for what otel-sigma holds at idle` : ''}) is above what the container allows (${containerMib} MiB): ` +
        `the kernel would kill otel-sigma before it pushed back. Using ${memoryLimitMib} MiB` +
        (memoryLimitMib < idleFloor ? `, which leaves little room above what it holds at idle with ${pool.threads} workers (${idleRssMib} MiB); set workers.threads lower or give the container more memory.` : '.'));
    } else if (memoryLimitMib > configuredMib) {
      log.warn({ configuredMib, idleRssMib, effectiveMib: memoryLimitMib },
        `receiver.memory_limit_mib (${configuredMib}) is below what otel-sigma holds at idle with ${pool.threads} workers (${idleRssMib} MiB): ` +
        `it would refuse all but one request at a time. Using ${memoryLimitMib} MiB; set workers.threads lower or the limit higher to choose.`);
    }

    // correlate: one stage per process (state in the data directory), or one per replica set through Redis
    /** Stores and alerts detections; resolves once they are durable. */
    const storeAndAlert = async (detections: readonly Detection[]): Promise<void> => {
      if (detections.length === 0) return;
      countDetections(detections);
      await store.write(detections);
      for (const d of detections) alerts.send(d);
    };
    const correlate = await startCorrelate(cfg, summary.correlations, storeAndAlert, log.child({ stage: 'correlate' }));
    stopOnFailure.unshift(() => correlate.close());

    let closing = false;
    const memory = startMemoryLimiter(memoryLimitMib * 1024 * 1024, 100, (used, limit) => {
      // Dying is the only option left: exit so a supervisor restarts us (acknowledged data is in the durable logs).
      log.fatal({ code: ErrorCode.INTERNAL, heapUsedMb: Math.round(used / 2 ** 20), heapLimitMb: Math.round(limit / 2 ** 20) }, 'The main thread is out of heap; exiting (70) so a supervisor restarts otel-sigma.');
      process.exit(70);
    });
    stopOnFailure.unshift(() => Promise.resolve(memory.stop()));
    const handle = async (raw: RawExport & { transport: 'grpc' | 'http' }): Promise<ExportOutcome> => {
      if (closing) throw new PipelineError(ErrorCode.SHUTTING_DOWN, 'otel-sigma is shutting down; retry against another instance', true, { retryAfterSeconds: 5 });
      const release = memory.admit(raw.body.byteLength, raw.encoding !== 'identity');
      if (!release) {
        throw new PipelineError(ErrorCode.BACKPRESSURE, `memory limit (receiver.memory_limit_mib, in effect ${memoryLimitMib}) reached; retry later`, true, { retryAfterSeconds: 1 });
      }
      try {
        return await detectStoreAlert(raw);
      } finally {
        release();
      }
    };
    // decode → map → evaluate (worker) → store → alert
    const detectStoreAlert = async (raw: RawExport): Promise<ExportOutcome> => {
      const receivedAt = performance.now();
      const result = await pool.run({ body: raw.body, format: raw.format, encoding: raw.encoding, receivedAtMs: Date.now() });
      // Counted once, by the receiver that answers the request (receive/accounting.ts), like every refused request.
      if (!result.ok) throw new PipelineError(result.code, result.message, result.retryable);
      coverage.counters.add(result.routed);
      metrics.recordsReceived.inc(result.stats.records);
      metrics.recordsProcessed.inc(result.stats.records - result.rejected);
      metrics.rulesEvaluated.inc(result.stats.ruleEvaluations);
      if (result.rejected > 0) metrics.recordsRejected.inc(result.rejected);
      if (result.stats.detectionsDropped > 0) metrics.detectionsDropped.inc(result.stats.detectionsDropped);
      const { fired, commit } = await correlate.accept(result.correlationInputs, Date.now());
      await storeAndAlert(fired.length > 0 ? [...result.detections, ...fired] : result.detections);
      await commit();
      metrics.storeDurableSeconds.observe((performance.now() - receivedAt) / 1000);
      return { rejectedLogRecords: result.rejected, errorMessage: result.errorMessage };
    };

    let storageUp = true;
    const probe = setInterval(() => {
      void ch.ping().then((ok) => { storageUp = ok; });
    }, 5_000);
    probe.unref();
    const health = {
      live: () => true,
      ready: () => {
        const reasons: string[] = [];
        if (closing) reasons.push('shutting down');
        if (activeRules === 0) reasons.push('no rules loaded');
        if (!storageUp) reasons.push('ClickHouse unreachable');
        if (!store.healthy) reasons.push(`ClickHouse refuses inserts or the detection log is nearly full (${store.backlog} batches waiting)`);
        return { ready: reasons.length === 0, reasons };
      },
    };

    // receive
    const { tls, auth } = sec.receiver;
    const grpc = await startGrpcServer({ listen: cfg.receiver.grpc_listen, maxRequestBytes: cfg.receiver.max_request_bytes, maxConnections: cfg.receiver.max_connections, handler: handle, logger: log.child({ stage: 'receive', transport: 'grpc' }), ...(tls ? { tls } : {}), ...(auth ? { auth } : {}) });
    stopOnFailure.unshift(() => grpc.close(0));
    // GET /api/v1/detections: read while running (the embedded store is locked to this process)
    const detectionsRoute = createDetectionsRoute({ client: ch.client, database: cfg.storage.database, table: cfg.storage.table, logger: log.child({ stage: 'store' }) });
    const http = await startHttpServer({ listen: cfg.receiver.http_listen, maxRequestBytes: cfg.receiver.max_request_bytes, maxConnections: cfg.receiver.max_connections, handler: handle, health, logger: log.child({ stage: 'receive', transport: 'http' }), extraRoutes: new Map([[DETECTIONS_PATH, detectionsRoute], [COVERAGE_PATH, createCoverageRoute(() => coverage.report())]]), ...(tls ? { tls } : {}), ...(auth ? { auth } : {}) });

    let reloading: Promise<{ ok: true; rules: number } | { ok: false; reason: string }> | undefined;
    const reload = async (): Promise<{ ok: true; rules: number } | { ok: false; reason: string }> => {
      let worker: WorkerConfig;
      try {
        worker = workerConfigFrom(cfg); // re-reads the logsource mapping files, which may have changed too
      } catch (err) {
        return { ok: false, reason: (err as Error).message };
      }
      const fresh = new DetectPool({ threads: cfg.workers.threads, maxQueue: cfg.workers.max_queue, worker });
      let next: RulesetSummary;
      try {
        next = await fresh.warmUp();
      } catch (err) {
        await fresh.close().catch(() => undefined);
        return { ok: false, reason: (err as Error).message };
      }
      if (next.loaded === 0) {
        await fresh.close().catch(() => undefined);
        return { ok: false, reason: `no rule loaded (${next.rejected} rejected); keeping the previous ${activeRules} rules` };
      }
      if (closing) {
        await fresh.close();
        return { ok: false, reason: 'shutting down' };
      }
      const old = pool;
      pool = fresh;
      activeRules = next.loaded;
      await correlate.reload(next.correlations);
      metrics.rulesLoaded.set(next.loaded);
      await old.close(); // finishes what was already queued on it
      logRulesetSummary(log, next);
      coverage.setRules(next.coverage);
      coverage.logFamilies();
      return { ok: true, rules: next.loaded };
    };

    let closed: Promise<void> | undefined;
    return {
      grpcAddress: grpc.address,
      httpAddress: http.address,
      reload: () => (reloading ??= reload().finally(() => { reloading = undefined; })),
      close: () => (closed ??= (async () => {
        closing = true;
        clearInterval(probe);
        memory.stop();
        const grace = Math.max(1_000, cfg.shutdown_timeout_ms - 5_000);
        await Promise.all([grpc.close(grace), http.close(grace)]);
        await reloading?.catch(() => undefined);
        await pool.close();
        await coverage.close(); // every result is counted: save the counters
        await correlate.close();
        stopCopy.abort();
        await copying;
        await store.close(Math.min(10_000, cfg.shutdown_timeout_ms / 4));
        await alerts.close(Math.min(5_000, cfg.shutdown_timeout_ms / 4));
        await ch.close();
      })()),
    };
  } catch (err) {
    for (const stop of stopOnFailure) await stop().catch(() => undefined);
    throw err;
  }
}

/**
 * The memory limit in effect: the configured one, raised when it does not leave room above what the service
 * holds at idle (its soft limit is 80 %: below idle + a quarter + 512 MiB, a 16-core default start answered
 * 429 to 15 of 16 requests with nothing happening), and held under `containerMib` whatever else: past the
 * container's limit the kernel kills the process before its back-pressure starts. 0 stays 0 (no limit).
 */
export function effectiveMemoryLimitMib(configuredMib: number, idleRssMib: number, containerMib = Infinity): number {
  if (configuredMib === 0) return 0;
  return Math.min(Math.max(configuredMib, idleFloorMib(idleRssMib)), containerMib);
}

/** The least limit that leaves room above what the service holds at idle: idle + a quarter + 512 MiB. */
export function idleFloorMib(idleRssMib: number): number {
  return Math.ceil(idleRssMib * 1.25) + 512;
}

/**
 * 90 % of the memory the process may use under its cgroup (process.constrainedMemory()), MiB; Infinity when
 * unconstrained (Node reports 0, or 2^64 for cgroup v2's `max`). The other 10 % is room for what grows between
 * the limiter's samples and for what the cgroup counts beyond RSS (kernel memory, the data directory's dirty pages).
 */
export function containerMemoryMib(constrainedBytes: number): number {
  if (!(constrainedBytes > 0) || constrainedBytes >= 2 ** 53) return Infinity;
  return Math.floor((constrainedBytes * 0.9) / 2 ** 20);
}

/** Every rule problem the workers reported (the first 50), then the counts. */
function logRulesetSummary(log: Logger, s: RulesetSummary): void {
  for (const p of s.errors) log.warn({ stage: 'rules', file: p.file, line: p.line, code: ErrorCode.RULE_LOAD }, p.reason);
  if (s.errorCount > s.errors.length) log.warn({ stage: 'rules' }, `${s.errorCount - s.errors.length} more rule problems; run "otel-sigma rules check" to see them all.`);
  log.info({ stage: 'rules', loaded: s.loaded, rejected: s.rejected, skipped: s.skipped, ms: s.compileMs }, 'Rules loaded.');
}

/** otel_sigma_detections_total, one increment per rule rather than per detection (a request of attack traffic carries thousands). */
function countDetections(detections: readonly Detection[]): void {
  const byRule = new Map<string, { level: string; n: number }>();
  for (const d of detections) {
    const c = byRule.get(d.ruleId);
    if (c === undefined) byRule.set(d.ruleId, { level: d.ruleLevel, n: 1 });
    else c.n++;
  }
  for (const [rule_id, { level, n }] of byRule) metrics.detections.inc({ rule_id, level }, n);
}
