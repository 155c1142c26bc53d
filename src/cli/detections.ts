/**
 * `otel-sigma detections`: stored detections, filtered, as a table, JSON lines or CSV. When the
 * embedded data directory is held by a running serve (its serve.json), the rows come from that
 * serve's GET /api/v1/detections; otherwise straight from ClickHouse, as before.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clickHouseFromConfig } from '../config/from-config.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { securityFromConfig, type SecurityOptions } from '../config/tls.ts';
import type { DetectionRow } from '../store/detection-row.ts';
import { DETECTION_COLUMNS } from '../store/detection-row.ts';
import { embeddedStoreHolder } from '../store/client.ts';
import { clickHouseErrorCode } from '../store/retry-policy.ts';
import { DEFAULT_LIMIT, filterTextToParams, parseDetectionsFilter, streamDetections, type DetectionsFilterText } from '../store/detections-query.ts';
import { fetchDetections, ServeUnreachableError, type ServeClientOptions } from './detections-client.ts';
import { readServeInfo, type ServeInfo } from './serve-info.ts';

export { parseDuration } from '../store/detections-query.ts';

export const DETECTION_FORMATS = ['table', 'json', 'csv'] as const;
export type DetectionsFormat = (typeof DETECTION_FORMATS)[number];

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export async function runDetections(opts: Record<string, unknown>, flags: Record<string, string | string[] | undefined>): Promise<number> {
  const cfg = loadConfig({ file: opts['config'] as string | undefined, env: process.env, flags });
  const text: DetectionsFilterText = {
    since: str(opts['since']) ?? '24h',
    eventTime: opts['eventTime'] === true,
    rule: str(opts['rule']),
    level: str(opts['level']),
    host: str(opts['host']),
    source: str(opts['source']),
    tag: str(opts['tag']),
    limit: str(opts['limit']) ?? String(DEFAULT_LIMIT),
  };
  const filter = parseDetectionsFilter(text);
  const format = str(opts['format']) ?? (opts['json'] === true ? 'json' : 'table');
  if (!(DETECTION_FORMATS as readonly string[]).includes(format)) throw new Error(`--format: got "${format}"; expected ${DETECTION_FORMATS.join(', ')}`);
  const limit = filter.limit ?? DEFAULT_LIMIT;
  // One row more than shown: it tells whether the limit cut.
  const ask = limit > 0 ? limit + 1 : 0;
  const out = createOutput(format as DetectionsFormat);
  let shown = 0;
  let cut = false;
  const onRows = (rows: DetectionRow[]): void => {
    for (const r of rows) {
      if (limit > 0 && shown >= limit) {
        cut = true;
        continue;
      }
      shown++;
      out.row(r);
    }
  };

  const sec = securityFromConfig(cfg);
  // The serve that holds the embedded store (serve.json and the store's own lock name the same live process).
  const advertised = cfg.storage.clickhouse_url === '' ? readServeInfo(cfg.storage.data_dir) : undefined;
  const service = advertised !== undefined && embeddedStoreHolder(cfg.storage.data_dir) === advertised.pid ? advertised : undefined;
  let fromService = false;
  if (service !== undefined) {
    if (service.database !== '' && `${service.database}.${service.table}` !== `${cfg.storage.database}.${cfg.storage.table}`) {
      throw new Error(`the running serve (pid ${service.pid}) holds ${cfg.storage.data_dir} and stores into ${service.database}.${service.table}, not ${cfg.storage.database}.${cfg.storage.table}; drop --database/--table or stop it`);
    }
    try {
      await fetchDetections(service, filterTextToParams({ ...text, limit: String(ask) }), serveClientOptions(cfg, sec, opts, service), onRows);
      fromService = true;
    } catch (err) {
      // serve went away since it wrote serve.json: the data directory is free (or says who holds it).
      if (!(err instanceof ServeUnreachableError) || shown > 0) throw err;
    }
  }
  if (!fromService) {
    const ch = clickHouseFromConfig(cfg, sec);
    try {
      await streamDetections(ch.client, { database: cfg.storage.database, table: cfg.storage.table, ...filter, limit: ask }, onRows);
    } catch (err) {
      // 81 UNKNOWN_DATABASE, 60 UNKNOWN_TABLE: nothing was ever stored where this looked; say where that was.
      const code = clickHouseErrorCode(err instanceof Error && err.cause !== undefined ? err.cause : err);
      if (code !== '81' && code !== '60') throw err;
      const where = ch.embedded ? `the embedded store in ${path.resolve(cfg.storage.data_dir)}` : ch.target;
      throw new Error(`no detections table ${cfg.storage.database}.${cfg.storage.table} in ${where}: nothing has been stored there. ` +
        (ch.embedded ? 'Pass the --data-dir serve uses, or --clickhouse-url for a ClickHouse server.' : 'Check --database/--table, or run serve against it first.'), { cause: err });
    } finally {
      await ch.close();
    }
  }
  const what = text.since?.toLowerCase() === 'all' ? '' : ` ${filter.timeColumn === 'event_time' ? 'with event time' : 'detected'} in the last ${text.since}`;
  out.end(`${shown} detection(s)${what}${fromService ? ` (from the running serve, pid ${service?.pid})` : ''}`);
  if (cut) process.stderr.write(`otel-sigma: showing the newest ${limit} detections; more match. Use --limit N for more, --limit 0 for all.\n`);
  return 0;
}

function serveClientOptions(cfg: Readonly<Config>, sec: SecurityOptions, opts: Record<string, unknown>, service: ServeInfo): ServeClientOptions {
  const read = (flag: string, file: string | undefined): Buffer | undefined => {
    if (file === undefined || file === '') return undefined;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`--${flag}: cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`, { cause: err });
    }
  };
  return {
    token: sec.receiver.auth?.tokens[0],
    ...(service.tls ? { serverCert: read('tls-cert-file', cfg.receiver.tls_cert_file) } : {}),
    clientCert: read('client-cert', str(opts['clientCert'])),
    clientKey: read('client-key', str(opts['clientKey'])),
  };
}

interface Output {
  row(r: DetectionRow): void;
  /** `summary` is printed under a table only. */
  end(summary: string): void;
}

const TABLE_HEAD = ['DETECTED AT', 'EVENT TIME', 'LEVEL', 'HOST', 'SOURCE', 'RULE', 'RULE ID'];

function createOutput(format: DetectionsFormat): Output {
  const write = (s: string): void => void process.stdout.write(s);
  switch (format) {
    case 'json':
      return { row: (r) => write(`${JSON.stringify(r)}\n`), end: () => undefined };
    case 'csv':
      write(`${DETECTION_COLUMNS.join(',')}\n`);
      return { row: (r) => write(`${DETECTION_COLUMNS.map((c) => csvField(r[c])).join(',')}\n`), end: () => undefined };
    case 'table': {
      const rows: string[][] = [];
      return {
        row: (r) => rows.push([r.detected_at, r.event_time, r.rule_level, r.host, r.source, r.rule_title, r.rule_id].map(String)),
        end: (summary) => {
          printTable(TABLE_HEAD, rows);
          write(`${summary}\n`);
        },
      };
    }
  }
}

/** RFC 4180: quoted when needed, quotes doubled; arrays and maps as JSON. */
export function csvField(v: unknown): string {
  const s = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v ?? '');
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function printTable(head: string[], rows: string[][]): void {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.min(60, Math.max(...all.map((r) => (r[i] ?? '').length))));
  for (const r of all) process.stdout.write(`${r.map((c, i) => c.slice(0, widths[i]).padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}
