/** `otel-sigma detections [--data-dir DIR | --clickhouse-url URL] [--since 24h] [--rule ID] [--json]` */
import { loadConfig } from '../config/load.ts';
import { securityFromConfig } from '../config/tls.ts';
import { clickHouseFromConfig } from '../config/from-config.ts';
import { queryDetections } from '../store/detections-query.ts';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export function parseDuration(s: string): number {
  const m = /^(\d+)\s*([smhdw])$/.exec(s.trim());
  if (!m) throw new Error(`--since: got "${s}"; expected a number and a unit s|m|h|d|w, e.g. 30m, 24h, 7d`);
  return Number(m[1]) * UNIT_SECONDS[m[2]!]!;
}

export async function runDetections(opts: Record<string, unknown>, flags: Record<string, string | string[] | undefined>): Promise<number> {
  const cfg = loadConfig({ file: opts['config'] as string | undefined, env: process.env, flags });
  const since = typeof opts['since'] === 'string' ? opts['since'] : '24h';
  const sinceSeconds = parseDuration(since);
  const limit = Number(opts['limit'] ?? 100);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit: got "${String(opts['limit'])}"; expected a positive integer`);
  const sec = securityFromConfig(cfg);
  const ch = clickHouseFromConfig(cfg, sec);
  try {
    const rows = await queryDetections(ch.client, {
      database: cfg.storage.database,
      table: cfg.storage.table,
      sinceSeconds,
      ...(typeof opts['rule'] === 'string' ? { ruleId: opts['rule'] } : {}),
      limit,
    });
    if (opts['json']) {
      for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    } else {
      printTable(rows.map((r) => [String(r.event_time), String(r.rule_level), String(r.host), String(r.rule_title), String(r.rule_id)]));
      process.stdout.write(`${rows.length} detection(s) in the last ${since}\n`);
    }
    return 0;
  } finally {
    await ch.close();
  }
}

function printTable(rows: string[][]): void {
  const head = ['EVENT TIME', 'LEVEL', 'HOST', 'RULE', 'RULE ID'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.min(60, Math.max(...all.map((r) => (r[i] ?? '').length))));
  for (const r of all) process.stdout.write(`${r.map((c, i) => c.slice(0, widths[i]).padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}
