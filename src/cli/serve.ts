/** `otel-sigma serve`: validate everything, then listen; after that, never exit except on a signal. */
import { loadConfig, redactConfig } from '../config/load.ts';
import { securityFromConfig } from '../config/tls.ts';
import { ErrorCode, isPipelineError } from '../errors.ts';
import { startService } from '../pipeline.ts';
import { createLogger } from '../telemetry/logger.ts';
import { watchRules } from '../detect/rule-watch.ts';
import { assertRulePaths } from '../config/rule-paths.ts';
import { removeServeInfo, writeServeInfo } from './serve-info.ts';

export async function runServe(configFile: string | undefined, flags: Record<string, string | string[] | undefined>): Promise<number> {
  let log = createLogger();
  let cfg;
  let sec;
  try {
    cfg = loadConfig({ file: configFile, env: process.env, flags });
    sec = securityFromConfig(cfg);
    assertRulePaths(cfg.rules.paths);
  } catch (err) {
    log.fatal({ code: isPipelineError(err) ? err.code : 'ERR_CONFIG' }, (err as Error).message);
    return 2;
  }
  log = createLogger(cfg.logging.level);
  log.info({ config: redactConfig(cfg) }, 'Configuration loaded.');

  let service;
  try {
    service = await startService(cfg, sec, log);
  } catch (err) {
    const code = isPipelineError(err) ? err.code : 'ERR_INTERNAL';
    log.fatal({ code, err }, `Cannot start: ${(err as Error).message}`);
    // A ruleset that loads nothing is a configuration problem, like a bad key: exit 2.
    return code === ErrorCode.RULE_LOAD ? 2 : 1;
  }
  log.info({ grpc: service.grpcAddress, http: service.httpAddress }, 'otel-sigma is listening.');
  // How `otel-sigma detections` finds this process when the embedded data directory is locked by it.
  const dataDir = cfg.storage.data_dir;
  try {
    writeServeInfo(dataDir, {
      pid: process.pid,
      http: service.httpAddress,
      tls: sec.receiver.tls !== undefined,
      mtls: sec.receiver.tls?.clientCa !== undefined,
      auth: sec.receiver.auth !== undefined,
      database: cfg.storage.database,
      table: cfg.storage.table,
      startedAt: new Date().toISOString(),
    });
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'Cannot write serve.json into the data directory; `otel-sigma detections` will not find this process.');
  }

  const svc = service;
  const reload = (why: string): void => {
    try {
      assertRulePaths(cfg.rules.paths);
    } catch (err) {
      log.error({ stage: 'rules', why, code: 'ERR_RULE_LOAD' }, `Reload refused, keeping the previous ruleset: ${(err as Error).message}`);
      return;
    }
    void svc.reload().then((r) => {
      if (r.ok) log.info({ stage: 'rules', why, rules: r.rules }, 'Ruleset reloaded.');
      else log.error({ stage: 'rules', why, code: 'ERR_RULE_LOAD' }, `Reload failed, keeping the previous ruleset: ${r.reason}`);
    });
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  const unwatch = watchRules(cfg.rules.paths, 1_000, () => reload('rule files changed'), log);
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      unwatch();
      try {
        removeServeInfo(dataDir);
      } catch {
        // Best effort: a stale file names a dead pid, which readers ignore.
      }
      log.info({ signal }, 'Shutting down: finishing queued work and flushing.');
      const deadline = setTimeout(() => {
        log.error({ timeoutMs: cfg.shutdown_timeout_ms }, 'Shutdown deadline passed; exiting.');
        resolve(1);
      }, cfg.shutdown_timeout_ms);
      deadline.unref();
      svc.close().then(() => {
        clearTimeout(deadline);
        log.info('Stopped.');
        resolve(0);
      }, (err: unknown) => {
        clearTimeout(deadline);
        log.error({ err }, 'Shutdown failed.');
        resolve(1);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
