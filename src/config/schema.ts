/**
 * The one configuration schema. Every key has a default, is settable in the YAML file, by environment
 * variable and by flag (see keys.ts), and is validated once at start-up; unknown keys are errors.
 */
import { DEFAULT_RECORD_LIMITS } from '../decode/record-limits.ts';
import { DEFAULT_MAX_CONNECTIONS } from '../receive/connection-cap.ts';
import { z } from 'zod';
import { SIGMA_LEVELS } from '../detect/types.ts';

const level = z.enum(SIGMA_LEVELS as unknown as [string, ...string[]]);
const hostPort = z.string().refine(
  (s) => /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]*):\d{1,5}$/.test(s) && Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535,
  'expected HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:4319 or [::1]:4319 (port 0 picks a free port)',
);
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a ClickHouse identifier ([A-Za-z_][A-Za-z0-9_]*)');
const url = z.string().refine((s) => s === '' || /^https?:\/\/[^\s]+$/.test(s), 'expected an http:// or https:// URL, or empty');
const strings = z.array(z.string());
/** Booleans come as YAML booleans from the file and as text from the environment and flags. */
const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((s) => s === 'true' || s === '1' || s === 'yes'),
], { error: 'expected true or false' });
const filePath = z.string();

/** 127.0.0.0/8, ::1 (any spelling, also v4-mapped 127.x) and localhost; anything else, including "" and 0.0.0.0, is reachable from outside. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  if (/^(0{0,4}:){2,7}0{0,3}1$/.test(h) || h === '::1') return true;
  return /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export const ConfigSchema = z.strictObject({
  receiver: z.strictObject({
    grpc_listen: hostPort.default('127.0.0.1:4319'),
    http_listen: hostPort.default('127.0.0.1:4320'),
    max_request_bytes: z.number().int().min(1024).max(1024 * 1024 * 1024).default(64 * 1024 * 1024),
    max_connections: z.number().int().min(1).max(1_000_000).default(DEFAULT_MAX_CONNECTIONS),
    max_records_per_request: z.number().int().min(1).max(100_000_000).default(DEFAULT_RECORD_LIMITS.maxRecords),
    max_attributes_per_record: z.number().int().min(1).max(100_000_000).default(DEFAULT_RECORD_LIMITS.maxAttributes),
    max_value_chars: z.number().int().min(1024).max(1024 * 1024 * 1024).default(DEFAULT_RECORD_LIMITS.maxValueChars),
    memory_limit_mib: z.number().int().min(0).max(1024 * 1024).default(2048),
    tls_cert_file: filePath.default(''),
    tls_key_file: filePath.default(''),
    tls_client_ca_file: filePath.default(''),
    auth_token: z.string().default(''),
    auth_tokens_file: filePath.default(''),
    allow_insecure_non_loopback: bool.default(false),
  }).prefault({}),
  rules: z.strictObject({
    paths: strings.default(['rules']),
    placeholders: z.record(z.string(), strings).default({}),
    mapping_files: strings.default([]),
    status: strings.default([]),
    min_level: level.optional(),
    tags: strings.default([]),
    exclude_tags: strings.default([]),
    logsources: strings.default([]),
    disabled_ids: strings.default([]),
  }).prefault({}),
  workers: z.strictObject({
    threads: z.number().int().min(0).max(256).default(0),
    max_queue: z.number().int().min(0).max(100000).default(0),
  }).prefault({}),
  storage: z.strictObject({
    clickhouse_url: url.default(''),
    clickhouse_user: z.string().default('default'),
    clickhouse_password: z.string().default(''),
    clickhouse_password_file: filePath.default(''),
    clickhouse_ca_file: filePath.default(''),
    data_dir: z.string().min(1).default('./data'),
    database: identifier.default('otel_sigma'),
    table: identifier.default('detections'),
    ttl_days: z.number().int().min(0).max(36500).default(90),
    batch_rows: z.number().int().min(1).max(1_000_000).default(50_000),
    insert_interval_ms: z.number().int().min(0).max(600_000).default(1000),
    log_dir: z.string().default(''),
    log_max_bytes: z.number().int().min(1024 * 1024).max(2 ** 50).default(1024 * 1024 * 1024),
    max_value_bytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(1024 * 1024),
    store_body: bool.default(true),
    connect_timeout_s: z.number().int().min(0).max(86_400).default(120),
  }).prefault({}),
  alerts: z.strictObject({
    keep_url: url.default(''),
    keep_api_key: z.string().default(''),
    keep_api_key_file: filePath.default(''),
    keep_ca_file: filePath.default(''),
    min_level: level.default('high'),
    environment: z.string().default(''),
    url_template: z.string().default(''),
    group_by: z.array(z.string().min(1)).min(1).default(['rule_id', 'host']),
    dedup_window_s: z.number().int().min(0).max(86_400).default(300),
    max_per_minute: z.number().int().min(0).max(1_000_000).default(100),
    queue_max_bytes: z.number().int().min(64 * 1024).max(2 ** 40).default(64 * 1024 * 1024),
    redis_url: z.string().refine((s) => s === '' || /^rediss?:\/\/\S+$/.test(s), 'expected redis://HOST:PORT (or rediss://), or empty').default(''),
    resolve_after_s: z.number().int().min(0).max(30 * 86_400).default(0),
  }).prefault({}),
  correlation: z.strictObject({
    lateness_ms: z.number().int().min(0).max(86_400_000).default(120_000),
    max_groups: z.number().int().min(1).max(100_000_000).default(100_000),
    max_groups_per_rule: z.number().int().min(1).max(100_000_000).default(20_000),
    max_events_per_group: z.number().int().min(1).max(10_000_000).default(10_000),
    snapshot_interval_s: z.number().int().min(1).max(86_400).default(30),
    log_max_bytes: z.number().int().min(1024 * 1024).max(2 ** 50).default(256 * 1024 * 1024),
    redis_url: z.string().refine((s) => s === '' || /^rediss?:\/\/\S+$/.test(s), 'expected redis://HOST:PORT (or rediss://), or empty').default(''),
    leader_lease_ms: z.number().int().min(500).max(600_000).default(10_000),
  }).prefault({}),
  logging: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  }).prefault({}),
  shutdown_timeout_ms: z.number().int().min(100).max(300_000).default(25_000),
}).superRefine((c, ctx) => {
  // Cross-key rules; each issue sits on the key to change, so the loader names it with its value.
  const r = c.receiver;
  const issue = (path: string[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
  if ((r.tls_cert_file === '') !== (r.tls_key_file === '')) {
    const missing = r.tls_cert_file === '' ? 'receiver.tls_cert_file' : 'receiver.tls_key_file';
    issue(['receiver', r.tls_cert_file === '' ? 'tls_key_file' : 'tls_cert_file'], `TLS needs both a certificate and its private key; set ${missing} too`);
  }
  if (r.tls_client_ca_file !== '' && r.tls_cert_file === '') {
    issue(['receiver', 'tls_client_ca_file'], 'client certificates (mTLS) need TLS: set receiver.tls_cert_file and receiver.tls_key_file');
  }
  if (r.tls_cert_file === '' && !r.allow_insecure_non_loopback) {
    for (const key of ['grpc_listen', 'http_listen'] as const) {
      const listen = r[key];
      const host = listen.slice(0, listen.lastIndexOf(':'));
      if (!isLoopbackHost(host)) {
        issue(['receiver', key], 'a listener reachable from other hosts needs TLS: set receiver.tls_cert_file and receiver.tls_key_file, ' +
          'or, on a network you trust (e.g. a private container network), set receiver.allow_insecure_non_loopback: true ' +
          '(flag --allow-insecure-non-loopback, env OTEL_SIGMA_ALLOW_INSECURE_NON_LOOPBACK=true)');
      }
    }
  }
  if (c.storage.clickhouse_password !== '' && c.storage.clickhouse_password_file !== '') {
    issue(['storage', 'clickhouse_password_file'], 'set either storage.clickhouse_password or storage.clickhouse_password_file, not both');
  }
  if (c.storage.clickhouse_ca_file !== '' && !c.storage.clickhouse_url.startsWith('https://')) {
    issue(['storage', 'clickhouse_ca_file'], 'a CA file only applies to an https:// storage.clickhouse_url');
  }
  if (c.alerts.keep_ca_file !== '' && !c.alerts.keep_url.startsWith('https://')) {
    issue(['alerts', 'keep_ca_file'], 'a CA file only applies to an https:// alerts.keep_url');
  }
  if (c.alerts.keep_api_key !== '' && c.alerts.keep_api_key_file !== '') {
    issue(['alerts', 'keep_api_key_file'], 'set either alerts.keep_api_key or alerts.keep_api_key_file, not both');
  }
});

export type Config = z.infer<typeof ConfigSchema>;
