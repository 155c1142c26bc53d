/**
 * `otel-sigma hunt [--since 24h | --from T --to T] [--follow] [--sql] [--alert] ...`: runs the rules
 * over logs SigNoz already stored in ClickHouse and writes detections marked `source = 'hunt'`.
 */
import path from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { securityFromConfig, type SecurityOptions } from '../config/tls.ts';
import { AlertSender } from '../alert/keep-sender.ts';
import { convertRuleFiles, countsText, huntFilter } from '../convert/convert.ts';
import { probePrefilter } from '../convert/probe.ts';
import { findRuleFiles } from '../detect/rules/load.ts';
import { rulesHash } from '../hunt/evaluate.ts';
import { poolEvaluator, type PoolEvaluator } from '../hunt/evaluators.ts';
import { chooseFilter, type FilterMode } from '../hunt/filter-choice.ts';
import type { LogsourceMapping } from '../map/types.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Detection } from '../detect/detection.ts';
import { readCheckpoint } from '../hunt/checkpoint.ts';
import { followHunt } from '../hunt/follow.ts';
import { runHunt } from '../hunt/hunt.ts';
import { terminalProgress } from '../hunt/progress.ts';
import { bodyLayout, huntFingerprints, huntFingerprintsSince, tableExists } from '../hunt/reader.ts';
import { DetectionWriter } from '../store/detection-writer.ts';
import { migrate } from '../store/migrations.ts';
import { createLogger } from '../telemetry/logger.ts';
import { parseDuration } from './detections.ts';
import { clickHouseFromConfig, mappingFromConfig, rulesetFromConfig, workerConfigFrom } from '../config/from-config.ts';

export interface HuntCliOptions {
  readonly since?: string;
  readonly from?: string;
  readonly to?: string;
  readonly signozTable: string;
  readonly pageSize: string;
  readonly checkpoint?: string;
  readonly resume?: boolean;
  readonly follow?: boolean;
  readonly interval: string;
  readonly lookback: string;
  /** true: --sql, false: --no-sql, undefined: decide on a sample. */
  readonly sql?: boolean;
  readonly alert?: boolean;
}

/** An ISO date-time or a duration back from now (e.g. 2h) → ns since the epoch. */
export function timeArg(name: string, v: string, nowMs: number): bigint {
  if (/^\d+\s*[smhdw]$/.test(v.trim())) return BigInt(nowMs - parseDuration(v) * 1000) * 1_000_000n;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new Error(`--${name}: got "${v}"; expected an ISO date-time (2026-01-31T12:00:00Z) or a duration back from now (30m, 24h, 7d)`);
  return BigInt(ms) * 1_000_000n;
}

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: got "${v}"; expected a positive integer`);
  return n;
}

export async function runHuntCommand(o: HuntCliOptions, configFile: string | undefined, flags: Record<string, string | string[] | undefined>): Promise<number> {
  const cfg: Config = loadConfig({ file: configFile, env: process.env, flags });
  const sec: SecurityOptions = securityFromConfig(cfg);
  const log = createLogger(cfg.logging.level);
  const now = Date.now();
  if (o.since !== undefined && (o.from !== undefined || o.to !== undefined)) throw new Error('use either --since or --from/--to');
  const checkpointFile = o.checkpoint ?? path.join(cfg.storage.data_dir, 'hunt-checkpoint.json');
  // --resume without a range continues the recorded one ("now" and "24h ago" have moved since).
  const saved = o.resume === true && o.follow !== true ? readCheckpoint(checkpointFile) : undefined;
  const rangeGiven = o.since !== undefined || o.from !== undefined;
  const fromNs = o.from !== undefined ? timeArg('from', o.from, now) : !rangeGiven && saved ? BigInt(saved.params.fromNs) : timeArg('since', o.since ?? '24h', now);
  const toNs = o.to !== undefined ? timeArg('to', o.to, now) : saved && (o.since === undefined) ? BigInt(saved.params.toNs) : BigInt(now) * 1_000_000n;
  const pageSize = positiveInt('page-size', o.pageSize);

  const mapping = mappingFromConfig(cfg);
  // The workers compile the ruleset in their threads while this one converts it to SQL and asks ClickHouse.
  const pending = o.follow === true ? undefined : poolEvaluator(workerConfigFrom(cfg, mapping), cfg.workers.threads);
  pending?.catch(() => undefined); // awaited below; an error before that point closes it there
  try {
    return await hunt(o, cfg, sec, log, mapping, checkpointFile, fromNs, toNs, pageSize, pending);
  } finally {
    // Said, not thrown: an error here must not take the place of the hunt's own.
    if (pending !== undefined) {
      await pending.then((e) => e.close(), () => undefined)
        .catch((err: unknown) => { process.stderr.write(`closing the detection workers failed: ${err instanceof Error ? err.message : String(err)}\n`); });
    }
  }
}

async function hunt(o: HuntCliOptions, cfg: Config, sec: SecurityOptions, log: Logger, mapping: LogsourceMapping, checkpointFile: string, fromNs: bigint, toNs: bigint, pageSize: number,
  pending: Promise<PoolEvaluator> | undefined): Promise<number> {
  // The rules as SQL: ClickHouse can return only the rows some rule's condition accepts (each rule narrows
  // its own part; the engine still decides on every row returned).
  const converted = convertRuleFiles(findRuleFiles(cfg.rules.paths, []), mapping, cfg.rules.placeholders);
  if (converted.length === 0) throw new Error('no rules found; check --rules');
  const ch = clickHouseFromConfig(cfg, sec, 300_000);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let alerts: AlertSender | undefined;
  try {
    mkdirSync(cfg.storage.data_dir, { recursive: true });
    if (!(await tableExists(ch.client, o.signozTable))) throw noSignozTable(o.signozTable, ch.embedded, ch.target);
    const layout = await bodyLayout(ch.client, o.signozTable);
    const filter = huntFilter(converted, layout);
    let prefilter = { with: filter.with, where: filter.hit === '1' ? '' : filter.hit };
    process.stderr.write(`rules as SQL: ${countsText(filter.counts)}\n`);
    const mode: FilterMode = o.sql === true ? 'on' : o.sql === false ? 'off' : 'auto';
    if (o.follow !== true) {
      // --resume keeps the choice the checkpoint recorded (it decides which rows the pages hold).
      const saved = o.resume === true ? readCheckpoint(checkpointFile) : undefined;
      const choice = saved !== undefined && mode === 'auto'
        ? { use: saved.params.where !== '', reason: `SQL filter ${saved.params.where !== '' ? 'on' : 'off'}, as in the checkpoint` }
        : await chooseFilter(mode, { client: ch.client, table: o.signozTable, fromNs, toNs, with: prefilter.with, where: prefilter.where }).catch((e: unknown) => ({ use: false, reason: `SQL filter off: ClickHouse refused it (${String((e as Error).message ?? e).split('\n')[0]!})` }));
      process.stderr.write(`${choice.reason}\n`);
      if (!choice.use) prefilter = { with: '', where: '' };
    } else if (mode === 'off') {
      prefilter = { with: '', where: '' };
    }
    // Only a filter in use is probed: three plans of the whole ruleset's conditions take seconds.
    const bad = await probePrefilter(ch.client, prefilter);
    if (bad !== undefined) {
      process.stderr.write(`prefilter: ClickHouse refused it (${bad.split('\n')[0]!}); hunting without it\n`);
      prefilter = { with: '', where: '' };
    }
    await migrate(ch.client, { database: cfg.storage.database, table: cfg.storage.table, ttlDays: cfg.storage.ttl_days });
    // Its own detection log (serve may hold <data_dir>/detection-log): a checkpoint follows detections
    // that are durable in it, and a hunt that stops leaves the rest there for the next run to insert.
    const writer = new DetectionWriter({
      client: ch.client,
      logger: log.child({ stage: 'store' }),
      database: cfg.storage.database,
      table: cfg.storage.table,
      logDir: path.join(cfg.storage.data_dir, 'hunt-detection-log'),
      maxLogBytes: cfg.storage.log_max_bytes,
      batchRows: cfg.storage.batch_rows,
      insertIntervalMs: cfg.storage.insert_interval_ms,
      maxValueBytes: cfg.storage.max_value_bytes,
      storeBody: cfg.storage.store_body,
      insertRows: ch.insertJsonRows,
    });
    if (o.alert === true) {
      alerts = new AlertSender({
        keepUrl: cfg.alerts.keep_url,
        apiKey: sec.keep.apiKey,
        minLevel: cfg.alerts.min_level as Parameters<typeof AlertSender.prototype.send>[0]['ruleLevel'],
        environment: cfg.alerts.environment,
        urlTemplate: cfg.alerts.url_template,
        maxQueue: 10_000,
        timeoutMs: 10_000,
        logger: log.child({ stage: 'alert' }),
      });
    }
    const sender = alerts;
    const onStored = sender ? (ds: readonly Detection[]): void => { for (const d of ds) sender.send(d); } : undefined;
    const common = { client: ch.client, table: o.signozTable, where: prefilter.where, with: prefilter.with, pageSize, sink: writer, signal: stop.signal, ...(onStored ? { onStored } : {}) };
    const detectionsTable = `${cfg.storage.database}.${cfg.storage.table}`;
    try {
      if (o.follow === true) {
        const ruleset = rulesetFromConfig(cfg, mapping);
        process.stderr.write(`${ruleset.loaded} rules loaded, ${ruleset.rejected} rejected\n`);
        const lookbackNs = BigInt(parseDuration(o.lookback)) * 1_000_000_000n;
        const followFile = o.checkpoint ?? path.join(cfg.storage.data_dir, 'hunt-follow.json');
        const start = o.resume === true ? followStart(followFile, lookbackNs) ?? fromNs : fromNs;
        const s = await followHunt({
          ...common,
          ruleset,
          mapping,
          fromNs: start,
          intervalMs: parseDuration(o.interval) * 1000,
          lookbackNs,
          storedFingerprints: (since) => huntFingerprints(ch.client, detectionsTable, since),
          onPoll: (st) => writeFileSync(followFile, `${JSON.stringify({ follow: true, watermarkNs: String(st.watermarkNs) })}\n`),
        });
        process.stderr.write(`hunt --follow stopped: ${s.rows} records, ${s.detections} detections, ${s.polls} polls\n`);
      } else {
        const evaluator = await pending!;
        process.stderr.write(`${evaluator.summary.loaded} rules loaded, ${evaluator.summary.rejected} rejected, ${evaluator.parallelism} worker${evaluator.parallelism === 1 ? '' : 's'}\n`);
        if (evaluator.summary.loaded === 0) {
          throw new Error('no rules loaded; check --rules');
        }
        const r = await runHunt({
          ...common,
          evaluator,
          rulesHash: rulesHash(converted),
          layout,
          fromNs,
          toNs,
          progress: terminalProgress(),
          checkpointFile,
          resume: o.resume === true,
          storedFingerprints: (eventSinceNs, detectedSinceMs) => huntFingerprintsSince(ch.client, detectionsTable, eventSinceNs, detectedSinceMs),
        });
        const rate = r.elapsedMs > 0 ? Math.round((r.rows / r.elapsedMs) * 1000) : 0;
        process.stderr.write(`${r.complete ? 'hunt done' : 'hunt interrupted (continue with --resume)'}: ${r.rows} records, ${r.detections} detections, ${r.rulesMatched} rules matched, ${rate} records/s; rules as SQL: ${countsText(filter.counts)}\n`);
        if (r.unevaluated > 0) process.stderr.write(`${r.unevaluated} records could not be evaluated (a body_v2 value otel-sigma cannot read, or an engine error)\n`);
        if (!r.complete) return 130;
      }
    } finally {
      // A hunt's result is what is in the table: wait for the log to drain (what ClickHouse does not
      // take within 10 minutes stays in the log and is inserted by the next hunt).
      await writer.close(600_000);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await alerts?.close(5_000);
    await ch.close();
  }
}

/** hunt reads what SigNoz stored; say so when the ClickHouse it was pointed at has no such table. */
function noSignozTable(table: string, embedded: boolean, target: string): Error {
  if (embedded) {
    return new Error(`no SigNoz logs table exists in the ${target}: ${table} is where SigNoz's ClickHouse keeps its logs, and hunt reads them from there. ` +
      'Point hunt at SigNoz\'s ClickHouse with --clickhouse-url http://HOST:8123 (storage.clickhouse_url; add --clickhouse-user/--clickhouse-password if it needs them), ' +
      'or name the table that holds the logs with --signoz-table DB.TABLE.');
  }
  return new Error(`ClickHouse at ${target} has no table ${table}: is it the ClickHouse SigNoz writes its logs to? Name the logs table with --signoz-table DB.TABLE.`);
}

/** `--follow --resume`: continue `lookback` behind the watermark the last run recorded. */
function followStart(file: string, lookbackNs: bigint): bigint | undefined {
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { watermarkNs?: string };
    return saved.watermarkNs !== undefined ? BigInt(saved.watermarkNs) - lookbackNs : undefined;
  } catch {
    return undefined;
  }
}
