/**
 * The one configuration schema. Every key has a default, is settable in the YAML file, by environment
 * variable and by flag (see keys.ts), and is validated once at start-up; unknown keys are errors.
 */
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

export const ConfigSchema = z.strictObject({
  receiver: z.strictObject({
    grpc_listen: hostPort.default('127.0.0.1:4319'),
    http_listen: hostPort.default('127.0.0.1:4320'),
    max_request_bytes: z.number().int().min(1024).max(1024 * 1024 * 1024).default(64 * 1024 * 1024),
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
    data_dir: z.string().min(1).default('./data'),
    database: identifier.default('otel_sigma'),
    table: identifier.default('detections'),
    ttl_days: z.number().int().min(0).max(36500).default(90),
    batch_rows: z.number().int().min(1).max(1_000_000).default(5000),
    flush_interval_ms: z.number().int().min(1).max(60_000).default(200),
  }).prefault({}),
  alerts: z.strictObject({
    keep_url: url.default(''),
    keep_api_key: z.string().default(''),
    min_level: level.default('high'),
    environment: z.string().default(''),
    url_template: z.string().default(''),
  }).prefault({}),
  logging: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  }).prefault({}),
  shutdown_timeout_ms: z.number().int().min(100).max(300_000).default(25_000),
});

export type Config = z.infer<typeof ConfigSchema>;
