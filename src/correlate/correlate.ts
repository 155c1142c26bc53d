/**
 * The correlate stage as the service runs it: the rules the workers compiled, the stage (stage.ts) with
 * its wall-clock tick and snapshot timers, or, with `correlation.redis_url`, the shared stream and
 * leader (shared.ts). The pipeline hands it each request's matches and stores what fires.
 */
import path from 'node:path';
import type { Config } from '../config/schema.ts';
import type { CorrelationInput, CorrelationRule } from '../detect/correlation/types.ts';
import type { Detection } from '../detect/detection.ts';
import type { Logger } from '../telemetry/logger.ts';
import { SharedCorrelation } from './shared.ts';
import { CorrelationStage, type CorrelationStageOptions } from './stage.ts';

export interface Correlate {
  /**
   * A request's matches in. `fired` are the correlations they completed (store them with the request's
   * detections); `commit` makes the matches durable and must resolve before the request is answered.
   */
  accept(inputs: readonly CorrelationInput[], nowMs: number): Promise<{ fired: Detection[]; commit: () => Promise<void> }>;
  /** New rules (a reload): the state carries over, that of removed rules is dropped. */
  reload(rules: readonly CorrelationRule[]): Promise<void>;
  close(): Promise<void>;
}

/** Stores and alerts detections; resolves once they are durable. */
export type Emit = (detections: readonly Detection[]) => Promise<void>;

export async function startCorrelate(cfg: Readonly<Config>, rules: readonly CorrelationRule[], emit: Emit, log: Logger): Promise<Correlate> {
  const c = cfg.correlation;
  const base = (rs: readonly CorrelationRule[]): CorrelationStageOptions => ({
    rules: rs,
    latenessMs: c.lateness_ms,
    maxGroups: c.max_groups,
    maxGroupsPerRule: c.max_groups_per_rule,
    maxEventsPerGroup: c.max_events_per_group,
    logger: log,
  });
  if (rules.length > 0) log.info({ rules: rules.length, latenessMs: c.lateness_ms, shared: c.redis_url !== '' }, 'Correlation rules ready.');
  return c.redis_url !== '' ? startShared(cfg, rules, base, emit, log) : startLocal(cfg, rules, base, emit, log);
}

async function startLocal(cfg: Readonly<Config>, rules: readonly CorrelationRule[], base: (rs: readonly CorrelationRule[]) => CorrelationStageOptions, emit: Emit, log: Logger): Promise<Correlate> {
  const open = (rs: readonly CorrelationRule[]) => CorrelationStage.open({
    ...base(rs),
    dir: path.join(cfg.storage.data_dir, 'correlation'),
    snapshotIntervalMs: cfg.correlation.snapshot_interval_s * 1000,
    logMaxBytes: cfg.correlation.log_max_bytes,
  });
  let opened = open(rules);
  let stage = opened.stage;
  await emit(opened.replayed);

  // Correlations fired by the wall clock (idle groups) wait here if storing them failed, and are retried.
  let backlog: Detection[] = [];
  let ticking = false;
  const ticker = setInterval(() => {
    if (ticking) return;
    ticking = true;
    const s = stage;
    const now = Date.now();
    const fired = [...backlog, ...s.tick(now)];
    backlog = [];
    void emit(fired)
      .then(() => s.commit([], fired, now, true))
      .catch((err: unknown) => {
        backlog = fired;
        log.warn({ err }, 'Storing fired correlations failed; retrying.');
      })
      .finally(() => { ticking = false; });
  }, 1_000);
  ticker.unref();
  const snapshots = setInterval(() => {
    stage.snapshot().catch((err: unknown) => log.error({ err }, 'Writing the correlation snapshot failed; the correlation log keeps the state meanwhile.'));
  }, cfg.correlation.snapshot_interval_s * 1000);
  snapshots.unref();

  return {
    accept(inputs, nowMs) {
      const s = stage;
      const fired = inputs.length > 0 ? s.push(inputs, nowMs) : [];
      // Logged after the fired correlations are stored: see stage.ts.
      return Promise.resolve({ fired, commit: () => s.commit(inputs, fired, nowMs) });
    },
    async reload(rs) {
      await stage.close();
      opened = open(rs);
      stage = opened.stage;
      await emit(opened.replayed).catch((err: unknown) => log.error({ err }, 'Storing correlations fired while reopening the correlation state failed.'));
    },
    async close() {
      clearInterval(ticker);
      clearInterval(snapshots);
      await stage.close();
    },
  };
}

async function startShared(cfg: Readonly<Config>, rules: readonly CorrelationRule[], base: (rs: readonly CorrelationRule[]) => CorrelationStageOptions, emit: Emit, log: Logger): Promise<Correlate> {
  const open = (rs: readonly CorrelationRule[]) => new SharedCorrelation({
    url: cfg.correlation.redis_url,
    stage: () => CorrelationStage.open(base(rs)).stage,
    emit,
    leaseMs: cfg.correlation.leader_lease_ms,
    snapshotIntervalMs: cfg.correlation.snapshot_interval_s * 1000,
    connectTimeoutMs: cfg.storage.connect_timeout_s * 1000,
    logger: log,
  });
  let shared = open(rules);
  await shared.start();
  const none = (): Promise<void> => Promise.resolve();
  return {
    async accept(inputs, nowMs) {
      await shared.submit(inputs, nowMs);
      return { fired: [], commit: none };
    },
    async reload(rs) {
      await shared.close();
      shared = open(rs);
      await shared.start();
    },
    close: () => shared.close(),
  };
}
