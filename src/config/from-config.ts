/** Builds what `serve` builds from the configuration (ruleset, worker config, ClickHouse), for every command. */
import type { Config } from './schema.ts';
import { loadRuleset, type RuleSelection, type Ruleset } from '../detect/ruleset.ts';
import { loadLogsourceMapping } from '../map/logsource-mapping.ts';
import type { LogsourceMapping } from '../map/types.ts';
import type { WorkerConfig } from '../detect/task.ts';
import type { SecurityOptions } from './tls.ts';
import { openClickHouse, type ClickHouseHandle } from '../store/client.ts';

export function selectionFromConfig(cfg: Readonly<Config>): RuleSelection {
  const r = cfg.rules;
  return {
    ...(r.status.length ? { status: r.status } : {}),
    ...(r.min_level ? { minLevel: r.min_level as RuleSelection['minLevel'] } : {}),
    ...(r.tags.length ? { tags: r.tags } : {}),
    ...(r.exclude_tags.length ? { excludeTags: r.exclude_tags } : {}),
    ...(r.logsources.length ? { logsources: r.logsources } : {}),
    ...(r.disabled_ids.length ? { disabledIds: r.disabled_ids } : {}),
  };
}

/** Reads the logsource mapping files (throws ERR_CONFIG for a bad one) unless given the mapping already read. */
export function workerConfigFrom(cfg: Readonly<Config>, mapping: LogsourceMapping = mappingFromConfig(cfg)): WorkerConfig {
  return {
    rulePaths: cfg.rules.paths,
    mapping,
    placeholders: cfg.rules.placeholders,
    select: selectionFromConfig(cfg),
    maxRequestBytes: cfg.receiver.max_request_bytes,
    limits: { maxRecords: cfg.receiver.max_records_per_request, maxAttributes: cfg.receiver.max_attributes_per_record, maxValueChars: cfg.receiver.max_value_chars },
    keepBody: cfg.storage.store_body,
  };
}

/** The logsource mapping the configuration names (the shipped one plus rules.mapping_files). */
export function mappingFromConfig(cfg: Readonly<Config>): LogsourceMapping {
  return loadLogsourceMapping({ overrideFiles: cfg.rules.mapping_files });
}

export function rulesetFromConfig(cfg: Readonly<Config>, mapping: LogsourceMapping = mappingFromConfig(cfg)): Ruleset {
  return loadRuleset({ paths: cfg.rules.paths, mapping, placeholders: cfg.rules.placeholders, select: selectionFromConfig(cfg) });
}

/** The ClickHouse the configuration names (a server over HTTP, or the embedded one in data_dir). */
export function clickHouseFromConfig(cfg: Readonly<Config>, sec: SecurityOptions, requestTimeoutMs?: number): ClickHouseHandle {
  return openClickHouse({
    url: cfg.storage.clickhouse_url,
    username: cfg.storage.clickhouse_user,
    password: sec.clickhouse.password,
    ...(sec.clickhouse.caCert ? { caCert: sec.clickhouse.caCert } : {}),
    dataDir: cfg.storage.data_dir,
    ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
  });
}
