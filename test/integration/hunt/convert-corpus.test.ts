/**
 * For every regression case, the rule's converted SQL, run by ClickHouse over SigNoz's logs_v2, returns
 * every row the engine matches (the prefilter may over-approximate, never under-approximate), and
 * `hunt` with the combined prefilter finds exactly what it finds without it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { probePrefilter } from '../../../src/convert/probe.ts';
import { withClause } from '../../../src/convert/signoz-fields.ts';
import { convertRuleFiles, huntFilter, ruleQuery, type ConvertedRule } from '../../../src/convert/convert.ts';
import { inProcessEvaluator } from '../../../src/hunt/evaluators.ts';
import type { Ruleset } from '../../../src/detect/ruleset.ts';
import { runHunt } from '../../../src/hunt/hunt.ts';
import { QUERY_SIZE } from '../../../src/hunt/reader.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';
import type { LogsourceMapping } from '../../../src/map/types.ts';
import type { ClickHouseHandle } from '../../../src/store/client.ts';
import { loadManifest, hasCorpus, SHARED_SIGMA } from '../../helpers/corpus.ts';
import { corpusRows, corpusRuleset, detectionsTable, openStore, streamDetections, type CorpusRow } from './setup.ts';
import { createLogsTable, insertRows, signozRow, type StoredRow } from './signoz-table.ts';

const SKIP = hasCorpus ? '' : ' (skipped: ../shared/sigma/regression is absent)';
let store: { ch: ClickHouseHandle; cleanup: () => Promise<void> };
let mapping: LogsourceMapping;
let rs: Ruleset;
let rows: CorpusRow[];
let converted: Map<string, ConvertedRule>;
/** rule id → the rows the engine matches (one evaluation per row, shared by every case). */
const matchedBy = new Map<string, CorpusRow[]>();
/** rule id → ids of the rows its SQL returns. */
const returnedBy = new Map<string, Set<string>>();

const NOISE = 300;
/** Web-server lines and Windows events of an unrelated channel, stored the SigNoz way. */
function noiseRows(): StoredRow[] {
  const base = 1_790_000_000n * 1_000_000_000n;
  const out: StoredRow[] = [];
  for (let i = 0; i < NOISE; i++) {
    const body = i % 2 === 0
      ? `10.0.0.${i % 250} - - "GET /index.html HTTP/1.1" 200 ${i}`
      : { event_id: { id: 1000 + i, qualifiers: 0 }, provider: { name: 'App' }, channel: 'Application', computer: 'web-1', event_data: { data: [{ Message: `tick ${i}` }] } };
    out.push(signozRow({ timeUnixNano: String(base + BigInt(i)), observedTimeUnixNano: '0', severityNumber: 9, severityText: 'INFO', body, attributes: { 'http.status': 200 }, traceId: '', spanId: '', flags: 0, eventName: '', resource: { attributes: { 'host.name': 'web-1' } }, scope: { name: '', version: '' } }));
  }
  return out;
}

describe(`convert --target clickhouse over the regression corpus${SKIP}`, { skip: !hasCorpus }, () => {
  before(async () => {
    store = openStore('otel-sigma-convert-');
    mapping = loadLogsourceMapping();
    rs = corpusRuleset(mapping);
    rows = corpusRows();
    await createLogsTable(store.ch.client);
    await insertRows(store.ch.client, rows.map((r) => r.row));
    for (const x of rows) {
      for (const id of new Set(streamDetections([x.record], rs, mapping).map((d) => d.ruleId))) matchedBy.set(id, [...(matchedBy.get(id) ?? []), x]);
    }
    converted = new Map(convertRuleFiles(loadManifest().map((c) => join(SHARED_SIGMA, c.rule_file)), mapping).map((c) => [c.id, c]));
    // Rows that are no case's events (other logs a SigNoz table holds): the prefilter should drop them.
    await insertRows(store.ch.client, noiseRows());
    // Every rule's SQL in one query (one column per rule): the same conditions ruleQuery() puts in WHERE.
    const list = [...converted.values()];
    const r = await store.ch.client.query({
      query: `${withClause(new Map(list.flatMap((c) => [...c.aliases])))}SELECT id, [${list.map((c) => `toUInt8(${c.where})`).join(', ')}] AS hits FROM signoz_logs.logs_v2`,
      format: 'JSONEachRow',
      clickhouse_settings: QUERY_SIZE,
    });
    for (const { id, hits } of await r.json<{ id: string; hits: number[] }>()) {
      hits.forEach((h, i) => {
        if (h !== 1) return;
        const rule = list[i]!.id;
        returnedBy.set(rule, (returnedBy.get(rule) ?? new Set()).add(id));
      });
    }
  });
  after(async () => store?.cleanup());

  const stats = { cases: 0, narrowed: 0, exact: 0, returned: 0, total: 0 };
  for (const c of loadManifest()) {
    test(`${c.rule_file}: the SQL returns every row the rule matches`, () => {
      const conv = converted.get(c.rule_id);
      assert.ok(conv, 'rule converted');
      const ids = returnedBy.get(c.rule_id) ?? new Set<string>();
      const matching = matchedBy.get(c.rule_id) ?? [];
      assert.ok(matching.length > 0, 'the case has matching rows');
      const missed = matching.filter((x) => !ids.has(x.row.id));
      assert.equal(missed.length, 0, `SQL missed ${missed.length} matching rows (${missed.map((m) => m.shape).join(',')}):\n${conv.where}`);
      stats.cases++;
      if (conv.where !== '1') stats.narrowed++;
      if (conv.translation === 'exact') stats.exact++;
      stats.returned += ids.size;
      stats.total += rows.length + NOISE;
    });
  }

  test('the query convert prints runs and returns the rule\'s rows', async () => {
    const c = loadManifest()[0]!;
    const conv = converted.get(c.rule_id)!;
    const r = await store.ch.client.query({ query: ruleQuery(conv), format: 'JSONEachRow', clickhouse_settings: QUERY_SIZE });
    const ids = new Set((await r.json<{ id: string }>()).map((x) => x.id));
    assert.deepEqual(ids, returnedBy.get(c.rule_id));
  });

  test('ClickHouse accepts every branch of the combined prefilter (all regexes compile as RE2); a bad one is caught before hunting', async () => {
    const f = huntFilter([...converted.values()]);
    assert.equal(await probePrefilter(store.ch.client, { with: f.with, where: f.hit }), undefined);
    assert.match((await probePrefilter(store.ch.client, { with: '', where: "if(body != '', 1, match(body, 'a(b'))" })) ?? '', /re2/i);
  });

  test('hunt --sql (combined prefilter) finds the same detections as hunt without it', async () => {
    const f = huntFilter([...converted.values()]);
    const full = { with: f.with, where: f.hit };
    assert.notEqual(full.where, '1', 'the corpus rules narrow');
    const plain = await detectionsTable(store.ch, 'plain');
    const pre = await detectionsTable(store.ch, 'prefiltered');
    const common = { client: store.ch.client, evaluator: inProcessEvaluator(rs, mapping), rulesHash: 'corpus', fromNs: 0n, toNs: 9_000_000_000_000_000_000n, pageSize: 500 };
    const a = await runHunt({ ...common, sink: plain });
    const b = await runHunt({ ...common, sink: pre, ...full });
    await plain.close();
    await pre.close();
    assert.ok(b.rows <= a.rows - NOISE, `prefilter read ${b.rows} of ${a.rows} rows`);
    assert.equal(b.detections, a.detections);
    const q = async (t: string): Promise<string[]> => (await (await store.ch.client.query({ query: `SELECT fingerprint FROM otel_sigma.${t} ORDER BY fingerprint`, format: 'JSONEachRow' })).json<{ fingerprint: string }>()).map((x) => x.fingerprint);
    assert.deepEqual(await q('prefiltered'), await q('plain'));
    console.log(`convert: ${stats.cases} cases, ${stats.narrowed} narrowed, ${stats.exact} exact; rule SQL returned ${stats.returned} of ${stats.total} row-checks; hunt --sql read ${b.rows}/${a.rows} rows`);
  });
});
