/**
 * `hunt` over SigNoz's logs_v2 (the regression corpus stored the way SigNoz's exporter stores it) finds
 * exactly what the stream finds on the same records, and an interrupted hunt resumed from its
 * checkpoint, even one that lost its last checkpoint write, stores no detection twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ruleset } from '../../../src/detect/ruleset.ts';
import type { Detection } from '../../../src/detect/detection.ts';
import { ErrorCode, PipelineError } from '../../../src/errors.ts';
import { runHunt, type HuntResult } from '../../../src/hunt/hunt.ts';
import { inProcessEvaluator } from '../../../src/hunt/evaluators.ts';
import { bodyLayout } from '../../../src/hunt/reader.ts';
import { chooseFilter } from '../../../src/hunt/filter-choice.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';
import type { LogsourceMapping } from '../../../src/map/types.ts';
import type { ClickHouseHandle } from '../../../src/store/client.ts';
import { hasCorpus } from '../../helpers/corpus.ts';
import { corpusRows, corpusRuleset, detectionKey, detectionsTable, multiset, openStore, streamDetections, type CorpusRow } from './setup.ts';
import { createLogsTable, insertRows } from './signoz-table.ts';

const SKIP = hasCorpus ? '' : ' (skipped: ../shared/sigma/regression is absent)';
const FROM = 0n;
const TO = 9_000_000_000_000_000_000n;

let store: { ch: ClickHouseHandle; cleanup: () => Promise<void> };
let mapping: LogsourceMapping;
let rs: Ruleset;
let rows: CorpusRow[];
let full: HuntResult;

interface StoredDetection { rule_id: string; t: string; host: string; body: string; fingerprint: string; source: string }

async function stored(table: string): Promise<StoredDetection[]> {
  const r = await store.ch.client.query({
    query: `SELECT d.rule_id AS rule_id, toString(toUnixTimestamp64Nano(d.event_time)) AS t, d.host AS host, e.body AS body, d.fingerprint AS fingerprint, d.source AS source
            FROM otel_sigma.${table} AS d ANY LEFT JOIN otel_sigma.${table}_events AS e ON d.event_id = e.event_id`,
    format: 'JSONEachRow',
  });
  return r.json<StoredDetection>();
}

describe(`hunt over SigNoz logs_v2${SKIP}`, { skip: !hasCorpus }, () => {
  before(async () => {
    store = openStore('otel-sigma-hunt-');
    mapping = loadLogsourceMapping();
    rs = corpusRuleset(mapping);
    rows = corpusRows();
    await createLogsTable(store.ch.client);
    await insertRows(store.ch.client, rows.map((r) => r.row));
  });
  after(async () => store?.cleanup());

  test('finds exactly the detections the stream finds on the same records', async () => {
    const writer = await detectionsTable(store.ch, 'full');
    full = await runHunt({ client: store.ch.client, evaluator: inProcessEvaluator(rs, mapping), rulesHash: 'corpus', fromNs: FROM, toNs: TO, pageSize: 100, sink: writer });
    await writer.stored();
    await writer.close();
    assert.equal(full.rows, rows.length);
    assert.ok(full.pages > 1, 'several pages');

    const stream = streamDetections(rows.map((r) => r.record), rs, mapping);
    assert.ok(stream.length > 0);
    const got = await stored('full');
    assert.ok(got.every((d) => d.source === 'hunt'));
    // One stored detection per (rule, record): identical records (one recording serving two cases) are one event.
    const want = new Set(stream.map((d) => d.fingerprint));
    assert.equal(got.length, want.size, 'one row per (rule, record)');
    assert.ok(stream.length > want.size, 'the corpus holds identical records');
    assert.equal(full.detections, got.length, 'the hunt counts the detections it stored, not the duplicates it dropped');
    assert.deepEqual(new Set(got.map((d) => d.fingerprint)), want);
    assert.deepEqual(
      new Set(got.map((d) => detectionKey(d.rule_id, d.t, d.host, d.body))),
      new Set(stream.map((d) => detectionKey(d.ruleId, d.eventTimeNs, d.host, d.event.body))),
    );
    // every case×shape the stream finds, hunt finds (the case's rule on the case's own records)
    const found = new Set(got.map((d) => `${d.rule_id}|${d.body}`));
    for (const r of rows) {
      const s = streamDetections([r.record], rs, mapping).filter((d) => d.ruleId === r.c.rule_id);
      for (const d of s) assert.ok(found.has(`${d.ruleId}|${d.event.body}`), `${r.c.rule_file} [${r.shape}] not found by hunt`);
    }
  });

  test('rows stored in both SigNoz body layouts (half the map bodies in body_v2): the stream\'s (rule, record) pairs', async () => {
    // By content, so a record the corpus holds twice is stored the same way both times: one record in both
    // layouts would be two records to hunt (their body texts differ, see below, and so their fingerprints).
    const inBodyV2 = (r: CorpusRow): boolean => {
      const b = r.record.body;
      return typeof b === 'object' && b !== null && !Array.isArray(b) && createHash('sha256').update(r.row.body as string).digest()[0]! % 2 === 1;
    };
    const table = 'signoz_logs.logs_v2_both';
    await createLogsTable(store.ch.client, table);
    await insertRows(store.ch.client, rows.map((r) => (inBodyV2(r) ? { ...r.row, body: '', body_v2: r.record.body } : r.row)), table);
    const writer = await detectionsTable(store.ch, 'both');
    const h = await runHunt({ client: store.ch.client, table, layout: await bodyLayout(store.ch.client, table), evaluator: inProcessEvaluator(rs, mapping), rulesHash: 'corpus', fromNs: FROM, toNs: TO, pageSize: 100, sink: writer });
    await writer.stored();
    await writer.close();
    assert.equal(h.rows, rows.length);
    const got = await stored('both');
    assert.equal(new Set(got.map((d) => d.fingerprint)).size, got.length, 'one row per (rule, record)');
    // A body_v2 map comes back with its keys sorted, nulls and empty objects dropped, an empty `message` added,
    // and date-like strings as ClickHouse's JSON type inferred them on insert ("… 17:32:06.421" → "… 17:32:06.421000000"):
    // the record is the same, its text is not, so a record is its time and host here, and the counts must agree.
    const stream = streamDetections(rows.map((r) => r.record), rs, mapping);
    const streamPairs = new Map(stream.map((d) => [d.fingerprint, `${d.ruleId}|${d.eventTimeNs}|${d.host}`]));
    assert.deepEqual(new Set(got.map((d) => `${d.rule_id}|${d.t}|${d.host}`)), new Set(streamPairs.values()));
    assert.equal(got.length, streamPairs.size, 'as many (rule, record) pairs as the stream');
    // the rows kept in `body` give the stream's very detections (same fingerprint)
    const inBody = new Set(got.map((d) => d.fingerprint));
    const bodyRows = rows.filter((r) => !inBodyV2(r));
    for (const d of streamDetections(bodyRows.map((r) => r.record), rs, mapping)) assert.ok(inBody.has(d.fingerprint), `${d.ruleTitle}: stored as body text, found with another fingerprint`);
    assert.ok(got.length > 0);
  });

  test('interrupted halfway and resumed (even past a lost checkpoint write): no duplicates, nothing missing', async () => {
    assert.ok(full, 'needs the full hunt');
    const dir = mkdtempSync(join(tmpdir(), 'otel-sigma-ckpt-'));
    const ckpt = join(dir, 'hunt.json');
    const writer = await detectionsTable(store.ch, 'resumed');
    const stop = new AbortController();
    const half = Math.ceil(full.pages / 2);
    let pages = 0;
    const common = { client: store.ch.client, evaluator: inProcessEvaluator(rs, mapping), rulesHash: 'corpus', fromNs: FROM, toNs: TO, pageSize: 100, sink: writer, checkpointFile: ckpt };
    const first = await runHunt({
      ...common,
      signal: stop.signal,
      progress: {
        update: () => {
          pages++;
          // keep the checkpoint of page half-1 to play "crashed after storing page half, before its checkpoint"
          if (pages === half - 1) copyFileSync(ckpt, `${ckpt}.prev`);
          if (pages === half) stop.abort();
        },
        end: () => undefined,
      },
    });
    assert.equal(first.complete, false);
    assert.ok(first.rows < full.rows);
    copyFileSync(`${ckpt}.prev`, ckpt);
    const second = await runHunt({ ...common, resume: true });
    await writer.stored();
    await writer.close();
    assert.equal(second.complete, true);
    assert.equal(second.rows, full.rows);
    assert.equal(JSON.parse(readFileSync(ckpt, 'utf8')).done, true);

    const got = await stored('resumed');
    const want = multiset((await stored('full')).map((d) => d.fingerprint));
    assert.deepEqual(multiset(got.map((d) => d.fingerprint)), want, 'a detection stored twice or lost');
  });

  test('a full detection log (ERR_BACKPRESSURE) is waited for, not fatal: every detection is stored once', async () => {
    assert.ok(full, 'needs the full hunt');
    const writer = await detectionsTable(store.ch, 'backpressure');
    let refused = 0;
    const sink = {
      write: (ds: readonly Detection[]): Promise<number> => {
        if (refused < 2) {
          refused++;
          return Promise.reject(new PipelineError(ErrorCode.BACKPRESSURE, 'The detections log is full', true));
        }
        return writer.write(ds);
      },
      stored: () => writer.stored(),
    };
    const h = await runHunt({ client: store.ch.client, evaluator: inProcessEvaluator(rs, mapping), rulesHash: 'corpus', fromNs: FROM, toNs: TO, pageSize: 100, sink });
    await writer.stored();
    await writer.close();
    assert.equal(refused, 2);
    assert.equal(h.complete, true);
    assert.deepEqual(multiset((await stored('backpressure')).map((d) => d.fingerprint)), multiset((await stored('full')).map((d) => d.fingerprint)));
  });

  test('the SQL filter is used by default only when it keeps at most half of a sample; --sql / --no-sql decide alone', async () => {
    const s = { client: store.ch.client, table: 'signoz_logs.logs_v2', fromNs: FROM, toNs: TO, with: '' };
    const keepsAll = await chooseFilter('auto', { ...s, where: "id != ''" }, 100);
    assert.deepEqual([keepsAll.use, keepsAll.sampled, keepsAll.kept], [false, 100, 100]);
    const keepsNone = await chooseFilter('auto', { ...s, where: "id = 'no such row'" }, 100);
    assert.deepEqual([keepsNone.use, keepsNone.kept], [true, 0]);
    const half = rows.filter((r) => r.row.id < rows[Math.floor(rows.length / 2)]!.row.id).length / rows.length;
    assert.ok(half > 0.4 && half <= 0.5);
    assert.equal((await chooseFilter('auto', { ...s, where: `id < '${rows[Math.floor(rows.length / 2)]!.row.id}'` }, 1_000_000)).use, true);
    assert.equal((await chooseFilter('on', { ...s, where: "id != ''" })).use, true);
    assert.equal((await chooseFilter('off', { ...s, where: "id = 'no such row'" })).use, false);
    assert.equal((await chooseFilter('on', { ...s, where: '1' })).use, false, 'a filter that narrows nothing is never used');
  });

  test('resume refuses a checkpoint of another hunt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-sigma-ckpt-'));
    const ckpt = join(dir, 'hunt.json');
    const writer = await detectionsTable(store.ch, 'other');
    await runHunt({ client: store.ch.client, evaluator: inProcessEvaluator(rs, mapping), rulesHash: 'corpus', fromNs: FROM, toNs: TO, pageSize: 200, sink: writer, checkpointFile: ckpt });
    await assert.rejects(
      runHunt({ client: store.ch.client, evaluator: inProcessEvaluator(rs, mapping), rulesHash: 'corpus', fromNs: FROM, toNs: TO, pageSize: 150, sink: writer, checkpointFile: ckpt, resume: true }),
      (e: Error & { code?: string }) => e.code === 'ERR_CONFIG' && /pageSize/.test(e.message),
    );
    await writer.close();
  });
});
