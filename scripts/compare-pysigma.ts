/**
 * otel-sigma convert vs pySigma's ClickHouse backend on the same stored rows:
 *   node scripts/compare-pysigma.ts        (PYSIGMA_PYTHON: a Python with pysigma + pysigma-backend-clickhouse;
 *                                           default ~/.cache/otel-sigma/pysigma-venv/bin/python)
 * The regression corpus is stored in SigNoz's logs_v2 (embedded ClickHouse, half the map bodies in the
 * body_v2 layout, as the hunt tests store it). Ground truth: the engine's matches, row by row (each row
 * mapped and evaluated alone). Each regression rule is converted by both; each query runs over the table
 * and the rows it returns are compared with the engine's for that rule: `same`, `superset` (every engine
 * row and more), `missing` (some engine row not returned), or `failed` (no query, or ClickHouse refused it).
 *
 * pySigma's backend queries one flat table whose columns are the Sigma field names: it reads a view,
 * `sigma_logs`, with one column per field of the rules, read from the body the way otel-sigma's converter
 * reads it (Windows map bodies: event_data.data[], flat event_data, user_data.data, system fields), from
 * raw XML bodies by `<Data Name='Field'>` (entities decoded) and the System elements, from
 * attributes_string for other rows; keyword searches are hasToken(sigma_body, …); Windows `service:`
 * logsources get pySigma's own Channel conditions; numbers are compared as text. See compare-pysigma.py.
 * Extra rows are counted apart for Windows map bodies, where otel-sigma's `exact` translations claim exactness.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { convertRuleFiles, type ConvertedRule } from '../src/convert/convert.ts';
import { BODY, bodyExpr, IS_JSON, jsonFieldExpr } from '../src/convert/signoz-fields.ts';
import { withClause } from '../src/convert/signoz-fields.ts';
import { loadRuleset } from '../src/detect/ruleset.ts';
import { rowToRecord, type SignozRow } from '../src/hunt/signoz-row.ts';
import { bodyLayout, readPage, sqlString } from '../src/hunt/reader.ts';
import { loadLogsourceMapping } from '../src/map/logsource-mapping.ts';
import { createRecordMapper } from '../src/map/map-records.ts';
import { openClickHouse } from '../src/store/client.ts';
import { loadManifest, SHARED_SIGMA } from '../test/helpers/corpus.ts';
import { corpusRows, type CorpusRow } from '../test/integration/hunt/setup.ts';
import { createLogsTable, insertRows } from '../test/integration/hunt/signoz-table.ts';

/** System fields of a raw XML event: the element holding them. */
const XML_SYSTEM_ELEMENT: Readonly<Record<string, string>> = { EventID: 'EventID', Channel: 'Channel', Computer: 'Computer', Level: 'Level', Task: 'Task', Opcode: 'Opcode', Keywords: 'Keywords' };

const PYTHON = process.env['PYSIGMA_PYTHON'] ?? join(homedir(), '.cache/otel-sigma/pysigma-venv/bin/python');
const TABLE = 'signoz_logs.logs_v2';
type Verdict = 'same' | 'superset' | 'missing' | 'failed';

const files = [...new Set(loadManifest().map((c) => join(SHARED_SIGMA, c.rule_file)))].sort();
const mapping = loadLogsourceMapping();

// pySigma's queries (one Python process for all files).
interface PyOut { file: string; id: string; sql?: string[]; error?: string }
const py = execFileSync(PYTHON, [join(import.meta.dirname, 'compare-pysigma.py'), ...files], { maxBuffer: 256 << 20 }).toString()
  .split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as PyOut);
const pyById = new Map(py.map((p) => [p.id, p]));
const ours = new Map(convertRuleFiles(files, mapping).filter((r) => r.id !== '').map((r) => [r.id, r]));

// The Sigma field names the rules name (pySigma's view needs a column for each).
const fields = new Set<string>(['Channel', 'EventID']);
const collect = (v: unknown): void => {
  if (Array.isArray(v)) v.forEach(collect);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const f = k.split('|')[0]!;
      if (f !== '' && /^[A-Za-z0-9_.-]+$/.test(f)) fields.add(f);
      collect(x);
    }
  }
};
for (const f of files) {
  for (const d of parseAllDocuments(readFileSync(f, 'utf8'))) {
    const det = (d.toJS() as { detection?: Record<string, unknown> } | null)?.detection;
    if (det) for (const [k, v] of Object.entries(det)) if (k !== 'condition' && k !== 'timeframe') collect(v);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'otel-sigma-compare-'));
const ch = openClickHouse({ dataDir: dir });
try {
  await createLogsTable(ch.client);
  // Half the map bodies in body_v2, chosen by content (a record the corpus holds twice is stored alike).
  const inBodyV2 = (r: CorpusRow): boolean => typeof r.record.body === 'object' && r.record.body !== null && !Array.isArray(r.record.body) &&
    createHash('sha256').update(r.row.body as string).digest()[0]! % 2 === 1;
  const stored = corpusRows();
  await insertRows(ch.client, stored.map((r) => (inBodyV2(r) ? { ...r.row, body: '', body_v2: r.record.body } : r.row)));
  const layout = await bodyLayout(ch.client, TABLE);

  // Ground truth: each row mapped and evaluated alone by the engine → rule id → row ids.
  const rs = loadRuleset({ paths: files, mapping, placeholders: {} });
  const rows: SignozRow[] = await readPage(ch.client, { table: TABLE, fromNs: 0n, toNs: 9_000_000_000_000_000_000n, limit: 1_000_000, layout }, undefined);
  const truth = new Map<string, Set<string>>();
  for (const row of rows) {
    const mapper = createRecordMapper({ mapping });
    for (const { event } of [...mapper.map([rowToRecord(row)]), ...mapper.flush()]) {
      for (const m of rs.detector.evaluate(event)) {
        const s = truth.get(m.rule.id) ?? new Set<string>();
        truth.set(m.rule.id, s.add(row.id));
      }
    }
  }

  // pySigma's table: one column per Sigma field, read from the body as otel-sigma's converter reads it.
  const xmlData = (f: string): string => {
    const raw = XML_SYSTEM_ELEMENT[f] !== undefined
      ? `extract(${BODY}, ${sqlString(`<${XML_SYSTEM_ELEMENT[f]}[^>]*>\\s*([^<]*?)\\s*</${XML_SYSTEM_ELEMENT[f]}>`)})`
      : `extract(${BODY}, ${sqlString(`<Data Name=['"]${f.replace(/[.]/g, '\\.')}['"]>([^<]*)</Data>`)})`;
    return `replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(${raw}, '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&apos;', '\\''), '&amp;', '&')`;
  };
  const col = (f: string): string => {
    const e = /^[A-Za-z0-9_]+$/.test(f) ? jsonFieldExpr(f) : undefined;
    return `multiIf(${IS_JSON}, ${e ?? "''"}, startsWith(trimLeft(${BODY}), '<'), ${xmlData(f)}, attributes_string[${sqlString(f)}]) AS \`${f}\``;
  };
  await ch.client.command({
    query: `CREATE VIEW sigma_logs AS SELECT id, ${bodyExpr(layout)} AS ${BODY}, startsWith(${BODY}, '{') AND position(${BODY}, '"event_id"') > 0 AS ${IS_JSON}, ` +
      `${[...fields].map(col).join(', ')} FROM ${TABLE}`,
  });

  const ids = async (sql: string): Promise<Set<string> | string> => {
    try {
      const r = await ch.client.query({ query: sql, format: 'JSONEachRow', clickhouse_settings: { max_query_size: '67108864', max_ast_elements: '50000000', max_expanded_ast_elements: '50000000' } });
      return new Set((await r.json<{ id: string }>()).map((x) => x.id));
    } catch (e) {
      return (e as Error).message.split('\n')[0]!;
    }
  };
  // Rows whose body is a Windows map (either layout): where `exact` is claimed.
  const mapRows = new Set(rows.filter((r) => {
    const body = r.body !== '' ? r.body : JSON.stringify(rowToRecord(r).body ?? '');
    return body.startsWith('{') && body.includes('"event_id"');
  }).map((r) => r.id));
  const judge = (got: Set<string> | string | undefined, want: Set<string>): Judged => {
    if (got === undefined || typeof got === 'string') return { v: 'failed', extra: 0, extraMap: 0, lost: want.size };
    let lost = 0;
    for (const x of want) if (!got.has(x)) lost++;
    let extra = 0;
    let extraMap = 0;
    for (const x of got) {
      if (want.has(x)) continue;
      extra++;
      if (mapRows.has(x)) extraMap++;
    }
    return { v: lost > 0 ? 'missing' : extra > 0 ? 'superset' : 'same', extra, extraMap, lost };
  };

  const tally = { ours: newTally(), py: newTally() };
  const examples: string[] = [];
  const pyMisses: string[] = [];
  for (const [id, r] of ours) {
    const want = truth.get(id) ?? new Set<string>();
    const o = judge(await ids(`${withClause(r.aliases, layout)}SELECT id FROM ${TABLE} WHERE ${r.where}`), want);
    const p = pyById.get(id);
    const pq = p?.sql?.length === 1 ? await ids(`SELECT id FROM (${p.sql[0]!})`) : p?.sql !== undefined ? 'several queries' : undefined;
    const q = judge(pq, want);
    add(tally.ours, o, want.size, r);
    add(tally.py, q, want.size);
    if (q.v === 'failed' && typeof pq === 'string') tally.py.reasons.set(pq.slice(0, 80), (tally.py.reasons.get(pq.slice(0, 80)) ?? 0) + 1);
    if (q.v === 'failed' && pq === undefined) tally.py.reasons.set((p?.error ?? 'no rule').slice(0, 80), (tally.py.reasons.get((p?.error ?? 'no rule').slice(0, 80)) ?? 0) + 1);
    if (o.v === 'missing' && examples.length < 10) examples.push(`otel-sigma misses ${o.lost} row(s) of ${r.file.replace(`${SHARED_SIGMA}/`, '')}`);
    if (q.v === 'missing' && pyMisses.length < 8) pyMisses.push(`pySigma misses ${q.lost}/${want.size} row(s) of ${r.file.replace(`${SHARED_SIGMA}/`, '')}`);
  }

  console.log(`${ours.size} regression rules, ${rows.length} stored rows (${stored.filter(inBodyV2).length} in body_v2), ${[...truth.values()].reduce((n, s) => n + s.size, 0)} engine (rule, row) matches`);
  for (const [name, t] of [['otel-sigma convert', tally.ours], ['pySigma ClickHouse backend', tally.py]] as const) {
    console.log(`${name}: ${t.same} same, ${t.superset} superset, ${t.missing} missing, ${t.failed} failed; ` +
      `engine rows returned ${t.found}/${t.want}, extra rows ${t.extra} (of them Windows map bodies ${t.extraMap})` +
      `${name === 'otel-sigma convert' ? `; exact rules with extra map-body rows: ${t.exactExtra}` : ''}`);
    for (const [reason, n] of [...t.reasons].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  failed ${n}×: ${reason}`);
  }
  for (const e of [...examples, ...pyMisses]) console.log(`  ${e}`);
} finally {
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
}

interface Judged { v: Verdict; extra: number; extraMap: number; lost: number }
interface Tally { same: number; superset: number; missing: number; failed: number; want: number; found: number; extra: number; extraMap: number; exactExtra: number; reasons: Map<string, number> }
function newTally(): Tally {
  return { same: 0, superset: 0, missing: 0, failed: 0, want: 0, found: 0, extra: 0, extraMap: 0, exactExtra: 0, reasons: new Map() };
}
function add(t: Tally, j: Judged, want: number, r?: ConvertedRule): void {
  t[j.v]++;
  t.want += want;
  t.found += want - j.lost;
  t.extra += j.extra;
  t.extraMap += j.extraMap;
  if (r?.translation === 'exact' && j.extraMap > 0) t.exactExtra++;
}
